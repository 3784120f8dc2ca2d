// The journey's first steps: the login screen, its errors, signing up, logging out and in again.

import assert from "node:assert/strict";

import {
  expectFieldError,
  expectHeading,
  expectLabelledControls,
  expectNotice,
  expectText,
  expectUserName,
  runAxe,
  tabTo,
} from "./checks.mjs";
import { BASE_URL, PASSWORD, PHONE_AGENT } from "./config.mjs";
import { Device } from "./device.mjs";
import { expectNoPasskeysWithoutWebAuthn } from "./passkeys.mjs";

/** Someone already uses this address, to see the sign-up conflict; return it. */
export async function takenAddress(j) {
  const { size } = j;
  const taken = `taken-${size.name}@example.com`;
  const seed = await new Device(PHONE_AGENT).raw("POST", "users/", { json: { name: "Some One", email: taken, password: PASSWORD } });
  assert.equal(seed.status, 201);
  return taken;
}

/** A visitor gets the login screen. */
export async function visitorGetsLogin(j) {
  const { page, context, step, login, screenshot } = j;
  step("a visitor gets the login screen");
  await page.goto(`${BASE_URL}/ui/`);
  await expectHeading(page, "Log in");
  assert.equal(await page.title(), "Log in – Book library");
  assert.equal(await login.getByRole("button", { name: "Sign in with a passkey" }).isVisible(), true);
  await expectNoPasskeysWithoutWebAuthn(context);
  assert.equal(await page.locator(".main-nav").isVisible(), false, "no navigation before logging in");
  await expectLabelledControls(page);
  await runAxe(page, "login");
  await screenshot("login");
}

/** Login errors in plain words: empty fields, rate limit, no network. */
export async function loginErrors(j) {
  const { page, size, step, login } = j;
  step("login errors in plain words: empty fields, rate limit, no network");
  await login.getByRole("button", { name: "Log in" }).click();
  await expectFieldError(page, "#login-email", "Enter your email address.");
  await expectFieldError(page, "#login-password", "Enter your password.");
  assert.equal(await page.evaluate(() => document.activeElement.id), "login-email", "focus goes to the first field in error");
  await login.getByLabel("Email address").fill(size.email);
  await login.getByLabel("Password").fill(PASSWORD);
  await page.route("**/users/login", (route) =>
    route.fulfill({
      status: 429,
      headers: { "Content-Type": "application/json", "Retry-After": "42" },
      body: JSON.stringify({ message: "Too Many Requests", data: null, error: "Too Many Requests" }),
    }),
    { times: 1 },
  );
  await login.getByRole("button", { name: "Log in" }).click();
  await expectText(page.locator("#login-form-error"), "Too many attempts in a short time. Wait 42 seconds, then try again.");
  assert.equal(await page.locator("#login-form-error").getAttribute("role"), "alert");
  await page.route("**/users/login", (route) => route.abort("connectionrefused"), { times: 1 });
  await login.getByRole("button", { name: "Log in" }).click();
  await expectText(page.locator("#login-form-error"), "The library could not be reached. Check your connection and try again.");
  await login.getByRole("button", { name: "Log in" }).click();
  await expectText(page.locator("#login-form-error"), "That email address and password do not match an account.");
  assert.equal(await page.locator("#login-password").getAttribute("aria-invalid"), "true");
}

/** Sign up: the API's validation errors next to each field. */
export async function signUpErrors(j) {
  const { page, size, step, login, signup, screenshot } = j;
  step("sign up: the API's validation errors next to each field");
  await login.getByRole("link", { name: "Create an account" }).click();
  await expectHeading(page, "Create an account");
  await signup.getByLabel("Full name").fill(size.user.split(" ")[0]);
  await signup.getByLabel("Email address").fill("not-an-address");
  await signup.getByLabel("Password").fill("password");
  await signup.getByRole("button", { name: "Create account" }).click();
  await expectFieldError(page, "#signup-name", "Full name must have 2 to 30 words, for example Ada Lovelace.");
  await expectFieldError(page, "#signup-email", "Email address must be a valid address such as name@example.com.");
  // The error names only the rules still missing, as the hint under the field did while typing.
  await expectFieldError(page, "#signup-password", "Password still needs an upper-case letter, a digit and a symbol.");
  await expectText(page.locator("#signup-password-rules"), "Still missing: an upper-case letter, a digit and a symbol.");
  assert.equal(await page.locator("#notice").innerText(), "", "no notice from an earlier screen");
  assert.equal(await page.evaluate(() => document.activeElement.id), "signup-name");
  await expectLabelledControls(page);
  await runAxe(page, "sign-up with errors");
  await screenshot("signup-errors");
}

/** Sign up: an address already in use. */
export async function signUpConflict(j, taken) {
  const { page, size, step, signup } = j;
  step("sign up: an address already in use");
  await signup.getByLabel("Full name").fill(size.user);
  await signup.getByLabel("Email address").fill(taken);
  await signup.getByLabel("Password").fill("Correct");
  await expectText(page.locator("#signup-password-rules"), "Still missing: at least 8 characters, a digit and a symbol.");
  await signup.getByLabel("Password").fill(PASSWORD);
  await expectText(page.locator("#signup-password-rules"), "Meets every rule");
  await signup.getByRole("button", { name: "Create account" }).click();
  await expectFieldError(page, "#signup-email", "An account with this email address already exists.");
  assert.equal(await page.locator("#signup-name").getAttribute("aria-invalid"), null, "only the email is in error");
}

/** Sign up, then land on the empty shelf signed in. */
export async function signUp(j) {
  const { page, size, step, signup } = j;
  step("sign up, then land on the empty shelf signed in");
  await signup.getByLabel("Email address").fill(size.email);
  await signup.getByRole("button", { name: "Create account" }).click();
  await expectHeading(page, "My shelf");
  await expectNotice(page, `Your account is ready. Welcome, ${size.user.split(" ")[0]}!`);
  await expectUserName(page, size.user);
  await expectText(page.locator("#shelf-empty"), "Your shelf is empty.");
  assert.equal(await page.title(), "My shelf – Book library");
}

/** Log out, then log in again with the keyboard only. */
export async function logInByKeyboard(j) {
  const { page, size, step, login } = j;
  step("log out, then log in again with the keyboard only");
  await page.getByRole("button", { name: "Log out" }).click();
  await expectHeading(page, "Log in");
  await expectNotice(page, "You are logged out.");
  assert.equal(await page.evaluate(() => sessionStorage.length), 0, "logging out forgets the refresh token");
  await login.getByLabel("Email address").fill(size.email);
  await login.getByLabel("Password").fill("Wrong-Password-1");
  await login.getByRole("button", { name: "Log in" }).click();
  await expectText(page.locator("#login-form-error"), "That email address and password do not match an account.");
  assert.equal(await page.locator("#notice").innerText(), "", "a new attempt clears the notice about the last one");
  await page.reload();
  await expectHeading(page, "Log in");
  await page.keyboard.press("Tab");
  const skip = await page.evaluate(() => ({ text: document.activeElement.textContent, top: document.activeElement.getBoundingClientRect().top }));
  assert.equal(skip.text, "Skip to main content", "the first Tab stop skips to the content");
  assert.ok(skip.top >= 0, "the skip link shows when focused");
  await tabTo(page, "#login-email");
  await page.keyboard.type(size.email);
  await page.keyboard.press("Tab");
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press("Enter");
  await expectHeading(page, "My shelf");
  await expectNotice(page, `Welcome back, ${size.user.split(" ")[0]}.`);
  assert.equal(await page.evaluate(() => document.activeElement.id), "shelf-title", "focus moves to the new screen's heading");
}
