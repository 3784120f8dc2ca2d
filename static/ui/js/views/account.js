// The Account screen: name, password and disabling the account here; the cards for two-factor
// authentication (views/two-factor.js), passkeys (views/passkeys.js) and the devices signed in
// (views/sessions.js) in modules of their own.

import { api } from "../api.js";
import {
  clearMessages,
  explainPasswordError,
  requireFields,
  setBusy,
  showApiError,
  showClientErrors,
  showErrors,
  showFormError,
  showPasswordRefused,
  showSuccess,
} from "../forms.js";
import { describeError } from "../messages.js";
import { confirmAction, flash, go, setUser, signOutLocally, state } from "../shell.js";
import * as passkeys from "./passkeys.js";
import * as sessions from "./sessions.js";
import * as twoFactor from "./two-factor.js";

const element = (id) => document.getElementById(id);

async function disableAccount(event) {
  event.preventDefault();
  const form = element("disable-form");
  clearMessages(form);
  // Always asked: the API needs it once the login is older than REAUTH_WINDOW, and checks it anyway.
  if (showClientErrors(form, requireFields(form, { password: "Enter your current password." }))) return;
  const confirmed = await confirmAction({
    title: "Disable your account?",
    message:
      "You will be signed out everywhere and can no longer log in. Your books are kept but no one can see them. " +
      "This cannot be undone from this page.",
    confirmLabel: "Disable account",
  });
  if (!confirmed) return;
  setBusy(form, true);
  try {
    await api("users/", { method: "DELETE", json: { password: form.elements.password.value } });
  } catch (error) {
    if (error.name === "SessionEndedError" || showPasswordRefused(form, error, "Your account was not disabled.")) return;
    showFormError(form, `Your account was not disabled. ${describeError(error).form || ""}`);
    return;
  } finally {
    setBusy(form, false);
  }
  form.reset();
  signOutLocally();
  flash("Your account is disabled and you are signed out everywhere.");
  go("#/login", { replace: true });
}

function bindProfile() {
  const form = element("profile-form");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearMessages(form);
    if (showClientErrors(form, requireFields(form, { name: "Enter your full name." }))) return;
    setBusy(form, true);
    try {
      const { data } = await api("users/", { method: "PUT", json: { name: form.elements.name.value.trim() } });
      setUser(data);
      form.elements.name.value = data.name;
      showSuccess(form, "Your name is saved.");
    } catch (error) {
      if (error.name !== "SessionEndedError") showApiError(form, error, "profile");
    } finally {
      setBusy(form, false);
    }
  });
}

function bindPassword() {
  const form = element("password-form");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearMessages(form);
    const elements = form.elements;
    const fields = requireFields(form, {
      current_password: "Enter your current password.",
      new_password: "Choose a new password.",
      confirm_password: "Type the new password again.",
    });
    if (!fields.new_password && !fields.confirm_password && elements.new_password.value !== elements.confirm_password.value) {
      fields.confirm_password = "The two new passwords are not the same. Type them again.";
    }
    if (showClientErrors(form, fields)) return;
    setBusy(form, true);
    try {
      await api("users/password", {
        method: "PUT",
        json: { current_password: elements.current_password.value, new_password: elements.new_password.value },
      });
      form.reset();
      showSuccess(form, "Your password is changed. Your other devices were signed out.");
      await sessions.loadSessions();
    } catch (error) {
      if (error.name !== "SessionEndedError") {
        const described = describeError(error, "password");
        showErrors(form, explainPasswordError(described, "new_password", elements.new_password.value, "New password"));
      }
    } finally {
      setBusy(form, false);
    }
  });
}

export function init() {
  twoFactor.init();
  passkeys.init();
  bindProfile();
  bindPassword();
  sessions.init();
  element("disable-form").addEventListener("submit", disableAccount);
}

/** Password managers tie a password field to the account by the (hidden) username beside it. */
function fillUsernames() {
  document.querySelectorAll("#view-account .account-username").forEach((input) => {
    // The default value too: a form reset (after a password change) keeps it.
    input.defaultValue = state.user?.email ?? "";
    input.value = input.defaultValue;
  });
}

export const accountView = {
  async enter() {
    for (const id of ["profile-form", "password-form", "disable-form"]) {
      const form = element(id);
      form.reset();
      clearMessages(form);
    }
    twoFactor.enter();
    const nameInput = element("profile-name");
    const shownName = state.user.name;
    element("account-email").textContent = state.user.email;
    fillUsernames();
    nameInput.value = shownName;
    const [profile] = await Promise.allSettled([api("users/"), sessions.enter(), passkeys.enter()]);
    if (profile.status === "fulfilled" && state.user) {
      setUser(profile.value.data);
      element("account-email").textContent = state.user.email;
      fillUsernames();
      // The latest name from the API, unless the user has started typing a new one meanwhile.
      if (nameInput.value === shownName) nameInput.value = state.user.name;
    }
  },
};
