// Every screen on the narrowest phones, with a 60-character email and a 100-character title: the
// page fits the screen (nothing scrolls sideways) and axe-core finds no problem, on each.

import assert from "node:assert/strict";

import { coverPng } from "../png.mjs";
import {
  expectFieldError,
  expectHeading,
  expectNoSidewaysScroll,
  expectNotice,
  expectText,
  imagesLoaded,
  openAccount,
  openPage,
  runAxeSettled,
} from "./checks.mjs";
import { BASE_URL, PASSWORD, PHONE_AGENT, log } from "./config.mjs";
import { Device, totp } from "./device.mjs";
import { addVirtualAuthenticator } from "./passkeys.mjs";

/** An address of exactly 60 characters, unique to this pass. */
function longEmail(width) {
  const local = `long-address-${width}-`;
  return `${local.padEnd(60 - "@example.com".length, "x")}@example.com`;
}

/** 100 characters with no space or hyphen: nowhere for the browser to break the line by itself. */
function unbrokenTitle(word) {
  return word.repeat(Math.ceil(100 / word.length)).slice(0, 100);
}

/** Every screen at `width` px in the `colorScheme` theme, for a user and a book of its own. */
export async function narrowScreens(browser, width, colorScheme) {
  const n = await narrowSetUp(browser, width, colorScheme);
  await narrowSignedOut(n);
  await narrowShelf(n);
  await narrowBook(n);
  await narrowAddAndDelete(n);
  await narrowAccount(n);
  await narrowTwoFactor(n);
  if (colorScheme === "dark") await narrowThemeSwitch(n);
  const { problems, context, label, screens, started } = n;
  assert.deepEqual(problems, [], "no console errors, page errors or Content-Security-Policy violations");
  await context.close();
  log(`  [${label}] ${screens.length} screens fit and pass axe (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

/** A user with a 60-character email, a book with a 100-character title, and a phone-sized page. */
async function narrowSetUp(browser, width, colorScheme) {
  const started = Date.now();
  const email = longEmail(width);
  const title = unbrokenTitle("Unbrokentitle");
  assert.equal(email.length, 60);
  assert.equal(title.length, 100);
  const device = new Device(PHONE_AGENT);
  const created = await device.raw("POST", "users/", { json: { name: "Longmail Reader", email, password: PASSWORD } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  await device.logIn(email, PASSWORD);
  const book = await device.addBook(title, "picture book", `${"Word ".repeat(80)}${unbrokenTitle("Nobreak")}`, [90, 40, 120]);
  const context = await browser.newContext({ viewport: { width, height: 740 }, deviceScaleFactor: 1, isMobile: true, hasTouch: true, colorScheme });
  const { page, problems } = await openPage(context);
  const label = `${width}px ${colorScheme}`;
  const screens = [];
  // The page fits the screen (nothing scrolls sideways) and axe finds no problem, on this screen.
  const check = async (screen) => {
    screens.push(screen);
    await expectNoSidewaysScroll(page, `${label} ${screen}`);
    await runAxeSettled(page, `${label} ${screen}`);
  };
  const login = page.locator("#view-login");
  return { started, email, title, device, book, context, page, problems, label, screens, check, login, colorScheme };
}

/** The signed-out screens: login (the system's theme), sign-up with errors, forgot, reset, not found. */
async function narrowSignedOut(n) {
  const { page, email, check, login, colorScheme } = n;
  await page.goto(`${BASE_URL}/ui/`);
  await expectHeading(page, "Log in");
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), colorScheme, "the theme follows the system");
  const background = await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
  assert.equal(background, colorScheme === "dark" ? "rgb(15, 19, 24)" : "rgb(244, 245, 247)", `the ${colorScheme} page colour`);
  await check("login");
  await login.getByRole("link", { name: "Create an account" }).click();
  await page.locator("#signup-email").fill(email);
  await page.locator("#signup-password").fill("short");
  await page.locator("#signup-form").getByRole("button", { name: "Create account" }).click();
  await expectFieldError(page, "#signup-name", "Enter your full name.");
  await check("sign-up with errors");
  await page.goto(`${BASE_URL}/ui/#/forgot`);
  await expectHeading(page, "Reset your password");
  await page.locator("#forgot-email").fill(email);
  await page.locator("#forgot-form").getByRole("button", { name: "Email me a link" }).click();
  await expectText(page.locator("#forgot-form-success"), "If an account uses this email address");
  await check("forgot password");
  await page.goto(`${BASE_URL}/ui/#reset?token=${"t".repeat(80)}`);
  await expectHeading(page, "Choose a new password");
  await page.locator("#reset-new").fill(unbrokenTitle("Pass"));
  await expectText(page.locator("#reset-new-rules"), "Still missing: a digit and a symbol.");
  await check("new password");
  await page.goto(`${BASE_URL}/ui/#/nowhere`);
  await expectHeading(page, "Page not found");
  await check("page not found");
}

/** The shelf: its cards, its filters, a load error. */
async function narrowShelf(n) {
  const { page, email, title, check, login } = n;
  await page.goto(`${BASE_URL}/ui/#/login`);
  await login.getByLabel("Email address").fill(email);
  await login.getByLabel("Password").fill(PASSWORD);
  await login.getByRole("button", { name: "Log in" }).click();
  await expectHeading(page, "My shelf");
  await expectText(page.locator(".book-card"), title);
  await imagesLoaded(page, ".book-card img");
  await check("shelf");
  await page.getByRole("button", { name: "Search and filters" }).click();
  await page.getByLabel("Search titles and descriptions").fill(title);
  await page.getByRole("button", { name: "Search", exact: true }).click();
  // A search word longer than the index keeps is matched by its prefix: found or not, it is named.
  await expectText(page.locator("#view-shelf"), `matching “${title}”`);
  await check("shelf with filters");
  await page.route("**/books/?*", (route) => route.abort("internetdisconnected"), { times: 1 });
  await page.getByLabel("Sort by").selectOption("title");
  await expectText(page.locator("#shelf-error"), "Your shelf could not be loaded.");
  assert.equal(await page.locator(".book-card").count(), 0);
  await check("shelf load error");
  await page.locator("#shelf-error").getByRole("button", { name: "Try again" }).click();
  await expectText(page.locator(".book-card"), title);
}

/** A book's page, the delete confirmation, the edit form, and the page again with a notice. */
async function narrowBook(n) {
  const { page, title, check } = n;
  await page.locator(".book-card").getByRole("link", { name: title, exact: true }).click();
  await expectHeading(page, title);
  await imagesLoaded(page, "#book-page-cover");
  await check("book page");
  await page.getByRole("button", { name: "Delete this book" }).click();
  await page.getByRole("dialog", { name: "Delete this book?" }).waitFor();
  await check("delete confirmation");
  await page.keyboard.press("Escape");
  await page.getByRole("link", { name: "Edit this book" }).click();
  await expectHeading(page, `Edit “${title}”`);
  await check("edit a book");
  // Saved from the book's page, the edit goes back there, with the notice.
  await page.locator("#book-category").selectOption("fantasy");
  await page.locator("#book-form").getByRole("button", { name: "Save changes" }).click();
  await expectNotice(page, `Saved your changes to “${title}”.`);
  await expectHeading(page, title);
  await expectText(page.locator("#book-page"), "Fantasy");
  await check("book page with a notice");
}

/** Adding a book with a long file name, then deleting the first from its own page. */
async function narrowAddAndDelete(n) {
  const { page, title, device, book, check } = n;
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Add a book" }).click();
  await expectHeading(page, "Add a book");
  const second = unbrokenTitle("Anotherlongone");
  await page.locator("#book-title").fill(second);
  await page.locator("#book-category").selectOption("science");
  await page.locator("#book-cover").setInputFiles({ name: `${unbrokenTitle("file")}.png`, mimeType: "image/png", buffer: coverPng(120, 180, [20, 90, 90]) });
  await page.locator("#book-preview-canvas").waitFor();
  await check("add a book");
  await page.locator("#book-form").getByRole("button", { name: "Add book" }).click();
  await expectNotice(page, `Added “${second}” to your shelf.`);
  await expectText(page.locator("#shelf-status"), "Showing 1–2 of 2 books.");
  await check("shelf with a notice");
  await page.locator(".book-card").getByRole("link", { name: title, exact: true }).click();
  await expectHeading(page, title);
  await page.getByRole("button", { name: "Delete this book" }).click();
  await page.getByRole("dialog", { name: "Delete this book?" }).getByRole("button", { name: "Delete book" }).click();
  await expectNotice(page, `Deleted “${title}”.`);
  await expectHeading(page, "My shelf");
  assert.equal((await device.call("GET", `books/${book._id}`)).status, 404, "deleted from the book's page");
  await check("shelf after deleting from a book's page");
}

/** The Account screen, adding a passkey and the confirmation to remove it. */
async function narrowAccount(n) {
  const { page, email, check } = n;
  await openAccount(page);
  await expectText(page.locator("#account-email"), email);
  await check("account");
  await addVirtualAuthenticator(page);
  const passkeyName = unbrokenTitle("Passkeyname").slice(0, 64);
  await page.locator("#passkey-add-password").fill(PASSWORD);
  await page.locator("#passkey-add-name").fill(passkeyName);
  await page.locator("#passkeys").getByRole("button", { name: "Add a passkey" }).click();
  await expectText(page.locator("#passkeys-status"), `Added the passkey “${passkeyName}”.`);
  await check("passkeys");
  await page.locator("#passkeys").getByRole("button", { name: `Remove passkey ${passkeyName}` }).click();
  await page.getByRole("dialog", { name: "Remove this passkey?" }).waitFor();
  await check("remove a passkey");
  await page.keyboard.press("Escape");
}

/** Two-factor set-up, the recovery codes, and logging in with one. */
async function narrowTwoFactor(n) {
  const { page, email, check, login } = n;
  const twoFactor = page.locator("#two-factor");
  await twoFactor.getByLabel("Current password").fill(PASSWORD);
  await twoFactor.getByRole("button", { name: "Set up two-factor authentication" }).click();
  const secret = (await expectText(page.locator("#two-factor-secret"), /^[A-Z2-7 ]{16,}$/)).replace(/ /g, "");
  await check("two-factor set-up");
  await twoFactor.getByLabel("Code from the app").fill(totp(secret));
  await twoFactor.getByRole("button", { name: "Turn on two-factor authentication" }).click();
  await expectText(page.locator("#two-factor-status"), "Two-factor authentication is on.");
  const codes = await page.locator("#two-factor-code-list li").allInnerTexts();
  await check("recovery codes");
  await page.getByRole("button", { name: "I have saved them" }).click();
  await page.locator("#two-factor-disable-form").waitFor();
  await check("two-factor on");
  await page.getByRole("button", { name: "Log out" }).click();
  await expectNotice(page, "You are logged out.");
  await login.getByLabel("Email address").fill(email);
  await login.getByLabel("Password").fill(PASSWORD);
  await login.getByRole("button", { name: "Log in" }).click();
  await login.getByLabel("Authentication code").waitFor();
  await check("login code");
  await login.getByLabel("Authentication code").fill(codes[0]);
  await login.getByRole("button", { name: "Log in" }).click();
  await expectHeading(page, "My shelf");
}

/** The switch overrides the system's dark theme, and the choice survives a reload. */
async function narrowThemeSwitch(n) {
  const { page, check } = n;
  const toggle = page.getByRole("button", { name: "Dark theme" });
  assert.equal(await toggle.getAttribute("aria-pressed"), "true");
  await toggle.click();
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), "light");
  await page.reload();
  await expectHeading(page, "My shelf");
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), "light", "the switch is remembered");
  assert.equal(await toggle.getAttribute("aria-pressed"), "false");
  await check("shelf, light by choice");
  await toggle.click();
  await page.reload();
  await expectHeading(page, "My shelf");
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), "dark");
}
