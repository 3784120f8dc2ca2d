// The web front end's whole journey in Debian's Chromium, at desktop and phone sizes.
//
//   BASE_URL=http://localhost:5000 node journey.mjs
//
// Needs a running API with rate limits off (tests/live/test_web_ui.py starts one of its own). Each size
// signs up its own user and goes through sign-up, login, the shelf (covers, paging, category,
// search), adding and editing books with cover previews, a stale edit, deleting, the profile, the
// password, the sessions, silent token refresh, two-factor set-up and login with a code, the
// password reset by email (when MAIL_DIR is set) and disabling the account. It checks what the page
// shows, runs axe-core on every main screen, checks keyboard use and visible focus, fails on any
// console error or Content-Security-Policy violation, and saves screenshots in SCREENSHOT_DIR
// (default screenshots/latest/, ignored by git; `make screenshots` updates the committed ones).
// Then every screen again at 320 px (dark theme) and 390 px (light), for a user with a 60-character
// email and a book with a 100-character unbroken title: no sideways scrolling and axe on each.
// CHROMIUM names the browser (default /usr/bin/chromium); ONLY_SIZE=desktop, phone or narrow runs
// one part.
//
// The steps live in journey/*.mjs by screen (sign-up, shelf, books, account, two-factor,
// passkeys, password-reset, narrow) and the checks they share in journey/checks.mjs. This file
// runs them in order: each step starts where the last one left the page and the user's state.

import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

import { chromium } from "playwright-core";

import * as account from "./journey/account.mjs";
import * as books from "./journey/books.mjs";
import { expectNoSidewaysScroll, openPage } from "./journey/checks.mjs";
import { BASE_URL, CHROMIUM, CHROMIUM_ARGS, NEW_PASSWORD, SCREENSHOTS, SIZES, log } from "./journey/config.mjs";
import { narrowScreens } from "./journey/narrow.mjs";
import { passkeySteps } from "./journey/passkeys.mjs";
import { passwordReset } from "./journey/password-reset.mjs";
import * as shelf from "./journey/shelf.mjs";
import * as signUp from "./journey/sign-up.mjs";
import * as twoFactor from "./journey/two-factor.mjs";

/** screenshot(name): the page as it shows, numbered in order, once it fits the screen's width. */
function screenshotTaker(page, size) {
  let shot = 0;
  return async (name) => {
    shot += 1;
    await page.evaluate(() => document.fonts.ready);
    await page.mouse.move(0, 0); // no hover effect left where the last click was
    await expectNoSidewaysScroll(page, name);
    const path = join(SCREENSHOTS, `${size.name}-${String(shot).padStart(2, "0")}-${name}.png`);
    await page.screenshot({ path, animations: "disabled", caret: "hide" });
  };
}

/**
 * A page at one size, and what every step shares (j): the page and its context, the screen's
 * locators, step() to log, screenshot() and scrollTo(), the silent refreshes seen, and what the
 * steps learn on the way (phone, seeded, secret, recoveryCodes, password).
 */
async function startJourney(browser, size) {
  const started = Date.now();
  const context = await browser.newContext({
    viewport: size.viewport,
    deviceScaleFactor: 1,
    isMobile: size.isMobile,
    hasTouch: size.isMobile,
  });
  const { page, problems } = await openPage(context);
  const refreshes = [];
  page.on("request", (request) => {
    if (request.url().endsWith("/users/token/refresh")) refreshes.push(request);
  });
  const screenshot = screenshotTaker(page, size);
  const scrollTo = (selector, block = "start") =>
    page.locator(selector).evaluate((element, where) => element.scrollIntoView({ block: where }), block);
  const step = (name) => log(`  [${size.name}] ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  const shelfView = page.locator("#view-shelf");
  return {
    size,
    started,
    context,
    page,
    problems,
    refreshes,
    screenshot,
    scrollTo,
    step,
    login: page.locator("#view-login"),
    signup: page.locator("#view-signup"),
    bookForm: page.locator("#book-form"),
    account: page.locator("#view-account"),
    shelf: shelfView,
    filtersToggle: shelfView.getByRole("button", { name: "Search and filters" }),
    card: (title) => page.locator(".book-card", { has: page.getByRole("heading", { name: title, exact: true }) }),
    password: NEW_PASSWORD,
  };
}

/** The whole journey at one size, as one user, step by step. */
async function journey(browser, size) {
  const j = await startJourney(browser, size);
  const taken = await signUp.takenAddress(j);
  await signUp.visitorGetsLogin(j);
  await signUp.loginErrors(j);
  await signUp.signUpErrors(j);
  await signUp.signUpConflict(j, taken);
  await signUp.signUp(j);
  await signUp.logInByKeyboard(j);
  await bookSteps(j);
  await accountSteps(j);
  await twoFactorSteps(j);
  await passwordReset(j);
  await account.disableAccount(j);
  await account.signedOutVisits(j);
  assert.deepEqual(j.problems, [], "no console errors, page errors or Content-Security-Policy violations");
  await j.context.close();
  log(`  [${j.size.name}] done in ${((Date.now() - j.started) / 1000).toFixed(1)} s, ${j.refreshes.length} silent refreshes`);
}

/** Books added, refused, paged through, filtered, opened, edited and deleted. */
async function bookSteps(j) {
  await books.addBookErrors(j);
  await books.addBook(j);
  await books.duplicateTitle(j);
  await shelf.shelfPages(j);
  await shelf.filterAndSearch(j);
  await shelf.shelfLoadFails(j);
  await books.bookPage(j);
  await books.editConflict(j);
  await books.deleteBook(j);
  await shelf.silentRefresh(j);
}

/** The name, the password and the devices signed in. */
async function accountSteps(j) {
  await account.profile(j);
  await account.changePassword(j);
  await account.sessionsList(j);
  await account.sessionEndedElsewhere(j);
  await account.signOutThisDevice(j);
}

/** Two-factor on, logging in with a code, passkeys meanwhile, then a recovery code and off again. */
async function twoFactorSteps(j) {
  await twoFactor.twoFactorSetUp(j);
  await twoFactor.recoveryCodesKept(j);
  await twoFactor.logInWithCode(j);
  const { page, size, step, screenshot, scrollTo } = j;
  await passkeySteps(page, { size, password: NEW_PASSWORD, step, screenshot, scrollTo });
  await twoFactor.recoveryCodeThenTurnOff(j);
}

async function main() {
  assert.ok(BASE_URL, "set BASE_URL to the API's address, e.g. http://localhost:5000");
  mkdirSync(SCREENSHOTS, { recursive: true });
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  log(`Chromium ${browser.version()} against ${BASE_URL}`);
  const only = process.env.ONLY_SIZE;
  try {
    for (const size of SIZES.filter((candidate) => !only || candidate.name === only)) {
      await journey(browser, size);
    }
    if (!only || only === "narrow") {
      await narrowScreens(browser, 320, "dark");
      await narrowScreens(browser, 390, "light");
    }
  } finally {
    await browser.close();
  }
  log("journey passed at every size");
}

main().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(1);
});
