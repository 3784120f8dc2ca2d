// What the journey checks on a page: texts, field errors, focus, axe-core, the width, images.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

import { sleep } from "./config.mjs";

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

// Checks ---------------------------------------------------------------------------------------

export async function eventually(check, describe, timeout = 10_000) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await check();
      if (last === true || (last && last.ok)) return last;
    } catch (error) {
      last = error.message;
    }
    if (Date.now() > deadline) {
      assert.fail(`${describe()} (last seen: ${JSON.stringify(last)})`);
    }
    await sleep(100);
  }
}

function matches(text, expected) {
  return expected instanceof RegExp ? expected.test(text) : text.includes(expected);
}

/** Wait until the locator is visible and its text shows `expected` (a string or a RegExp). */
export async function expectText(locator, expected, timeout = 10_000) {
  let seen = "";
  await eventually(
    async () => {
      if (!(await locator.isVisible())) return false;
      seen = (await locator.innerText()).replace(/\s+/g, " ").trim();
      return matches(seen, expected);
    },
    () => `${locator} should show ${expected}, shows "${seen}"`,
    timeout,
  );
  return seen;
}

export async function expectHeading(page, name) {
  await expectText(page.locator("main h1:visible"), name);
}

/** Open the Account screen from the main navigation and wait for its heading. */
export async function openAccount(page) {
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Account" }).click();
  await expectHeading(page, "Account");
}

/** A field shows an error next to it, is marked invalid and names that error in its description. */
export async function expectFieldError(page, inputSelector, expected) {
  const input = page.locator(inputSelector);
  const id = await input.getAttribute("id");
  await expectText(page.locator(`#${id}-error`), expected);
  assert.equal(await input.getAttribute("aria-invalid"), "true", `${inputSelector} should be aria-invalid`);
  const describedBy = (await input.getAttribute("aria-describedby")) || "";
  assert.ok(describedBy.split(/\s+/).includes(`${id}-error`), `${inputSelector} should be described by its error`);
  assert.equal(await page.locator(`#${id}-error`).getAttribute("aria-live"), "polite", "field errors are live");
}

/** The header names the signed-in user (phones show the name on the Account screen only). */
export async function expectUserName(page, name) {
  const header = page.locator("#user-name");
  await eventually(async () => (await header.textContent()) === name, () => `the header should name ${name}`);
  assert.equal(await header.isVisible(), page.viewportSize().width > 640);
}

export async function expectNotice(page, expected) {
  await expectText(page.locator("#notice"), expected);
}

/** Every control on the visible screen has an accessible name. */
export async function expectLabelledControls(page) {
  const unlabelled = await page.evaluate(() => {
    const controls = [...document.querySelectorAll("input, select, textarea, button, a[href]")];
    return controls
      .filter((control) => control.offsetParent !== null || control.closest("dialog[open]"))
      .filter((control) => {
        if (control.labels && control.labels.length) return false;
        if (control.getAttribute("aria-label") || control.getAttribute("aria-labelledby")) return false;
        return !control.textContent.trim() && !control.querySelector("img[alt]:not([alt=''])");
      })
      .map((control) => control.outerHTML.slice(0, 120));
  });
  assert.deepEqual(unlabelled, [], "every visible control should have a label");
}

/** Run axe with the mouse out of the way (no hover colours). */
export async function runAxeSettled(page, screen) {
  await page.mouse.move(0, 0);
  await runAxe(page, screen);
}

/**
 * Wait until no colour transition runs (a button leaving its busy or hover colours), so that axe
 * measures the colours that stay: two frames for a transition just triggered to start, then none
 * running.
 */
async function transitionsEnded(page) {
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
  await eventually(
    () => page.evaluate(() => document.getAnimations().every((animation) => animation.playState !== "running")),
    () => "the page's transitions should end",
  );
}

export async function runAxe(page, screen) {
  await transitionsEnded(page);
  if (!(await page.evaluate(() => typeof window.axe !== "undefined"))) {
    // Evaluated through the DevTools protocol, which the page's Content-Security-Policy allows.
    await page.evaluate(AXE_SOURCE);
  }
  const result = await page.evaluate(() =>
    window.axe.run(document, {
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"] },
      resultTypes: ["violations"],
    }),
  );
  const violations = result.violations.map(
    (violation) => `${violation.id} (${violation.impact}): ${violation.help} -> ${violation.nodes.map((node) => node.target.join(" ")).join(", ")}`,
  );
  assert.deepEqual(violations, [], `axe-core found accessibility problems on the ${screen} screen`);
}

/**
 * The page fits the screen's width: nothing to scroll sideways. Measured against the screen's own
 * width too: a mobile browser zooms out to show content wider than the page, and then reports the
 * wider size as innerWidth.
 */
export async function expectNoSidewaysScroll(page, screen) {
  const screenWidth = page.viewportSize().width;
  const { scrollWidth, innerWidth } = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
  }));
  assert.ok(
    scrollWidth <= innerWidth && innerWidth <= screenWidth,
    `${screen}: the page is ${scrollWidth}px wide (innerWidth ${innerWidth}px) on a ${screenWidth}px screen`,
  );
}

export async function focusIsVisible(page) {
  return page.evaluate(() => {
    const element = document.activeElement;
    if (!element || element === document.body) return { ok: false, element: "body" };
    const style = getComputedStyle(element);
    const rect = element.getBoundingClientRect();
    return {
      ok: style.outlineStyle !== "none" && Number.parseFloat(style.outlineWidth) >= 2 && rect.width > 0,
      element: element.outerHTML.slice(0, 80),
    };
  });
}

/** Wait until the focused element's text is `expected` (focus moves in the page's own tasks). */
export async function expectFocus(page, expected, why) {
  let seen = "";
  await eventually(
    async () => {
      seen = await page.evaluate(() => document.activeElement?.textContent ?? "");
      return seen === expected;
    },
    () => `${why}: focus should be on "${expected}", is on "${seen}"`,
  );
}

/** Press Tab until the element matching `selector` has the focus, checking each stop's focus ring. */
export async function tabTo(page, selector, limit = 40) {
  for (let step = 0; step < limit; step += 1) {
    await page.keyboard.press("Tab");
    const focus = await focusIsVisible(page);
    assert.ok(focus.ok, `keyboard focus should be visible on ${focus.element}`);
    if (await page.evaluate((wanted) => document.activeElement?.matches(wanted), selector)) return;
  }
  assert.fail(`Tab never reached ${selector}`);
}

/** The images matching `selector` that are on the screen have loaded. */
export async function imagesLoaded(page, selector) {
  await eventually(
    () =>
      page.evaluate((wanted) => {
        // Covers load lazily: those on the screen must have loaded.
        const onScreen = (image) => {
          const rect = image.getBoundingClientRect();
          return rect.bottom > 0 && rect.top < window.innerHeight;
        };
        const images = [...document.querySelectorAll(wanted)].filter(onScreen);
        return images.length > 0 && images.every((image) => image.complete && image.naturalWidth > 0);
      }, selector),
    () => `the images ${selector} should load`,
  );
}

/** A new page of the context, and the page errors and console errors it will meet (want none). */
export async function openPage(context) {
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const problems = [];
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    // Chromium logs each refused request (4xx) that the journey provokes on purpose.
    if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) {
      problems.push(`console error: ${message.text()}`);
    }
  });
  return { page, problems };
}
