// The account: name, password, two-factor authentication, passkeys (views/passkeys.js), the devices
// signed in, and disabling it.

import { api } from "../api.js";
import {
  clearMessages,
  explainPasswordError,
  requireFields,
  setBusy,
  showApiError,
  showCardMessage,
  showClientErrors,
  showErrors,
  showFormError,
  showSuccess,
} from "../forms.js";
import { describeError } from "../messages.js";
import { confirmAction, flash, formatDate, go, setUser, signOutLocally, state } from "../shell.js";
import * as passkeys from "./passkeys.js";

const element = (id) => document.getElementById(id);

/** A readable name for a session's browser and system, from its User-Agent. */
export function describeDevice(userAgent) {
  const agent = String(userAgent || "");
  if (!agent) return "Unknown device";
  const browsers = [
    [/Edg\//, "Edge"],
    [/OPR\//, "Opera"],
    [/Firefox\//, "Firefox"],
    [/HeadlessChrome\//, "Headless Chrome"],
    [/Chrome\//, "Chrome"],
    [/Safari\//, "Safari"],
    [/^curl\//, "curl"],
    [/^python-requests\//, "Python requests"],
  ];
  const systems = [
    [/Android/, "Android"],
    [/iPhone|iPad|iPod/, "iOS"],
    [/Windows/, "Windows"],
    [/Mac OS X|Macintosh/, "macOS"],
    [/CrOS/, "ChromeOS"],
    [/Linux/, "Linux"],
  ];
  const browser = browsers.find(([pattern]) => pattern.test(agent))?.[1] ?? agent.split(/[/ ]/)[0];
  const system = systems.find(([pattern]) => pattern.test(agent))?.[1];
  return system ? `${browser} on ${system}` : browser;
}

function sessionItem(session) {
  const item = element("session-template").content.firstElementChild.cloneNode(true);
  const device = describeDevice(session.user_agent);
  item.querySelector(".session-name").textContent = device;
  item.querySelector(".tag-current").hidden = !session.current;
  const details = [`Signed in ${formatDate(session.created_at)}`, `last active ${formatDate(session.last_used_at)}`];
  if (session.ip) details.push(`from ${session.ip}`);
  item.querySelector(".session-details").textContent = details.join(" · ");
  const button = item.querySelector(".session-sign-out");
  // The visible words start the accessible name; the hidden rest says which device.
  item.querySelector(".session-sign-out-name").textContent = session.current
    ? " (the one you are using)"
    : ` (${device})`;
  button.addEventListener("click", () => signOutSession(session, device, button));
  return item;
}

async function loadSessions() {
  element("sessions-error").textContent = "";
  const list = element("session-list");
  const others = element("sessions-sign-out-others");
  list.setAttribute("aria-busy", "true");
  if (!list.children.length) element("sessions-status").textContent = "Loading the list…";
  try {
    const { data } = await api("users/sessions");
    list.replaceChildren(...data.map(sessionItem));
    // With this device alone signed in there is no other device to sign out.
    others.disabled = !data.some((session) => !session.current);
    if (element("sessions-status").textContent === "Loading the list…") element("sessions-status").textContent = "";
  } catch (error) {
    if (error.name !== "SessionEndedError") {
      list.replaceChildren();
      showCardMessage("sessions", `The list could not be loaded. ${describeError(error).form || ""}`, { isError: true });
    }
  } finally {
    list.setAttribute("aria-busy", "false");
  }
}

function sessionsMessage(text) {
  showCardMessage("sessions", text, { focus: true });
}

function sessionsError(error) {
  if (error.name === "SessionEndedError") return;
  showCardMessage("sessions", describeError(error, "sessions").form || "", { isError: true });
}

async function signOutSession(session, device, button) {
  button.disabled = true;
  try {
    await api(`users/sessions/${session._id}`, { method: "DELETE" });
  } catch (error) {
    button.disabled = false;
    sessionsError(error);
    return;
  }
  if (session.current) {
    signOutLocally();
    flash("You signed out of this device.");
    go("#/login", { replace: true });
    return;
  }
  await loadSessions();
  sessionsMessage(`Signed out ${device}.`);
}

async function signOutOthers() {
  try {
    await api("users/sessions", { method: "DELETE" });
  } catch (error) {
    sessionsError(error);
    return;
  }
  await loadSessions();
  sessionsMessage("Every other device is signed out. This one stays signed in.");
}

async function signOutEverywhere() {
  const confirmed = await confirmAction({
    title: "Sign out everywhere?",
    message: "Every device signed in to your account is signed out, this one included. You will need to log in again.",
    confirmLabel: "Sign out everywhere",
  });
  if (!confirmed) return;
  try {
    await api("users/sessions?all=true", { method: "DELETE" });
  } catch (error) {
    sessionsError(error);
    return;
  }
  signOutLocally();
  flash("You are signed out everywhere, this device included.");
  go("#/login", { replace: true });
}

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
    if (error.name === "SessionEndedError") return;
    if (error.status === 400 && error.error?.password) {
      showErrors(form, { fields: { password: "Your password is incorrect. Your account was not disabled." } });
    } else {
      showFormError(form, `Your account was not disabled. ${describeError(error).form || ""}`);
    }
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
      await loadSessions();
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

// Two-factor authentication ------------------------------------------------------------------
// The profile does not say whether two-factor is on: the page knows it from the login (a code was
// needed or not) or from this screen; otherwise set-up is offered and a 409 answer shows the
// form to turn it off.

// The password typed to start set-up, sent again to turn it on; forgotten once set-up ends.
let setupPassword = "";

function showTwoFactor(mode) {
  if (mode !== "setup") setupPassword = "";
  element("two-factor-start-form").hidden = mode !== "off";
  element("two-factor-enable-form").hidden = mode !== "setup";
  element("two-factor-disable-form").hidden = mode !== "on";
  if (mode !== "codes") {
    element("two-factor-codes").hidden = true;
    element("two-factor-code-list").replaceChildren();
    element("two-factor-codes-status").textContent = "";
  }
  if (mode !== "setup") {
    element("two-factor-qr").removeAttribute("src");
    element("two-factor-secret").textContent = "";
  }
}

function twoFactorMessage(text, options) {
  showCardMessage("two-factor", text, options);
}

async function startTwoFactor(event) {
  event.preventDefault();
  twoFactorMessage("");
  const start = element("two-factor-start-form");
  clearMessages(start);
  if (showClientErrors(start, requireFields(start, { password: "Enter your current password." }))) return;
  const password = start.elements.password.value;
  setBusy(start, true);
  try {
    const { data } = await api("users/2fa/setup", { method: "POST", json: { password } });
    const qr = element("two-factor-qr");
    // Only an SVG data: URI from our own API is shown (the policy allows data: for images only).
    if (/^data:image\/svg\+xml[;,]/.test(String(data.qr_code || ""))) {
      qr.src = data.qr_code;
    }
    showTwoFactor("setup");
    setupPassword = password;
    start.reset();
    element("two-factor-secret").textContent = String(data.secret || "").replace(/(.{4})(?=.)/g, "$1 ");
    const form = element("two-factor-enable-form");
    form.reset();
    clearMessages(form);
    element("two-factor-otp").focus();
  } catch (error) {
    if (error.name === "SessionEndedError") return;
    if (error.status === 400 && error.error?.password) {
      showErrors(start, { fields: { password: "Your password is incorrect." } });
    } else if (error.status === 409) {
      state.twoFactor = true;
      showTwoFactor("on");
      twoFactorMessage("Two-factor authentication is already on for your account.");
    } else {
      twoFactorMessage(describeError(error, "two-factor").form || "", { isError: true });
    }
  } finally {
    setBusy(start, false);
  }
}

function bindTwoFactor() {
  element("two-factor-start-form").addEventListener("submit", startTwoFactor);
  const enable = element("two-factor-enable-form");
  enable.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearMessages(enable);
    twoFactorMessage("");
    const otp = enable.elements.otp.value.replace(/\s/g, "");
    if (!/^\d{6}$/.test(otp)) {
      showErrors(enable, { fields: { otp: "Enter the 6 digits your authenticator app shows now." } });
      return;
    }
    setBusy(enable, true);
    try {
      const { data } = await api("users/2fa/enable", { method: "POST", json: { password: setupPassword, otp } });
      state.twoFactor = true;
      showTwoFactor("codes");
      element("two-factor-code-list").replaceChildren(
        ...data.recovery_codes.map((code) => {
          const item = document.createElement("li");
          item.textContent = code;
          return item;
        }),
      );
      element("two-factor-codes").hidden = false;
      twoFactorMessage("Two-factor authentication is on. From now on, logging in asks for a code from the app.", {
        focus: true,
      });
    } catch (error) {
      if (error.name === "SessionEndedError") return;
      if (error.status === 400 && error.error?.password) {
        // The password changed since set-up began (perhaps in another tab).
        showTwoFactor("off");
        twoFactorMessage("Your password has changed since you started. Enter it again to start over.", { isError: true });
      } else if (error.status === 400 && error.error?.otp) {
        showErrors(enable, { fields: { otp: "That code is not valid. Enter the 6 digits the app shows now." } });
      } else if (error.status === 409) {
        showErrors(enable, { form: "The set-up changed meanwhile (perhaps in another tab). Start again." });
        showTwoFactor("off");
      } else {
        showApiError(enable, error, "two-factor");
      }
    } finally {
      setBusy(enable, false);
    }
  });
  const disable = element("two-factor-disable-form");
  disable.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearMessages(disable);
    twoFactorMessage("");
    const fields = requireFields(disable, {
      password: "Enter your password.",
      otp: "Enter a code from your authenticator app, or a recovery code.",
    });
    if (showClientErrors(disable, fields)) return;
    setBusy(disable, true);
    try {
      await api("users/2fa/disable", {
        method: "POST",
        json: { password: disable.elements.password.value, otp: disable.elements.otp.value.replace(/[\s-]/g, "") },
      });
      state.twoFactor = false;
      disable.reset();
      showTwoFactor("off");
      twoFactorMessage("Two-factor authentication is off. Logging in asks for your password only.", { focus: true });
    } catch (error) {
      if (error.name === "SessionEndedError") return;
      if (error.status === 400 && error.error?.password) {
        showErrors(disable, { fields: { password: "Your password is incorrect." } });
      } else if (error.status === 400 && error.error?.otp) {
        showErrors(disable, { fields: { otp: "That code is not valid or was already used." } });
      } else if (error.status === 409) {
        state.twoFactor = false;
        showTwoFactor("off");
        twoFactorMessage("Two-factor authentication is already off.");
      } else {
        showApiError(disable, error, "two-factor");
      }
    } finally {
      setBusy(disable, false);
    }
  });
}

/** Fresh recovery codes are on the screen and the user has not said they are saved. */
function codesPending() {
  return !element("two-factor-codes").hidden && element("two-factor-code-list").children.length > 0;
}

function recoveryCodes() {
  return [...element("two-factor-code-list").children].map((item) => item.textContent);
}

function codesStatus(text) {
  element("two-factor-codes-status").textContent = text;
}

async function copyCodes() {
  const text = recoveryCodes().join("\n");
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // No clipboard access (an older browser, a refused permission): select the codes instead,
    // so that the system's own Copy works.
    const selection = window.getSelection();
    const range = document.createRange();
    range.selectNodeContents(element("two-factor-code-list"));
    selection.removeAllRanges();
    selection.addRange(range);
    codesStatus("The codes are selected: copy them with your device's Copy command.");
    return;
  }
  codesStatus("The recovery codes are copied. Paste them into your password manager or a safe note.");
}

function downloadCodes() {
  const lines = [
    `Book library recovery codes for ${state.user?.email ?? "your account"}`,
    "Each code logs you in once, instead of a code from your authenticator app.",
    "",
    ...recoveryCodes(),
    "",
  ];
  const url = URL.createObjectURL(new Blob([lines.join("\n")], { type: "text/plain" }));
  const link = document.createElement("a");
  link.href = url;
  link.download = "book-library-recovery-codes.txt";
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  // Revoked once the browser has started the download, which reads the object URL at once.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  codesStatus("The recovery codes are downloaded as book-library-recovery-codes.txt.");
}

/** The user has kept the codes: hide them for good and offer the form that turns two-factor off. */
function codesSaved() {
  showTwoFactor("on");
  twoFactorMessage("Two-factor authentication is on.", { focus: true });
}

export function init() {
  // Fresh recovery codes are shown once: closing or reloading the tab before "I have saved them"
  // asks first. (Another screen of the page keeps them until then: see accountView.)
  window.addEventListener("beforeunload", (event) => {
    if (codesPending()) event.preventDefault();
  });
  element("two-factor-copy").addEventListener("click", copyCodes);
  element("two-factor-download").addEventListener("click", downloadCodes);
  element("two-factor-saved").addEventListener("click", codesSaved);
  bindTwoFactor();
  passkeys.init();
  bindProfile();
  bindPassword();
  element("sessions-status").tabIndex = -1;
  element("sessions-reload").addEventListener("click", async () => {
    await loadSessions();
    sessionsMessage("The list is up to date.");
  });
  element("sessions-sign-out-others").addEventListener("click", signOutOthers);
  element("sessions-sign-out-everywhere").addEventListener("click", signOutEverywhere);
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
    for (const id of ["profile-form", "password-form", "disable-form", "two-factor-start-form"]) {
      const form = element(id);
      form.reset();
      clearMessages(form);
    }
    showCardMessage("sessions", "");
    for (const id of ["two-factor-enable-form", "two-factor-disable-form"]) {
      element(id).reset();
      clearMessages(element(id));
    }
    if (!codesPending()) {
      twoFactorMessage("");
      showTwoFactor(state.twoFactor ? "on" : "off");
    }
    // Never offer the buttons of a list shown earlier: its sessions may have ended since.
    element("session-list").replaceChildren();
    const nameInput = element("profile-name");
    const shownName = state.user.name;
    element("account-email").textContent = state.user.email;
    fillUsernames();
    nameInput.value = shownName;
    const [profile] = await Promise.allSettled([api("users/"), loadSessions(), passkeys.enter()]);
    if (profile.status === "fulfilled" && state.user) {
      setUser(profile.value.data);
      element("account-email").textContent = state.user.email;
      fillUsernames();
      // The latest name from the API, unless the user has started typing a new one meanwhile.
      if (nameInput.value === shownName) nameInput.value = state.user.name;
    }
  },
};
