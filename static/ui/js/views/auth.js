// Log in and sign up.

import { api } from "../api.js";
import { clearMessages, setBusy, showApiError, showErrors } from "../forms.js";
import { flash, go, signIn, state } from "../shell.js";

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

async function logIn(email, password) {
  const { data } = await api("users/login", { method: "POST", json: { email, password }, auth: false });
  return data;
}

function bindLogin() {
  const form = document.getElementById("login-form");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearMessages(form);
    const email = form.elements.email.value.trim();
    const password = form.elements.password.value;
    const fields = {};
    if (!email) fields.email = "Enter your email address.";
    if (!password) fields.password = "Enter your password.";
    if (Object.keys(fields).length) {
      showErrors(form, { fields });
      return;
    }
    setBusy(form, true);
    try {
      const data = await logIn(email, password);
      completeLogin(form, data, (user) => `Welcome back, ${firstName(user)}.`);
    } catch (error) {
      showApiError(form, error, "login");
    } finally {
      setBusy(form, false);
    }
  });
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
    if (Object.keys(fields).length) {
      showErrors(form, { fields });
      return;
    }
    setBusy(form, true);
    try {
      await api("users/", { method: "POST", json: { name, email, password }, auth: false });
    } catch (error) {
      showApiError(form, error, "signup");
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

export function init() {
  bindLogin();
  bindSignup();
}

export const loginView = {
  enter() {
    clearMessages(document.getElementById("login-form"));
  },
};

export const signupView = {
  enter() {
    clearMessages(document.getElementById("signup-form"));
  },
};
