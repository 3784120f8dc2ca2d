// Passkeys through Chromium's virtual authenticator: adding one, signing in with it (with and
// without the email), removing it, and the page's own WebAuthn JSON conversion.

import assert from "node:assert/strict";

import {
  expectFieldError,
  expectHeading,
  expectLabelledControls,
  expectNotice,
  expectText,
  openAccount,
  openPage,
  runAxeSettled,
  tabTo,
} from "./checks.mjs";
import { BASE_URL } from "./config.mjs";

/**
 * A virtual authenticator on this page through the DevTools protocol: CTAP2, built in (a laptop's
 * or phone's own), holding discoverable credentials and verifying the user, with no prompt.
 */
export async function addVirtualAuthenticator(page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("WebAuthn.enable", { enableUI: false });
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return {
    credentials: async () => (await cdp.send("WebAuthn.getCredentials", { authenticatorId })).credentials,
    clear: () => cdp.send("WebAuthn.clearCredentials", { authenticatorId }),
  };
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** The JSON body the page sent is a standard RegistrationResponseJSON / AuthenticationResponseJSON. */
function expectCredentialJSON(credential, kind) {
  assert.match(credential.id, BASE64URL);
  assert.equal(credential.rawId, credential.id, "rawId is the id, base64url without padding");
  assert.equal(credential.type, "public-key");
  assert.ok(credential.clientExtensionResults && typeof credential.clientExtensionResults === "object");
  assert.equal(credential.authenticatorAttachment, "platform", "an internal authenticator is a platform one");
  const fields = kind === "registration" ? ["clientDataJSON", "attestationObject"] : ["clientDataJSON", "authenticatorData", "signature", "userHandle"];
  for (const field of fields) assert.match(credential.response[field], BASE64URL, `response.${field} is base64url without padding`);
  if (kind === "registration") assert.deepEqual(credential.response.transports, ["internal"]);
  const clientData = JSON.parse(Buffer.from(credential.response.clientDataJSON, "base64url").toString("utf8"));
  assert.equal(clientData.type, kind === "registration" ? "webauthn.create" : "webauthn.get");
  assert.equal(clientData.origin, new URL(BASE_URL).origin);
}

/** The page's hand-written conversion (browsers without toJSON) writes what Chromium's toJSON does. */
async function expectFallbackMatchesToJSON(page) {
  const [native, fallback] = await page.evaluate(async () => {
    const webauthn = await import(new URL("js/webauthn.js", document.baseURI).href);
    const challenge = crypto.getRandomValues(new Uint8Array(32));
    // A local challenge: the API never sees this assertion.
    const credential = await navigator.credentials.get({ publicKey: { challenge, rpId: location.hostname, userVerification: "required" } });
    const roundTrip = (value) => JSON.parse(JSON.stringify(value));
    return [roundTrip(credential.toJSON()), roundTrip(webauthn.authenticationResponseJSON(credential))];
  });
  assert.deepEqual(fallback, native, "the fallback's AuthenticationResponseJSON is the browser's own");
  const [nativeCreated, fallbackCreated] = await page.evaluate(async () => {
    const webauthn = await import(new URL("js/webauthn.js", document.baseURI).href);
    // A throwaway credential the API never sees (not discoverable: the login steps never offer it).
    const credential = await navigator.credentials.create({
      publicKey: {
        challenge: crypto.getRandomValues(new Uint8Array(32)),
        rp: { id: location.hostname, name: "Fallback check" },
        user: { id: crypto.getRandomValues(new Uint8Array(16)), name: "fallback", displayName: "Fallback" },
        pubKeyCredParams: [{ type: "public-key", alg: -7 }],
        authenticatorSelection: { residentKey: "discouraged" },
      },
    });
    const roundTrip = (value) => JSON.parse(JSON.stringify(value));
    return [roundTrip(credential.toJSON()), roundTrip(webauthn.registrationResponseJSON(credential))];
  });
  assert.deepEqual(fallbackCreated, nativeCreated, "the fallback's RegistrationResponseJSON is the browser's own");
  const options = { challenge: "AAECAw", rpId: "localhost", allowCredentials: [{ id: native.id, type: "public-key" }], timeout: 1000 };
  const decoded = await page.evaluate(async (json) => {
    const webauthn = await import(new URL("js/webauthn.js", document.baseURI).href);
    const parsed = webauthn.requestOptionsFromJSON(json);
    const created = webauthn.creationOptionsFromJSON({
      challenge: json.challenge,
      rp: { id: json.rpId, name: "Book Library" },
      user: { id: "_-8", name: "x", displayName: "x" },
      pubKeyCredParams: [{ type: "public-key", alg: -7 }],
      excludeCredentials: json.allowCredentials,
    });
    return [parsed.challenge, parsed.allowCredentials[0].id, created.user.id, created.excludeCredentials[0].id].map(webauthn.toBase64url);
  }, options);
  assert.deepEqual(decoded, ["AAECAw", native.id, "_-8", native.id], "base64url decodes and encodes back unchanged");
}

/**
 * A passkey the API refuses (401 with a plain Bearer challenge, the token itself fine) is said so
 * on the form: the page neither refreshes and retries nor ends the session (http.js tokenRefused).
 */
async function expectRefusedRegistrationKeepsSession(page, authenticator) {
  const card = page.locator("#passkeys");
  const posts = [];
  const countPosts = (request) => {
    if (request.method() === "POST" && request.url().endsWith("/users/passkeys")) posts.push(request);
  };
  page.on("request", countPosts);
  // The answer's challenge is changed on the way: the API refuses it as it would a late answer.
  await page.route(
    "**/users/passkeys",
    async (route) => {
      const body = route.request().postDataJSON();
      const clientData = JSON.parse(Buffer.from(body.credential.response.clientDataJSON, "base64url").toString("utf8"));
      clientData.challenge = Buffer.from("not the challenge the API gave").toString("base64url");
      body.credential.response.clientDataJSON = Buffer.from(JSON.stringify(clientData)).toString("base64url");
      await route.continue({ postData: JSON.stringify(body) });
    },
    { times: 1 },
  );
  const [refused] = await Promise.all([
    page.waitForResponse((response) => response.request().method() === "POST" && response.url().endsWith("/users/passkeys")),
    card.getByRole("button", { name: "Add a passkey" }).click(),
  ]);
  assert.equal(refused.status(), 401);
  assert.equal(refused.headers()["www-authenticate"], "Bearer", "no invalid_token: the token was fine");
  await expectText(page.locator("#passkey-add-form-error"), "The passkey was not accepted (perhaps it took too long). Nothing was saved. Try again.");
  page.off("request", countPosts);
  assert.equal(posts.length, 1, "a 401 without invalid_token is not retried with a new token");
  await expectHeading(page, "Account");
  // Ending the session empties the header's name (shell.js setUser(null)).
  assert.notEqual(await page.locator("#user-name").textContent(), "", "the session goes on");
  await expectText(page.locator("#passkeys-empty"), "You have no passkeys yet.");
  // The authenticator kept the passkey the API refused: forget it, as a user would delete it.
  await authenticator.clear();
}

/**
 * Add a passkey from the Account screen (a wrong password first), sign out and back in with it
 * (no email typed, no two-factor code asked: the authenticator verified the user), then with the
 * email typed first, then remove it: the API refuses it afterwards, and a device without it says
 * so in plain words. Starts signed in with two-factor on, ends on the login screen.
 */
export async function passkeySteps(page, { size, password, step, screenshot, scrollTo }) {
  const login = page.locator("#view-login");
  const p = {
    page,
    size,
    password,
    step,
    screenshot,
    scrollTo,
    login,
    card: page.locator("#passkeys"),
    items: page.locator("#passkey-list > li"),
    passkeyButton: login.getByRole("button", { name: "Sign in with a passkey" }),
    name: `${size.name === "phone" ? "Phone" : "Laptop"} of ${size.user.split(" ")[0]}`,
    authenticator: await addVirtualAuthenticator(page),
  };
  const sent = await addPasskey(p);
  await signInWithPasskey(p, sent);
  await signInWithEmailFirst(p, sent);
  await removePasskey(p);
  await removedPasskeyRefused(p);
}

/** Add a passkey from the Account screen (a wrong password first); return the registration sent. */
async function addPasskey(p) {
  const { page, password, step, screenshot, scrollTo, card, items, name, authenticator } = p;
  step("passkeys: add one from the Account screen (the current password, a name, the authenticator)");
  await openAccount(page);
  await expectText(page.locator("#passkeys-empty"), "You have no passkeys yet.");
  await card.getByRole("button", { name: "Add a passkey" }).click();
  await expectFieldError(page, "#passkey-add-password", "Enter your current password.");
  await card.getByLabel("Current password").fill("Wrong-Password-1");
  await card.getByRole("button", { name: "Add a passkey" }).click();
  await expectFieldError(page, "#passkey-add-password", "Your password is incorrect. No passkey was added.");
  assert.equal((await authenticator.credentials()).length, 0, "no passkey is made before the password is right");
  await card.getByLabel("Current password").fill(password);
  await expectRefusedRegistrationKeepsSession(page, authenticator);
  await card.getByLabel("Name (optional)").fill(name);
  const [registration] = await Promise.all([
    page.waitForRequest((request) => request.method() === "POST" && request.url().endsWith("/users/passkeys")),
    card.getByRole("button", { name: "Add a passkey" }).click(),
  ]);
  const sent = registration.postDataJSON();
  assert.equal(sent.name, name);
  expectCredentialJSON(sent.credential, "registration");
  await expectText(page.locator("#passkeys-status"), `Added the passkey “${name}”. You can now sign in with it.`);
  assert.equal(await page.evaluate(() => document.activeElement.id), "passkeys-status", "focus moves to the outcome");
  assert.equal(await items.count(), 1);
  await expectText(items.first(), new RegExp(`^${name} Added .+ · never used yet Remove`));
  assert.equal(await page.locator("#passkeys-empty").isVisible(), false);
  assert.equal(await card.getByLabel("Current password").inputValue(), "", "the password is not kept in the form");
  const [stored] = await authenticator.credentials();
  assert.ok(stored.isResidentCredential, "the passkey is discoverable");
  await expectLabelledControls(page);
  await runAxeSettled(page, "passkeys");
  await scrollTo("#passkeys-title");
  await screenshot("passkeys");
  return sent;
}

/** Sign out, then sign in with the passkey: no email typed, no code asked. */
async function signInWithPasskey(p, sent) {
  const { page, size, step, login, passkeyButton } = p;
  step("passkeys: sign out, then sign in with the passkey, no email typed, no code asked");
  await page.getByRole("button", { name: "Log out" }).click();
  await expectHeading(page, "Log in");
  assert.equal(await login.getByLabel("Email address").inputValue(), "", "no email is typed");
  const [optionsRequest, loginRequest] = await Promise.all([
    page.waitForRequest((request) => request.url().endsWith("/users/login/passkey/options")),
    page.waitForRequest((request) => request.url().endsWith("/users/login/passkey")),
    passkeyButton.click(),
  ]);
  assert.deepEqual(optionsRequest.postDataJSON(), {}, "discoverable: the options are asked without an email");
  const assertion = loginRequest.postDataJSON().credential;
  expectCredentialJSON(assertion, "authentication");
  assert.equal(assertion.id, sent.credential.id, "signed with the passkey just added");
  await expectHeading(page, "My shelf");
  await expectNotice(page, `Welcome back, ${size.user.split(" ")[0]}.`);
  await expectFallbackMatchesToJSON(page);
}

/** With the email typed first, the API lists the account's passkeys; by keyboard. */
async function signInWithEmailFirst(p, sent) {
  const { page, size, step, login } = p;
  step("passkeys: with the email typed first, the API lists the account's passkeys; by keyboard");
  await page.getByRole("button", { name: "Log out" }).click();
  await expectHeading(page, "Log in");
  await login.getByLabel("Email address").fill(size.email);
  // By keyboard: Tab reaches the button (its focus ring visible), Enter presses it.
  await tabTo(page, "#login-passkey");
  const [withEmail] = await Promise.all([
    page.waitForResponse((response) => response.url().endsWith("/users/login/passkey/options")),
    page.keyboard.press("Enter"),
  ]);
  assert.deepEqual(withEmail.request().postDataJSON(), { email: size.email });
  const allowed = (await withEmail.json()).data.allowCredentials.map((descriptor) => descriptor.id);
  assert.deepEqual(allowed, [sent.credential.id], "the options list the account's passkey");
  await expectHeading(page, "My shelf");
}

/** The list shows the last use; remove the passkey after a confirmation (cancel once). */
async function removePasskey(p) {
  const { page, step, card, items, name } = p;
  step("passkeys: the list shows the last use; remove it after a confirmation (cancel once)");
  await openAccount(page);
  await expectText(items.first(), /· last used /);
  const remove = card.getByRole("button", { name: `Remove passkey ${name}` });
  await remove.click();
  const dialog = page.getByRole("dialog", { name: "Remove this passkey?" });
  await expectText(dialog, `You can no longer sign in with “${name}”.`);
  await dialog.getByRole("button", { name: "Cancel" }).click();
  assert.equal(await items.count(), 1, "cancelling keeps the passkey");
  await remove.click();
  await dialog.getByRole("button", { name: "Remove passkey" }).click();
  await expectText(page.locator("#passkeys-status"), `Removed the passkey “${name}”.`);
  assert.equal(await items.count(), 0);
  await expectText(page.locator("#passkeys-empty"), "You have no passkeys yet.");
}

/** A removed passkey is refused, and a device without one says so. */
async function removedPasskeyRefused(p) {
  const { page, step, passkeyButton, authenticator } = p;
  step("passkeys: a removed passkey is refused, and a device without one says so");
  await page.getByRole("button", { name: "Log out" }).click();
  await expectHeading(page, "Log in");
  await passkeyButton.click();
  await expectText(page.locator("#login-form-error"), "That passkey was not accepted. It may have been removed from your account.");
  assert.equal(await page.locator("#view-login").isVisible(), true, "still on the login screen");
  await authenticator.clear();
  await passkeyButton.click();
  await expectText(page.locator("#login-form-error"), "Passkey sign-in was cancelled, timed out or found no passkey for this site.");
  assert.equal(await passkeyButton.isDisabled(), false, "the button works again after a failure");
  await runAxeSettled(page, "passkey sign-in error");
}

/** Where the browser has no WebAuthn, the login screen offers no passkey button and no error. */
export async function expectNoPasskeysWithoutWebAuthn(context) {
  const { page, problems } = await openPage(context);
  await page.addInitScript(() => {
    delete window.PublicKeyCredential;
  });
  await page.goto(`${BASE_URL}/ui/#/login`);
  await expectHeading(page, "Log in");
  assert.equal(await page.locator("#login-passkey").isVisible(), false, "no passkey button without PublicKeyCredential");
  assert.deepEqual(problems, [], "no console or page errors without PublicKeyCredential");
  await page.close();
}
