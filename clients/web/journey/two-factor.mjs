// The journey's two-factor steps: set-up with the QR code, the recovery codes, logging in with a
// code, then with a recovery code, and turning it off.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

import {
  expectFieldError,
  expectHeading,
  expectLabelledControls,
  expectNotice,
  expectText,
  imagesLoaded,
  openAccount,
  runAxeSettled,
} from "./checks.mjs";
import { BASE_URL, NEW_PASSWORD, PHONE_AGENT } from "./config.mjs";
import { Device, totp } from "./device.mjs";

/**
 * Set up from the Account screen with the QR code, a wrong code, then the right one; the secret and
 * the recovery codes are kept in j.secret and j.recoveryCodes for the steps after.
 */
export async function twoFactorSetUp(j) {
  const { page, size, step, login, screenshot, scrollTo } = j;
  step("two-factor: set up from the Account screen with the QR code, a wrong code, then the right one");
  await login.getByLabel("Email address").fill(size.email);
  await login.getByLabel("Password").fill(NEW_PASSWORD);
  await login.getByRole("button", { name: "Log in" }).click();
  await expectHeading(page, "My shelf");
  await openAccount(page);
  const twoFactor = page.locator("#two-factor");
  // Set-up needs the current password: a stolen token alone cannot enrol another app.
  await twoFactor.getByLabel("Current password").fill("Wrong-Password-1");
  await twoFactor.getByRole("button", { name: "Set up two-factor authentication" }).click();
  await expectFieldError(page, "#two-factor-start-password", "Your password is incorrect.");
  await twoFactor.getByLabel("Current password").fill(NEW_PASSWORD);
  await twoFactor.getByRole("button", { name: "Set up two-factor authentication" }).click();
  await imagesLoaded(page, "#two-factor-qr");
  assert.match(await page.locator("#two-factor-qr").getAttribute("src"), /^data:image\/svg\+xml/);
  const secret = (await expectText(page.locator("#two-factor-secret"), /^[A-Z2-7 ]{16,}$/)).replace(/ /g, "");
  assert.equal(await page.evaluate(() => document.activeElement.id), "two-factor-otp", "focus goes to the code field");
  await twoFactor.getByLabel("Code from the app").fill("12345");
  await twoFactor.getByRole("button", { name: "Turn on two-factor authentication" }).click();
  await expectFieldError(page, "#two-factor-otp", "Enter the 6 digits your authenticator app shows now.");
  await twoFactor.getByLabel("Code from the app").fill(totp(secret, 3) === totp(secret) ? "000000" : totp(secret, 3));
  await twoFactor.getByRole("button", { name: "Turn on two-factor authentication" }).click();
  await expectFieldError(page, "#two-factor-otp", "That code is not valid.");
  await expectLabelledControls(page);
  await runAxeSettled(page, "two-factor set-up");
  await scrollTo("#two-factor-title");
  await screenshot("two-factor-setup");
  await twoFactor.getByLabel("Code from the app").fill(totp(secret));
  await twoFactor.getByRole("button", { name: "Turn on two-factor authentication" }).click();
  await expectText(page.locator("#two-factor-status"), "Two-factor authentication is on.");
  const recoveryCodes = await page.locator("#two-factor-code-list li").allInnerTexts();
  assert.equal(recoveryCodes.length, 10, "ten recovery codes are shown");
  await expectText(page.locator("#two-factor-codes"), "Keep these recovery codes somewhere safe.");
  assert.equal(await page.locator("#two-factor-disable-form").isVisible(), false, "no turn-off form under fresh codes");
  await runAxeSettled(page, "two-factor codes");
  await scrollTo("#two-factor-title");
  await screenshot("two-factor-codes");
  j.secret = secret;
  j.recoveryCodes = recoveryCodes;
}

/** The recovery codes wait for 'I have saved them', are copied, downloaded, then saved. */
export async function recoveryCodesKept(j) {
  const { page, context, step, recoveryCodes } = j;
  step("two-factor: the recovery codes wait for 'I have saved them', are copied, downloaded, then saved");
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "My shelf" }).click();
  await expectHeading(page, "My shelf");
  await openAccount(page);
  assert.deepEqual(await page.locator("#two-factor-code-list li").allInnerTexts(), recoveryCodes, "the codes stay until saved");
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: BASE_URL });
  await page.getByRole("button", { name: "Copy the codes" }).click();
  await expectText(page.locator("#two-factor-codes-status"), "The recovery codes are copied.");
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), recoveryCodes.join("\n"));
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("button", { name: "Download the codes" }).click(),
  ]);
  assert.equal(download.suggestedFilename(), "book-library-recovery-codes.txt");
  const downloaded = readFileSync(await download.path(), "utf8");
  for (const code of recoveryCodes) assert.ok(downloaded.includes(`${code}\n`), `${code} is in the file`);
  await expectText(page.locator("#two-factor-codes-status"), "downloaded");
  await page.getByRole("button", { name: "I have saved them" }).click();
  await expectText(page.locator("#two-factor-status"), "Two-factor authentication is on.");
  assert.equal(await page.locator("#two-factor-codes").isVisible(), false, "the codes are gone once saved");
  assert.equal(await page.locator("#two-factor-disable-form").isVisible(), true);
}

/** Log out, log in with the password, then a wrong code, then the app's code. */
export async function logInWithCode(j) {
  const { page, size, step, login, secret, screenshot } = j;
  step("two-factor: log out, log in with the password, then a wrong code, then the app's code");
  await page.getByRole("button", { name: "Log out" }).click();
  await expectHeading(page, "Log in");
  await expectNotice(page, "You are logged out.");
  assert.equal(await page.locator("#login-otp").isVisible(), false, "no code field before it is asked for");
  await login.getByLabel("Email address").fill(size.email);
  await login.getByLabel("Password").fill(NEW_PASSWORD);
  await login.getByRole("button", { name: "Log in" }).click();
  const codeField = login.getByLabel("Authentication code");
  await codeField.waitFor();
  assert.equal(await page.locator("#notice").innerText(), "", "the logged-out notice is gone under the code prompt");
  assert.equal(await page.evaluate(() => document.activeElement.id), "login-otp", "focus goes to the code field");
  assert.equal(await codeField.getAttribute("autocomplete"), "one-time-code");
  assert.equal(await codeField.getAttribute("inputmode"), "numeric");
  await expectLabelledControls(page);
  await runAxeSettled(page, "login code");
  await screenshot("login-code");
  await codeField.fill(totp(secret, 3) === totp(secret, 1) ? "000000" : totp(secret, 3));
  await login.getByRole("button", { name: "Log in" }).click();
  await expectFieldError(page, "#login-otp", "That code is not valid or was already used.");
  // The code that turned two-factor on is spent: the next time step's code is accepted (drift 1).
  await codeField.fill(totp(secret, 1));
  await login.getByRole("button", { name: "Log in" }).click();
  await expectHeading(page, "My shelf");
  await expectNotice(page, "Welcome back");
}

/** A recovery code logs in too, then turn two-factor off with another. */
export async function recoveryCodeThenTurnOff(j) {
  const { page, size, step, login, recoveryCodes } = j;
  const codeField = login.getByLabel("Authentication code");
  step("two-factor: a recovery code logs in too, then turn two-factor off with another");
  await expectHeading(page, "Log in");
  await login.getByLabel("Email address").fill(size.email);
  await login.getByLabel("Password").fill(NEW_PASSWORD);
  await login.getByRole("button", { name: "Log in" }).click();
  await codeField.waitFor();
  await codeField.fill(recoveryCodes[0]);
  await login.getByRole("button", { name: "Log in" }).click();
  await expectHeading(page, "My shelf");
  await openAccount(page);
  const disableForm = page.locator("#two-factor-disable-form");
  await disableForm.waitFor();
  await disableForm.getByLabel("Password").fill("Wrong-Password-1");
  await disableForm.getByLabel("Authentication code").fill(recoveryCodes[1]);
  await disableForm.getByRole("button", { name: "Turn off two-factor authentication" }).click();
  await expectFieldError(page, "#two-factor-disable-password", "Your password is incorrect.");
  await disableForm.getByLabel("Password").fill(NEW_PASSWORD);
  await disableForm.getByLabel("Authentication code").fill(recoveryCodes[0]);
  await disableForm.getByRole("button", { name: "Turn off two-factor authentication" }).click();
  await expectFieldError(page, "#two-factor-disable-otp", "That code is not valid or was already used.");
  await disableForm.getByLabel("Authentication code").fill(recoveryCodes[1]);
  await disableForm.getByRole("button", { name: "Turn off two-factor authentication" }).click();
  await expectText(page.locator("#two-factor-status"), "Two-factor authentication is off.");
  assert.equal(await page.locator("#two-factor-setup").isVisible(), true);
  assert.equal((await new Device(PHONE_AGENT).raw("POST", "users/login", { json: { email: size.email, password: NEW_PASSWORD } })).status, 200);
}
