// The journey's Account steps: the name, the password, the devices signed in, disabling the
// account, and the screens a signed-out visitor gets.

import assert from "node:assert/strict";

import {
  expectFieldError,
  expectHeading,
  expectLabelledControls,
  expectNotice,
  expectText,
  expectUserName,
  openAccount,
  runAxe,
} from "./checks.mjs";
import { BASE_URL, NEW_PASSWORD, PASSWORD, PHONE_AGENT, TABLET_AGENT } from "./config.mjs";
import { Device } from "./device.mjs";

/** Profile: a refused name, then a new name. */
export async function profile(j) {
  const { page, size, step, account } = j;
  step("profile: a refused name, then a new name");
  await openAccount(page);
  await expectText(page.locator("#account-email"), size.email);
  await account.getByLabel("Full name").fill("Ada");
  await account.getByRole("button", { name: "Save name" }).click();
  await expectFieldError(page, "#profile-name", "Full name must have 2 to 30 words");
  const renamed = `${size.user.split(" ")[0]} Augusta King`;
  await account.getByLabel("Full name").fill(renamed);
  await account.getByRole("button", { name: "Save name" }).click();
  await expectText(page.locator("#profile-form-success"), "Your name is saved.");
  await expectUserName(page, renamed);
  assert.equal(await page.locator("#profile-name").getAttribute("aria-invalid"), null);
}

/** Password: wrong current password, passwords that differ, a weak one, then a good one. */
export async function changePassword(j) {
  const { page, step, account, phone, screenshot } = j;
  step("password: wrong current password, passwords that differ, a weak one, then a good one");
  await page.locator("#password-form").getByLabel("Current password").fill("Wrong-Password-1");
  await account.getByLabel("New password", { exact: true }).fill(NEW_PASSWORD);
  await account.getByLabel("New password again").fill(NEW_PASSWORD);
  await account.getByRole("button", { name: "Change password" }).click();
  await expectFieldError(page, "#password-current", "Current password is incorrect.");
  await page.locator("#password-form").getByLabel("Current password").fill(PASSWORD);
  await account.getByLabel("New password again").fill(`${NEW_PASSWORD}x`);
  await account.getByRole("button", { name: "Change password" }).click();
  await expectFieldError(page, "#password-confirm", "The two new passwords are not the same.");
  await account.getByLabel("New password", { exact: true }).fill("P@ssword123");
  await account.getByLabel("New password again").fill("P@ssword123");
  await account.getByRole("button", { name: "Change password" }).click();
  await expectFieldError(page, "#password-new", "New password is too common");
  await expectLabelledControls(page);
  await runAxe(page, "account with errors");
  await account.getByLabel("New password", { exact: true }).fill(NEW_PASSWORD);
  await account.getByLabel("New password again").fill(NEW_PASSWORD);
  await account.getByRole("button", { name: "Change password" }).click();
  await expectText(page.locator("#password-form-success"), "Your password is changed. Your other devices were signed out.");
  assert.equal(await page.locator("#password-form").getByLabel("Current password").inputValue(), "", "the form is emptied");
  assert.equal((await phone.raw("GET", "users/")).status, 401, "the other device is signed out");
  await page.evaluate(() => window.scrollTo(0, 0));
  await screenshot("account");
}

/** Sessions: list the devices, sign out one, the others, then everywhere. */
export async function sessionsList(j) {
  const { page, size, step, screenshot, scrollTo } = j;
  step("sessions: list the devices, sign out one, the others, then everywhere");
  const iphone = await new Device(PHONE_AGENT).logIn(size.email, NEW_PASSWORD);
  const tablet = await new Device(TABLET_AGENT).logIn(size.email, NEW_PASSWORD);
  await page.getByRole("button", { name: "Refresh list" }).click();
  await expectText(page.locator("#sessions-status"), "The list is up to date.");
  const sessions = page.locator("#session-list > li");
  assert.equal(await sessions.count(), 3);
  await expectText(sessions.filter({ has: page.locator(".tag-current:not([hidden])") }), /Headless Chrome on Linux|Chrome on Linux/);
  await expectText(page.locator("#session-list"), "Safari on iOS");
  await expectText(page.locator("#session-list"), "Chrome on Android");
  await scrollTo("#sessions-title");
  await screenshot("sessions");
  await page.getByRole("button", { name: "Sign out this device (Safari on iOS)" }).click();
  await expectText(page.locator("#sessions-status"), "Signed out Safari on iOS.");
  assert.equal(await sessions.count(), 2);
  assert.equal((await iphone.raw("GET", "users/")).status, 401);
  assert.equal((await tablet.raw("GET", "users/")).status, 200);
  await page.getByRole("button", { name: "Sign out all other devices" }).click();
  await expectText(page.locator("#sessions-status"), "Every other device is signed out. This one stays signed in.");
  assert.equal(await sessions.count(), 1);
  assert.equal((await tablet.raw("GET", "users/")).status, 401);
  assert.ok(await page.getByRole("button", { name: "Sign out all other devices" }).isDisabled(), "no other device to sign out");
  const another = await new Device(PHONE_AGENT).logIn(size.email, NEW_PASSWORD);
  await page.getByRole("button", { name: "Sign out everywhere" }).click();
  const everywhere = page.getByRole("dialog", { name: "Sign out everywhere?" });
  await everywhere.getByRole("button", { name: "Sign out everywhere" }).click();
  await expectHeading(page, "Log in");
  await expectNotice(page, "You are signed out everywhere, this device included.");
  assert.equal((await another.raw("GET", "users/")).status, 401);
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);
}

/** A session ended on another device sends this one to the login screen. */
export async function sessionEndedElsewhere(j) {
  const { page, size, step, login } = j;
  step("a session ended on another device sends this one to the login screen");
  await login.getByLabel("Email address").fill(size.email);
  await login.getByLabel("Password").fill(NEW_PASSWORD);
  await login.getByRole("button", { name: "Log in" }).click();
  await expectHeading(page, "My shelf");
  const remote = await new Device(PHONE_AGENT).logIn(size.email, NEW_PASSWORD);
  assert.equal((await remote.call("DELETE", "users/sessions?all=true")).status, 204);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Account" }).click();
  await expectHeading(page, "Log in");
  await expectNotice(page, "Your session has ended, perhaps because you were signed out on another device.");
}

/** Sign out this device from the list. */
export async function signOutThisDevice(j) {
  const { page, size, step, login } = j;
  step("sign out this device from the list");
  await login.getByLabel("Email address").fill(size.email);
  await login.getByLabel("Password").fill(NEW_PASSWORD);
  await login.getByRole("button", { name: "Log in" }).click();
  await expectHeading(page, "My shelf");
  await openAccount(page);
  await page.getByRole("button", { name: "Sign out this device (the one you are using)" }).click();
  await expectHeading(page, "Log in");
  await expectNotice(page, "You signed out of this device.");
}

/** Disable the account: cancel once, then confirm; the login is refused afterwards. */
export async function disableAccount(j) {
  const { page, size, step, login, password } = j;
  step("disable the account: cancel once, then confirm; the login is refused afterwards");
  await login.getByLabel("Email address").fill(size.email);
  await login.getByLabel("Password").fill(password);
  await login.getByRole("button", { name: "Log in" }).click();
  await expectHeading(page, "My shelf");
  await openAccount(page);
  // The password is always asked (the API needs it once the login is older than REAUTH_WINDOW).
  const disableAccountForm = page.locator("#disable-form");
  await disableAccountForm.getByRole("button", { name: "Disable my account" }).click();
  await expectFieldError(page, "#disable-password", "Enter your current password.");
  await disableAccountForm.getByLabel("Current password").fill("Wrong-Password-1");
  await disableAccountForm.getByRole("button", { name: "Disable my account" }).click();
  const disable = page.getByRole("dialog", { name: "Disable your account?" });
  await disable.getByRole("button", { name: "Disable account" }).click();
  await expectFieldError(page, "#disable-password", "Your password is incorrect.");
  await disableAccountForm.getByLabel("Current password").fill(password);
  await disableAccountForm.getByRole("button", { name: "Disable my account" }).click();
  await disable.getByRole("button", { name: "Cancel" }).click();
  await expectHeading(page, "Account");
  await disableAccountForm.getByRole("button", { name: "Disable my account" }).click();
  await disable.getByRole("button", { name: "Disable account" }).click();
  await expectHeading(page, "Log in");
  await expectNotice(page, "Your account is disabled and you are signed out everywhere.");
  await login.getByLabel("Email address").fill(size.email);
  await login.getByLabel("Password").fill(password);
  await login.getByRole("button", { name: "Log in" }).click();
  await expectText(page.locator("#login-form-error"), "That email address and password do not match an account.");
}

/** Unknown addresses and signed-out visits. */
export async function signedOutVisits(j) {
  const { page, step } = j;
  step("unknown addresses and signed-out visits");
  await page.goto(`${BASE_URL}/ui/#/account`);
  await expectHeading(page, "Log in");
  await page.goto(`${BASE_URL}/ui/#/nowhere`);
  await expectHeading(page, "Page not found");
}
