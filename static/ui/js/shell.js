// What every screen shares: the signed-in user, navigation, notices and the confirm dialog.

import { clearSession, startSession } from "./session.js";

export const state = {
  user: null, // {_id, name, email, active} while signed in
  lastShelfHash: "#/shelf",
  returnTo: null, // where to go after logging in
  twoFactor: null, // true or false once known (from the login or the Account screen), else null
};

let pendingNotice = null;

/** Go to a screen (a hash such as #/shelf); replace the history entry if asked. */
export function go(hash, { replace = false } = {}) {
  if (location.hash === hash) {
    window.dispatchEvent(new HashChangeEvent("hashchange"));
  } else if (replace) {
    location.replace(hash);
  } else {
    location.hash = hash;
  }
}

/** Show a message at the top of the next screen (kind: success or warning). */
export function flash(text, kind = "success") {
  pendingNotice = { text, kind };
}

/** Show a message at the top of this screen now. */
export function notify(text, kind = "success") {
  const element = document.getElementById("notice");
  element.classList.toggle("notice-warning", kind === "warning");
  element.textContent = text;
}

/** Remove the notice: it was about an earlier action, and a new one has started. */
export function clearNotice() {
  notify("");
}

/** Called on every screen change: show the pending notice, or clear the old one. */
export function showPendingNotice() {
  const notice = pendingNotice;
  pendingNotice = null;
  notify(notice ? notice.text : "", notice ? notice.kind : "success");
}

/** Remember the user after a login or a profile change, and show them in the header. */
export function setUser(user) {
  state.user = user ? { _id: user._id, name: user.name, email: user.email, active: user.active } : null;
  if (!user) {
    state.twoFactor = null;
    forgetShownData();
  }
  renderHeader();
}

/** Keep the tokens of a login and the user it answered. */
export function signIn(data) {
  startSession(data);
  setUser(data);
}

/** Forget the session and the user (the API call that ended it is the caller's). */
export function signOutLocally() {
  clearSession();
  setUser(null);
}

/** Empty what showed the last user's data, so the next one never sees it, even for a moment. */
export function forgetShownData() {
  document.querySelectorAll("[data-private]").forEach((element) => {
    if (element instanceof HTMLInputElement) {
      element.defaultValue = ""; // a form reset restores the default value, so it goes too
    } else {
      element.replaceChildren();
    }
  });
  document.querySelectorAll("form").forEach((form) => form.reset());
}

export function renderHeader() {
  const signedIn = state.user !== null;
  document.querySelectorAll("[data-signed-in]").forEach((element) => {
    element.hidden = !signedIn;
  });
  document.getElementById("user-name").textContent = signedIn ? state.user.name : "";
}

/** Mark the current screen's link in the main navigation. */
export function markNavigation(name) {
  document.querySelectorAll("[data-nav]").forEach((link) => {
    if (link.dataset.nav === name) {
      link.setAttribute("aria-current", "page");
    } else {
      link.removeAttribute("aria-current");
    }
  });
}

/** Ask the user to confirm; resolve true (confirmed) or false (cancelled, Escape). */
export function confirmAction({ title, message, confirmLabel }) {
  const dialog = document.getElementById("confirm-dialog");
  const ok = document.getElementById("confirm-ok");
  const cancel = document.getElementById("confirm-cancel");
  const opener = document.activeElement;
  document.getElementById("confirm-title").textContent = title;
  document.getElementById("confirm-message").textContent = message;
  ok.textContent = confirmLabel;
  return new Promise((resolve) => {
    const finish = (answer) => {
      ok.removeEventListener("click", onOk);
      cancel.removeEventListener("click", onCancel);
      dialog.removeEventListener("cancel", onCancel);
      dialog.removeEventListener("close", onClose);
      if (dialog.open) {
        dialog.close();
      }
      if (opener && opener.isConnected && typeof opener.focus === "function") {
        opener.focus();
      }
      resolve(answer);
    };
    const onOk = () => finish(true);
    const onCancel = () => finish(false);
    // The browser queues "close" as a task: after an Escape, a busy machine can deliver it once the
    // next confirmation is already open. Escape is answered on "cancel" (fired at once) instead, and
    // a "close" that finds the dialog open again belongs to an earlier confirmation.
    const onClose = () => {
      if (!dialog.open) finish(false);
    };
    ok.addEventListener("click", onOk);
    cancel.addEventListener("click", onCancel);
    dialog.addEventListener("cancel", onCancel);
    dialog.addEventListener("close", onClose);
    dialog.showModal();
    cancel.focus(); // the safe choice has the focus: Enter on its own never destroys anything
  });
}

/** Format an ISO date for people (with the time unless dateOnly). */
export function formatDate(iso, { dateOnly = false } = {}) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) {
    return "unknown";
  }
  const style = dateOnly ? { dateStyle: "long" } : { dateStyle: "medium", timeStyle: "short" };
  return new Intl.DateTimeFormat(undefined, style).format(date);
}
