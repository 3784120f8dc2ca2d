// The journey's password reset by email (read from MAIL_DIR, where the test server writes them).

import assert from "node:assert/strict";

import { expectFieldError, expectHeading, expectLabelledControls, expectText, runAxeSettled } from "./checks.mjs";
import { BASE_URL, MAIL_DIR, RESET_PASSWORD, log } from "./config.mjs";
import { resetLink } from "./device.mjs";

/** The password reset by email when MAIL_DIR is set (j.password becomes the new one); else log out. */
export async function passwordReset(j) {
  const { page, size } = j;
  if (!MAIL_DIR) {
    log(`  [${size.name}] MAIL_DIR not set: the password reset by email is skipped`);
    await page.getByRole("button", { name: "Log out" }).click();
    await expectHeading(page, "Log in");
    return;
  }
  const link = await forgotPassword(j);
  await chooseNewPassword(j, link);
  await usedLinkRefused(j, link);
  j.password = RESET_PASSWORD;
}

/** Forgot password: the email form, the same answer for any address; return the emailed link. */
async function forgotPassword(j) {
  const { page, size, step, login, screenshot } = j;
  step("forgot password: the email form, the same answer for any address, the link, a new password");
  await page.getByRole("button", { name: "Log out" }).click();
  await expectHeading(page, "Log in");
  await login.getByRole("link", { name: "Forgot your password?" }).click();
  await expectHeading(page, "Reset your password");
  const forgot = page.locator("#forgot-form");
  await forgot.getByRole("button", { name: "Email me a link" }).click();
  await expectFieldError(page, "#forgot-email", "Enter your email address.");
  await forgot.getByLabel("Email address").fill(`nobody-${size.name}@example.com`);
  await forgot.getByRole("button", { name: "Email me a link" }).click();
  const answer = await expectText(page.locator("#forgot-form-success"), "If an account uses this email address");
  const earlier = [];
  await forgot.getByLabel("Email address").fill(size.email);
  await forgot.getByRole("button", { name: "Email me a link" }).click();
  assert.equal(await expectText(page.locator("#forgot-form-success"), "If an account uses this email address"), answer);
  await runAxeSettled(page, "forgot password");
  await screenshot("forgot");
  const link = await resetLink(size.email, earlier);
  assert.ok(link.includes("/ui/#reset?token="), link);
  return link;
}

/** The link opens the form (the token leaves the address bar); a new password is set. */
async function chooseNewPassword(j, link) {
  const { page, screenshot } = j;
  const reset = page.locator("#reset-form");
  await page.goto(link.replace(/^https?:\/\/[^/]+/, BASE_URL));
  await expectHeading(page, "Choose a new password");
  assert.ok(!page.url().includes("token="), "the token leaves the address bar");
  await reset.getByLabel("New password", { exact: true }).fill(RESET_PASSWORD);
  await reset.getByLabel("New password again").fill(`${RESET_PASSWORD}x`);
  await reset.getByRole("button", { name: "Set new password" }).click();
  await expectFieldError(page, "#reset-confirm", "The two new passwords are not the same.");
  await expectLabelledControls(page);
  await runAxeSettled(page, "reset password");
  await screenshot("reset");
  await reset.getByLabel("New password again").fill(RESET_PASSWORD);
  await reset.getByRole("button", { name: "Set new password" }).click();
  await expectText(page.locator("#reset-done-text"), "Your password has been changed");
}

/** Reset: the used link shows a clear error; the new password logs in. */
async function usedLinkRefused(j, link) {
  const { page, step } = j;
  step("reset: the used link shows a clear error; the new password logs in");
  const reset = page.locator("#reset-form");
  await page.goto(link.replace(/^https?:\/\/[^/]+/, BASE_URL));
  await expectHeading(page, "Choose a new password");
  await reset.getByLabel("New password", { exact: true }).fill(RESET_PASSWORD);
  await reset.getByLabel("New password again").fill(RESET_PASSWORD);
  await reset.getByRole("button", { name: "Set new password" }).click();
  await expectText(page.locator("#reset-form-error"), "This reset link is invalid, was already used or has expired.");
  await page.locator("#reset-form-error").getByRole("link", { name: "Ask for a new link" }).waitFor();
  await page.goto(link.replace(/^https?:\/\/[^/]+/, BASE_URL).replace(/#reset.*/, "#/login"));
  await expectHeading(page, "Log in");
}
