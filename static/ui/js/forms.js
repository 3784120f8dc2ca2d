// Showing errors next to the fields that caused them, and the busy state of forms.

import { describeError, listInWords, missingPasswordRules, passwordRefused } from "./messages.js";

/** The element that shows a form-wide error: #<name>-form-error for #<name>-form. */
function formErrorElement(form) {
  return document.getElementById(`${form.id.replace(/-form$/, "")}-form-error`);
}

function formSuccessElement(form) {
  return document.getElementById(`${form.id.replace(/-form$/, "")}-form-success`);
}

/** The error element of a control: #<control id>-error. */
function fieldErrorElement(control) {
  return document.getElementById(`${control.id}-error`);
}

/** Remove every error and success message of a form. */
export function clearMessages(form) {
  form.querySelectorAll(".field-error").forEach((element) => {
    element.textContent = "";
  });
  form.querySelectorAll("[aria-invalid]").forEach((element) => element.removeAttribute("aria-invalid"));
  const formError = formErrorElement(form);
  if (formError) {
    formError.replaceChildren();
  }
  const success = formSuccessElement(form);
  if (success) {
    success.textContent = "";
  }
}

/** Show one field's error next to it and mark it invalid. */
export function showFieldError(control, message) {
  control.setAttribute("aria-invalid", "true");
  const element = fieldErrorElement(control);
  if (element) {
    element.textContent = message;
  }
}

/** Remove one field's error. */
export function clearFieldError(control) {
  control.removeAttribute("aria-invalid");
  const element = fieldErrorElement(control);
  if (element) {
    element.textContent = "";
  }
}

/** Show a form-wide message (text, and optionally extra nodes such as a button). */
export function showFormError(form, text, ...nodes) {
  const element = formErrorElement(form);
  const paragraph = document.createElement("span");
  paragraph.textContent = text;
  element.replaceChildren(paragraph, ...nodes);
}

/**
 * Show the outcome of a card's action (a list's buttons, not a form): the text in #<card>-status, or
 * in #<card>-error when it is an error, the other line emptied; focus moves to a status if asked.
 */
export function showCardMessage(card, text, { isError = false, focus = false } = {}) {
  document.getElementById(`${card}-error`).textContent = isError ? text : "";
  const status = document.getElementById(`${card}-status`);
  status.textContent = isError ? "" : text;
  if (focus && !isError) status.focus();
}

/** Show a success message in the form's status line. */
export function showSuccess(form, text) {
  const element = formSuccessElement(form);
  if (element) {
    element.textContent = text;
  }
}

/**
 * Show {fields, form, invalid} from describeError (or client checks) on a form, and move focus to
 * the first field in error. Errors about fields the form does not have join the form-wide message.
 */
export function showErrors(form, described) {
  const { fields = {}, invalid = [] } = described;
  const unplaced = [];
  let first = null;
  for (const [name, message] of Object.entries(fields)) {
    const control = form.elements.namedItem(name);
    if (control && control.id) {
      showFieldError(control, message);
      // Focus goes to the first field in error in the form's order, whatever the API's order.
      const before = first && first.compareDocumentPosition(control) & Node.DOCUMENT_POSITION_PRECEDING;
      if (!first || before) first = control;
    } else {
      unplaced.push(message);
    }
  }
  for (const name of invalid) {
    form.elements.namedItem(name)?.setAttribute("aria-invalid", "true");
  }
  const formText = [described.form, ...unplaced].filter(Boolean).join(" ");
  if (formText) {
    showFormError(form, formText, ...(described.nodes || []));
  }
  if (first) {
    first.focus();
  }
  return first;
}

/** Show an API error on a form, in plain words. */
export function showApiError(form, error, context) {
  return showErrors(form, describeError(error, context));
}

/**
 * When the API refused the current password the form sent, say so under its password field, with
 * what did not happen if given ("No passkey was added."); true then, so the caller stops there.
 */
export function showPasswordRefused(form, error, outcome = "") {
  if (!passwordRefused(error)) return false;
  const text = outcome ? `Your password is incorrect. ${outcome}` : "Your password is incorrect.";
  showErrors(form, { fields: { password: text } });
  return true;
}

/** Disable a form's buttons while its request runs. */
export function setBusy(form, busy) {
  form.setAttribute("aria-busy", busy ? "true" : "false");
  form.querySelectorAll("button[type=submit]").forEach((button) => {
    button.disabled = busy;
  });
}

/**
 * Show the errors the page found itself ({name: message}) before sending anything; true when there
 * were any, so the caller stops there.
 */
export function showClientErrors(form, fields) {
  if (!Object.keys(fields).length) return false;
  showErrors(form, { fields });
  return true;
}

/** Check that required fields are filled; return {fields} of the empty ones. */
export function requireFields(form, messages) {
  const fields = {};
  for (const [name, message] of Object.entries(messages)) {
    const control = form.elements.namedItem(name);
    const value = control?.type === "file" ? control.files.length : String(control?.value ?? "").trim();
    if (!value) {
      fields[name] = message;
    }
  }
  return fields;
}

/** The words for a new password's rules not met yet ("" when it meets them all). */
export function passwordRulesText(password) {
  const missing = missingPasswordRules(password);
  return missing.length ? `Still missing: ${listInWords(missing)}.` : "";
}

/**
 * Under each new-password field (an element with data-rules-for), list the rules the password
 * typed so far does not meet yet, as it is typed.
 */
export function bindPasswordRules() {
  document.querySelectorAll("[data-rules-for]").forEach((rules) => {
    const input = document.getElementById(rules.dataset.rulesFor);
    const update = () => {
      const password = input.value;
      const text = passwordRulesText(password);
      rules.classList.toggle("rules-met", Boolean(password) && !text);
      rules.textContent = !password ? "" : text || "Meets every rule (well-known passwords are still refused).";
    };
    input.addEventListener("input", update);
    // A form reset empties the field without an input event.
    input.form.addEventListener("reset", () => setTimeout(update));
  });
}

/** Say which rules a refused new password still misses, instead of listing them all. */
export function explainPasswordError(described, field, password, label = "Password") {
  const missing = missingPasswordRules(password);
  if (described.fields?.[field] && missing.length) {
    described.fields[field] = `${label} still needs ${listInWords(missing)}.`;
  }
  return described;
}
