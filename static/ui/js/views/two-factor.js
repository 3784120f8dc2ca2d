// The Account screen's Two-factor card: setting it up (password, QR code, a first code), the
// recovery codes shown once, and turning it off.
// The profile does not say whether two-factor is on: the page knows it from the login (a code was
// needed or not) or from this screen; otherwise set-up is offered and a 409 answer shows the
// form to turn it off.

import { api } from "../api.js";
import {
  clearMessages,
  requireFields,
  setBusy,
  showApiError,
  showCardMessage,
  showClientErrors,
  showErrors,
  showPasswordRefused,
} from "../forms.js";
import { describeError, passwordRefused } from "../messages.js";
import { state } from "../shell.js";

const element = (id) => document.getElementById(id);

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

/** Show the set-up step: the QR code and secret the API sent, and the form for a first code. */
function showSetup(data, password) {
  const qr = element("two-factor-qr");
  // Only an SVG data: URI from our own API is shown (the policy allows data: for images only).
  if (/^data:image\/svg\+xml[;,]/.test(String(data.qr_code || ""))) {
    qr.src = data.qr_code;
  }
  showTwoFactor("setup");
  setupPassword = password;
  element("two-factor-start-form").reset();
  element("two-factor-secret").textContent = String(data.secret || "").replace(/(.{4})(?=.)/g, "$1 ");
  const form = element("two-factor-enable-form");
  form.reset();
  clearMessages(form);
  element("two-factor-otp").focus();
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
    showSetup(data, password);
  } catch (error) {
    if (error.name === "SessionEndedError" || showPasswordRefused(start, error)) return;
    if (error.status === 409) {
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

/** Two-factor is on: show the recovery codes the API sent, once. */
function showRecoveryCodes(codes) {
  state.twoFactor = true;
  showTwoFactor("codes");
  element("two-factor-code-list").replaceChildren(
    ...codes.map((code) => {
      const item = document.createElement("li");
      item.textContent = code;
      return item;
    }),
  );
  element("two-factor-codes").hidden = false;
  twoFactorMessage("Two-factor authentication is on. From now on, logging in asks for a code from the app.", {
    focus: true,
  });
}

function showEnableError(enable, error) {
  if (error.name === "SessionEndedError") return;
  if (passwordRefused(error)) {
    // The password changed since set-up began (perhaps in another tab).
    showTwoFactor("off");
    twoFactorMessage("Your password has changed since you started. Enter it again to start over.", { isError: true });
  } else if (error.status === 400 && error.error?.otp) {
    showErrors(enable, { fields: { otp: "That code is not valid. Enter the 6 digits the app shows now." } });
  } else if (error.status === 409) {
    // Said on the card: showTwoFactor("off") hides the enable form, and its message with it.
    showTwoFactor("off");
    twoFactorMessage("The set-up changed meanwhile (perhaps in another tab). Start again.", { isError: true });
  } else {
    showApiError(enable, error, "two-factor");
  }
}

async function enableTwoFactor(event) {
  event.preventDefault();
  const enable = element("two-factor-enable-form");
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
    showRecoveryCodes(data.recovery_codes);
  } catch (error) {
    showEnableError(enable, error);
  } finally {
    setBusy(enable, false);
  }
}

function showDisableError(disable, error) {
  if (error.name === "SessionEndedError" || showPasswordRefused(disable, error)) return;
  if (error.status === 400 && error.error?.otp) {
    showErrors(disable, { fields: { otp: "That code is not valid or was already used." } });
  } else if (error.status === 409) {
    state.twoFactor = false;
    showTwoFactor("off");
    twoFactorMessage("Two-factor authentication is already off.");
  } else {
    showApiError(disable, error, "two-factor");
  }
}

async function disableTwoFactor(event) {
  event.preventDefault();
  const disable = element("two-factor-disable-form");
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
    showDisableError(disable, error);
  } finally {
    setBusy(disable, false);
  }
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
  // asks first. (Another screen of the page keeps them until then: see enter.)
  window.addEventListener("beforeunload", (event) => {
    if (codesPending()) event.preventDefault();
  });
  element("two-factor-copy").addEventListener("click", copyCodes);
  element("two-factor-download").addEventListener("click", downloadCodes);
  element("two-factor-saved").addEventListener("click", codesSaved);
  element("two-factor-start-form").addEventListener("submit", startTwoFactor);
  element("two-factor-enable-form").addEventListener("submit", enableTwoFactor);
  element("two-factor-disable-form").addEventListener("submit", disableTwoFactor);
}

/** Called when the Account screen opens: empty forms, and the card as two-factor stands. */
export function enter() {
  for (const id of ["two-factor-start-form", "two-factor-enable-form", "two-factor-disable-form"]) {
    element(id).reset();
    clearMessages(element(id));
  }
  if (!codesPending()) {
    twoFactorMessage("");
    showTwoFactor(state.twoFactor ? "on" : "off");
  }
}
