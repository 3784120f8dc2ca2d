// The page's entry point: resumes the session, then shows one screen per address (#/shelf ...).

import { api } from "./api.js";
import { bindPasswordRules } from "./forms.js";
import { hasSession, onSessionEnded } from "./session.js";
import { loadCategories } from "./spec.js";
import {
  clearNotice,
  flash,
  go,
  markNavigation,
  renderHeader,
  setUser,
  showPendingNotice,
  signOutLocally,
  state,
} from "./shell.js";
import * as account from "./views/account.js";
import * as auth from "./views/auth.js";
import * as book from "./views/book.js";
import * as bookPage from "./views/book-page.js";
import * as shelf from "./views/shelf.js";

// Screens, by address. Public screens are for signed-out visitors.
const ROUTES = [
  { pattern: /^\/login$/, view: "login", title: "Log in", public: true, screen: auth.loginView },
  { pattern: /^\/signup$/, view: "signup", title: "Create an account", public: true, screen: auth.signupView },
  { pattern: /^\/forgot$/, view: "forgot", title: "Reset your password", public: true, screen: auth.forgotView },
  // The reset email links to #reset?token=...; #/reset is the same screen.
  { pattern: /^\/?reset$/, view: "reset", title: "Choose a new password", public: true, anyone: true, screen: auth.resetView },
  // The welcome email links to #verify?token=...: a button confirms (link scanners press none).
  { pattern: /^\/?verify$/, view: "verify", title: "Confirm your email address", public: true, anyone: true, screen: auth.verifyView },
  { pattern: /^\/shelf$/, view: "shelf", nav: "shelf", title: "My shelf", screen: shelf.shelfView },
  { pattern: /^\/books\/new$/, view: "book", nav: "book-new", title: "Add a book", screen: book.bookView },
  { pattern: /^\/books\/([0-9a-f]{24})\/edit$/, view: "book", title: "Edit a book", screen: book.bookView },
  { pattern: /^\/books\/([0-9a-f]{24})$/, view: "book-page", title: "Book", screen: bookPage.bookPageView },
  { pattern: /^\/account$/, view: "account", nav: "account", title: "Account", screen: account.accountView },
];

let firstScreen = true;
let currentPath = null;

function parseHash() {
  const hash = location.hash.replace(/^#/, "");
  const [path, query = ""] = hash.split("?", 2);
  return { path, query: new URLSearchParams(query) };
}

function showView(name) {
  document.querySelectorAll("[data-view]").forEach((section) => {
    section.hidden = section.dataset.view !== name;
  });
}

async function route() {
  const { path, query } = parseHash();
  const signedIn = state.user !== null;
  if (!path || path === "/") {
    go(signedIn ? "#/shelf" : "#/login", { replace: true });
    return;
  }
  let params = [];
  const match = ROUTES.find((candidate) => {
    const found = candidate.pattern.exec(path);
    if (found) params = found.slice(1);
    return found;
  });
  if (match && !match.public && !signedIn) {
    state.returnTo = location.hash;
    go("#/login", { replace: true });
    return;
  }
  if (match && match.public && signedIn && !match.anyone) {
    go("#/shelf", { replace: true });
    return;
  }
  showPendingNotice();
  const view = match ? match.view : "not-found";
  showView(view);
  markNavigation(match?.nav);
  document.title = `${match ? match.title : "Page not found"} – Book library`;
  // Moving focus to the new screen's heading makes screen readers announce it; not on first load,
  // where focus stays at the start of the page (before the skip link).
  // A new query on the same screen (a shelf filter, a page) leaves focus where it is.
  if (!firstScreen && path !== currentPath) {
    document.querySelector(`[data-view="${view}"] h1`)?.focus();
  }
  firstScreen = false;
  currentPath = path;
  try {
    await match?.screen.enter(params, query);
  } catch (error) {
    if (error?.name !== "SessionEndedError") {
      console.error(error);
    }
  }
}

async function resumeSession() {
  if (!hasSession()) return;
  try {
    const { data } = await api("users/");
    setUser(data);
  } catch (error) {
    if (error?.name !== "SessionEndedError") {
      // The server could not be reached: the refresh token is kept, the user may reload.
      flash("Your session could not be resumed right now. Log in, or reload the page to try again.", "warning");
    }
  }
}

async function logOut() {
  try {
    await api("users/logout", { method: "POST" });
  } catch {
    // Whatever the answer, this tab forgets its tokens.
  }
  signOutLocally();
  flash("You are logged out.");
  go("#/login", { replace: true });
}

async function start() {
  // The category lists of the shelf filter and the book form come from the API's description.
  await loadCategories();
  auth.init();
  bindPasswordRules();
  shelf.init();
  book.init();
  bookPage.init();
  account.init();
  document.getElementById("logout-button").addEventListener("click", logOut);
  // A notice is about the last action ("You are logged out."): the next one sent clears it, so it
  // never sits above that action's own error or next step.
  document.addEventListener("submit", clearNotice, { capture: true });
  onSessionEnded(() => {
    const wasSignedIn = state.user !== null;
    setUser(null);
    if (wasSignedIn) {
      flash("Your session has ended, perhaps because you were signed out on another device. Please log in again.", "warning");
      state.returnTo = null;
      go("#/login", { replace: true });
    }
  });
  renderHeader();
  await resumeSession();
  window.addEventListener("hashchange", route);
  await route();
}

start();
