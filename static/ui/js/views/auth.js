// Log in (with a two-factor code when the account asks for one), sign up, and the password reset.

import { api } from "../api.js";
import {
  clearMessages,
  explainPasswordError,
  setBusy,
  showApiError,
  showClientErrors,
  showErrors,
  showFormError,
  showSuccess,
} from "../forms.js";
import { describeError } from "../messages.js";
import { clearNotice, flash, go, signIn, signOutLocally, state } from "../shell.js";
import { describeCeremonyError, getPasskey, passkeysSupported } from "../webauthn.js";

function firstName(user) {
  return String(user?.name || "").split(/\s+/)[0] || "there";
}

/** Finish a login: keep the tokens and go where the user was heading. */
function completeLogin(form, data, welcome) {
  if (!data?.token) {
    // Room for a second sign-in step (two-factor codes): the API would answer without a token.
    showErrors(form, { form: "This account needs a second sign-in step that this page cannot do yet." });
    return;
  }
  signIn(data);
  form.reset();
  flash(welcome(data));
  const target = state.returnTo || "#/shelf";
  state.returnTo = null;
  go(target, { replace: true });
}

async function logIn(email, password, otp) {
  const json = otp ? { email, password, otp } : { email, password };
  const { data } = await api("users/login", { method: "POST", json, auth: false });
  return data;
}

/** Show or hide the login's code field (asked for only after the API answers otp_required). */
function showCodeField(form, shown) {
  document.getElementById("login-otp-field").hidden = !shown;
  if (!shown) form.elements.otp.value = "";
}

function bindLogin() {
  const form = document.getElementById("login-form");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearMessages(form);
    const email = form.elements.email.value.trim();
    const password = form.elements.password.value;
    const codeAsked = !document.getElementById("login-otp-field").hidden;
    // Spaces and hyphens people type inside a code are dropped (recovery codes keep their letters).
    const otp = codeAsked ? form.elements.otp.value.replace(/[\s-]/g, "") : "";
    const fields = {};
    if (!email) fields.email = "Enter your email address.";
    if (!password) fields.password = "Enter your password.";
    if (codeAsked && !otp) fields.otp = "Enter the code from your authenticator app, or a recovery code.";
    if (showClientErrors(form, fields)) return;
    setBusy(form, true);
    try {
      const data = await logIn(email, password, otp);
      // A login that needed no code means two-factor is off; the Account screen shows it so.
      state.twoFactor = Boolean(otp);
      showCodeField(form, false);
      completeLogin(form, data, (user) => `Welcome back, ${firstName(user)}.`);
    } catch (error) {
      if (error?.status === 401 && error.error === "otp_required") {
        // The password was right; the account asks for a second step.
        showCodeField(form, true);
        showSuccess(form, "");
        form.elements.otp.focus();
      } else if (error?.status === 401 && codeAsked) {
        showErrors(form, {
          fields: { otp: "That code is not valid or was already used. Enter the code the app shows now, or an unused recovery code." },
        });
      } else {
        showApiError(form, error, "login");
      }
    } finally {
      setBusy(form, false);
    }
  });
}

/**
 * Sign in with a passkey. Without an email the browser offers the passkeys it holds for this site
 * (discoverable credentials); with one, the API lists that account's passkeys first, for browsers
 * and security keys that can only answer for a credential they are told about.
 */
async function logInWithPasskey(form, button) {
  clearNotice(); // as a submitted form does (app.js): the notice was about the last action
  clearMessages(form);
  showCodeField(form, false);
  const email = form.elements.email.value.trim();
  setBusy(form, true);
  button.disabled = true;
  try {
    const { data: options } = await api("users/login/passkey/options", {
      method: "POST",
      json: email ? { email } : {},
      auth: false,
    });
    const credential = await getPasskey(options);
    const { data } = await api("users/login/passkey", { method: "POST", json: { credential }, auth: false });
    // The Account screen finds out for itself whether two-factor is on.
    state.twoFactor = null;
    completeLogin(form, data, (user) => `Welcome back, ${firstName(user)}.`);
  } catch (error) {
    const refused = describeCeremonyError(error, "login");
    if (refused) {
      showFormError(form, refused);
    } else if (error?.status === 401) {
      showFormError(
        form,
        "That passkey was not accepted. It may have been removed from your account. Try again, or log in with your password.",
      );
    } else {
      showApiError(form, error, "passkey-login");
    }
  } finally {
    setBusy(form, false);
    button.disabled = false;
  }
}

function bindPasskeyLogin() {
  const form = document.getElementById("login-form");
  const button = document.getElementById("login-passkey");
  // No PublicKeyCredential (an old browser, or a page that is not a secure context): no button.
  document.getElementById("login-passkey-option").hidden = !passkeysSupported();
  button.addEventListener("click", () => logInWithPasskey(form, button));
}

function bindSignup() {
  const form = document.getElementById("signup-form");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearMessages(form);
    const name = form.elements.name.value.trim();
    const email = form.elements.email.value.trim();
    const password = form.elements.password.value;
    const fields = {};
    if (!name) fields.name = "Enter your full name.";
    if (!email) fields.email = "Enter your email address.";
    if (!password) fields.password = "Choose a password.";
    if (showClientErrors(form, fields)) return;
    setBusy(form, true);
    try {
      await api("users/", { method: "POST", json: { name, email, password }, auth: false });
    } catch (error) {
      showErrors(form, explainPasswordError(describeError(error, "signup"), "password", password));
      setBusy(form, false);
      return;
    }
    try {
      const data = await logIn(email, password);
      completeLogin(form, data, (user) => `Your account is ready. Welcome, ${firstName(user)}!`);
    } catch {
      flash("Your account is ready. Please log in.");
      go("#/login", { replace: true });
    } finally {
      setBusy(form, false);
    }
  });
}

function bindForgot() {
  const form = document.getElementById("forgot-form");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearMessages(form);
    const email = form.elements.email.value.trim();
    if (!email) {
      showErrors(form, { fields: { email: "Enter your email address." } });
      return;
    }
    setBusy(form, true);
    try {
      await api("users/password/forgot", { method: "POST", json: { email }, auth: false });
      // The same words whether or not an account uses this address: the page reveals nothing.
      showSuccess(
        form,
        "If an account uses this email address, we have sent it a link to choose a new password. " +
          "Check your inbox (and spam folder); the link works once and for a limited time.",
      );
      document.getElementById("forgot-form-success").focus();
    } catch (error) {
      showApiError(form, error, "forgot");
    } finally {
      setBusy(form, false);
    }
  });
}

let resetToken = "";

function bindReset() {
  const form = document.getElementById("reset-form");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearMessages(form);
    const password = form.elements.new_password.value;
    const confirm = form.elements.confirm_password.value;
    const fields = {};
    if (!password) fields.new_password = "Choose a new password.";
    if (!confirm) fields.confirm_password = "Type the new password again.";
    if (password && confirm && password !== confirm) {
      fields.confirm_password = "The two new passwords are not the same. Type them again.";
    }
    if (showClientErrors(form, fields)) return;
    setBusy(form, true);
    try {
      await api("users/password/reset", {
        method: "POST",
        json: { token: resetToken, new_password: password },
        auth: false,
      });
      // Every session of the account has ended, this tab's included.
      if (state.user) signOutLocally();
      form.reset();
      form.hidden = true;
      document.getElementById("reset-done").hidden = false;
      document.getElementById("reset-done-text").focus();
    } catch (error) {
      if (error?.status === 400 && error.error && typeof error.error === "object" && error.error.token) {
        const link = document.createElement("a");
        link.href = "#/forgot";
        link.textContent = "Ask for a new link";
        showErrors(form, {
          form: "This reset link is invalid, was already used or has expired.",
          nodes: [link],
        });
      } else {
        showErrors(form, explainPasswordError(describeError(error, "reset"), "new_password", password, "New password"));
      }
    } finally {
      setBusy(form, false);
    }
  });
}

let verifyToken = "";

function bindVerify() {
  const form = document.getElementById("verify-form");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearMessages(form);
    setBusy(form, true);
    try {
      await api("users/verify", { method: "POST", json: { token: verifyToken }, auth: false });
      verifyToken = "";
      form.hidden = true;
      document.getElementById("verify-done").hidden = false;
      document.getElementById("verify-done-text").focus();
    } catch (error) {
      if (error?.status === 400 && error.error && typeof error.error === "object" && error.error.token) {
        showErrors(form, { form: "This link is invalid, was already used or has expired." });
      } else {
        showApiError(form, error, "verify");
      }
    } finally {
      setBusy(form, false);
    }
  });
}

export function init() {
  bindLogin();
  bindPasskeyLogin();
  bindSignup();
  bindForgot();
  bindReset();
  bindVerify();
  document.getElementById("reset-done-text").tabIndex = -1;
  document.getElementById("verify-done-text").tabIndex = -1;
}

export const loginView = {
  enter() {
    const form = document.getElementById("login-form");
    clearMessages(form);
    showCodeField(form, false);
  },
};

export const forgotView = {
  enter() {
    const form = document.getElementById("forgot-form");
    form.reset();
    clearMessages(form);
  },
};

export const resetView = {
  enter(params, query) {
    const form = document.getElementById("reset-form");
    resetToken = query.get("token") || "";
    // Keep the token out of the address bar and the history once it is read.
    history.replaceState(null, "", "#/reset");
    form.reset();
    clearMessages(form);
    form.hidden = false;
    document.getElementById("reset-done").hidden = true;
    if (!resetToken) {
      const link = document.createElement("a");
      link.href = "#/forgot";
      link.textContent = "Ask for a new link";
      showErrors(form, { form: "This address has no reset token. Open the link from the email again.", nodes: [link] });
    }
  },
};

export const verifyView = {
  enter(params, query) {
    const form = document.getElementById("verify-form");
    verifyToken = query.get("token") || "";
    // Keep the token out of the address bar and the history once it is read.
    history.replaceState(null, "", "#/verify");
    clearMessages(form);
    form.hidden = false;
    document.getElementById("verify-done").hidden = true;
    const button = form.querySelector("button[type=submit]");
    button.disabled = !verifyToken;
    if (!verifyToken) {
      showErrors(form, { form: "This address has no confirmation token. Open the link from the email again." });
    }
  },
};

export const signupView = {
  enter() {
    clearMessages(document.getElementById("signup-form"));
  },
};
