// The Account screen's Passkeys card: the user's passkeys, adding one (the current password, a
// name, then the browser's own prompt) and removing one after a confirmation.

import { api } from "../api.js";
import {
  clearMessages,
  requireFields,
  setBusy,
  showApiError,
  showCardMessage,
  showClientErrors,
  showFormError,
  showPasswordRefused,
} from "../forms.js";
import { describeError } from "../messages.js";
import { confirmAction, formatDate } from "../shell.js";
import { createPasskey, describeCeremonyError, passkeysSupported } from "../webauthn.js";

const element = (id) => document.getElementById(id);

const passkeysMessage = (text, options) => showCardMessage("passkeys", text, options);

/** A passkey's name as shown (the API may keep an empty one). */
function passkeyName(passkey) {
  return String(passkey.name || "").trim() || "Unnamed passkey";
}

function passkeyItem(passkey) {
  const item = element("passkey-template").content.firstElementChild.cloneNode(true);
  const name = passkeyName(passkey);
  item.querySelector(".passkey-name").textContent = name;
  const used = passkey.last_used_at ? `last used ${formatDate(passkey.last_used_at)}` : "never used yet";
  item.querySelector(".passkey-details").textContent = `Added ${formatDate(passkey.created_at)} · ${used}`;
  // The visible word starts the accessible name; the hidden rest says which passkey.
  item.querySelector(".passkey-remove-name").textContent = ` passkey ${name}`;
  const button = item.querySelector(".passkey-remove");
  button.addEventListener("click", () => removePasskey(passkey, name, button));
  return item;
}

/** Show the list from the API; resolve true when it loaded. */
export async function loadPasskeys() {
  const list = element("passkey-list");
  list.setAttribute("aria-busy", "true");
  try {
    const { data } = await api("users/passkeys");
    list.replaceChildren(...data.map(passkeyItem));
    element("passkeys-empty").hidden = data.length > 0;
    return true;
  } catch (error) {
    if (error.name !== "SessionEndedError") {
      list.replaceChildren();
      element("passkeys-empty").hidden = true;
      passkeysMessage(`Your passkeys could not be loaded. ${describeError(error).form || ""}`, { isError: true });
    }
    return false;
  } finally {
    list.setAttribute("aria-busy", "false");
  }
}

async function removePasskey(passkey, name, button) {
  const confirmed = await confirmAction({
    title: "Remove this passkey?",
    message:
      `You can no longer sign in with “${name}”. Your password still works. ` +
      "Delete the passkey from your device's password manager too.",
    confirmLabel: "Remove passkey",
  });
  if (!confirmed) return;
  button.disabled = true;
  try {
    await api(`users/passkeys/${passkey._id}`, { method: "DELETE" });
  } catch (error) {
    button.disabled = false;
    if (error.name === "SessionEndedError") return;
    if (error.status === 404) {
      // Removed meanwhile (another tab or device): the list catches up.
      await loadPasskeys();
      passkeysMessage(`“${name}” was already removed.`, { focus: true });
      return;
    }
    passkeysMessage(`The passkey was not removed. ${describeError(error).form || ""}`, { isError: true });
    return;
  }
  await loadPasskeys();
  passkeysMessage(`Removed the passkey “${name}”.`, { focus: true });
}

/** Ask the API for creation options: the password proves it is the user at the keyboard. */
async function creationOptions(form) {
  try {
    const { data } = await api("users/passkeys/register/options", {
      method: "POST",
      json: { password: form.elements.password.value },
    });
    return data;
  } catch (error) {
    if (error.name === "SessionEndedError") return null;
    if (!showPasswordRefused(form, error, "No passkey was added.")) showApiError(form, error, "passkeys");
    return null;
  }
}

async function addPasskey(event) {
  event.preventDefault();
  const form = event.currentTarget;
  clearMessages(form);
  passkeysMessage("");
  if (showClientErrors(form, requireFields(form, { password: "Enter your current password." }))) return;
  setBusy(form, true);
  try {
    const options = await creationOptions(form);
    if (!options) return;
    let credential;
    try {
      credential = await createPasskey(options);
    } catch (error) {
      showFormError(form, describeCeremonyError(error, "register") || "Adding the passkey failed. Nothing was saved.");
      return;
    }
    const name = form.elements.name.value.trim();
    const { data } = await api("users/passkeys", { method: "POST", json: name ? { credential, name } : { credential } });
    form.reset();
    await loadPasskeys();
    passkeysMessage(`Added the passkey “${passkeyName(data)}”. You can now sign in with it.`, { focus: true });
  } catch (error) {
    if (error.name === "SessionEndedError") return;
    if (error.status === 401) {
      showFormError(form, "The passkey was not accepted (perhaps it took too long). Nothing was saved. Try again.");
    } else {
      showApiError(form, error, "passkeys");
    }
  } finally {
    setBusy(form, false);
  }
}

export function init() {
  element("passkey-add-form").addEventListener("submit", addPasskey);
}

/** Called when the Account screen opens: an empty form and the latest list. */
export async function enter() {
  const form = element("passkey-add-form");
  form.reset();
  clearMessages(form);
  passkeysMessage("");
  const supported = passkeysSupported();
  // The list and removing work anywhere; adding needs the browser's WebAuthn.
  form.hidden = !supported;
  element("passkeys-unsupported").hidden = supported;
  // Never offer the buttons of a list shown earlier: its passkeys may have been removed since.
  element("passkey-list").replaceChildren();
  element("passkeys-empty").hidden = true;
  await loadPasskeys();
}
