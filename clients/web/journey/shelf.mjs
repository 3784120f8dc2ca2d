// The journey's shelf steps: paging through books added from another device, the category filter
// and search, a network failure while loading, and the silent token refresh.

import assert from "node:assert/strict";

import {
  expectHeading,
  expectLabelledControls,
  expectNoSidewaysScroll,
  expectText,
  expectUserName,
  imagesLoaded,
  runAxe,
} from "./checks.mjs";
import { PASSWORD, PHONE_AGENT, SEED_BOOKS } from "./config.mjs";
import { Device } from "./device.mjs";

/** The shelf pages through covers added from another device (kept in j.phone and j.seeded). */
export async function shelfPages(j) {
  const { page, size, step, shelf, filtersToggle, screenshot } = j;
  step("the shelf pages through covers from another device");
  const phone = await new Device(PHONE_AGENT).logIn(size.email, PASSWORD);
  const seeded = {};
  for (const [title, category, description, colour] of SEED_BOOKS) {
    seeded[title] = await phone.addBook(title, category, description, colour);
  }
  await page.reload();
  await expectHeading(page, "My shelf");
  await expectText(page.locator("#shelf-status"), "Showing 1–12 of 14 books.");
  await expectText(page.locator("#pager-position"), "Page 1 of 2");
  assert.equal(await page.locator(".book-card").count(), 12);
  await expectText(page.locator(".book-card").first(), "Rebecca");
  assert.ok(await shelf.getByRole("button", { name: "Previous page" }).isDisabled());
  assert.ok(await shelf.getByRole("button", { name: "First page" }).isDisabled());
  assert.equal(await shelf.getByRole("button", { name: "Page 1", exact: true }).getAttribute("aria-current"), "page");
  if (size.isMobile) {
    // On a phone the filters fold behind a button, which says how many are active.
    assert.equal(await shelf.getByLabel("Sort by").isVisible(), false, "the filters are folded on a phone");
    assert.equal(await filtersToggle.getAttribute("aria-expanded"), "false");
  } else {
    assert.equal(await filtersToggle.isVisible(), false, "a desktop shows the filters at once");
  }
  await imagesLoaded(page, ".book-card img");
  await expectLabelledControls(page);
  await runAxe(page, "shelf");
  await screenshot("shelf");
  await shelf.getByRole("button", { name: "Page 2", exact: true }).click();
  await expectText(page.locator("#pager-position"), "Page 2 of 2");
  await expectText(page.locator("#shelf-status"), "Showing 13–14 of 14 books.");
  assert.match(page.url(), /#\/shelf\?page=2$/, "the page is in the address");
  assert.ok(await shelf.getByRole("button", { name: "Last page" }).isDisabled());
  assert.equal(await page.locator(".book-card").count(), 2);
  assert.ok(await shelf.getByRole("button", { name: "Next page" }).isDisabled());
  assert.equal(await page.evaluate(() => document.activeElement.id), "shelf-status", "after paging, focus is on the result count");
  await shelf.getByRole("button", { name: "Previous page" }).click();
  await expectText(page.locator("#pager-position"), "Page 1 of 2");
  j.phone = phone;
  j.seeded = seeded;
}

/** Category filter and search. */
export async function filterAndSearch(j) {
  const { page, size, step, shelf, filtersToggle } = j;
  step("category filter and search");
  if (size.isMobile) {
    await filtersToggle.click();
    assert.equal(await filtersToggle.getAttribute("aria-expanded"), "true");
  }
  // Categories are written the same way in the filter, on the cards and in the status line.
  const categoryNames = await shelf.getByLabel("Category", { exact: true }).locator("option").allInnerTexts();
  assert.deepEqual(categoryNames, ["All categories", "Romance", "Poetry", "Politics", "Picture book", "Science", "Fantasy", "Horror", "Thriller"]);
  await shelf.getByLabel("Category", { exact: true }).selectOption("poetry");
  await expectText(page.locator("#shelf-status"), "Showing 1–3 of 3 books in Poetry.");
  const poetry = await page.locator(".book-card .book-category").allInnerTexts();
  assert.deepEqual(poetry, ["Poetry", "Poetry", "Poetry"]);
  assert.equal(await page.locator("#shelf-pager").isVisible(), false, "one page needs no pager");
  await shelf.getByLabel("Search titles and descriptions").fill("ode");
  await shelf.getByLabel("Search titles and descriptions").press("Enter");
  await expectText(page.locator("#shelf-status"), "Showing 1 of 1 book in Poetry matching “ode”.");
  if (size.isMobile) await expectText(filtersToggle, "2 active");
  await expectText(page.locator(".book-card"), "Odes of Keats");
  await shelf.getByLabel("Category", { exact: true }).selectOption("");
  await shelf.getByLabel("Search titles and descriptions").fill("manderley");
  await shelf.getByRole("button", { name: "Search", exact: true }).click();
  await expectText(page.locator(".book-card"), "Rebecca");
  await shelf.getByLabel("Search titles and descriptions").fill("unicorns");
  await shelf.getByRole("button", { name: "Search", exact: true }).click();
  await expectText(page.locator("#shelf-empty"), "No books matching “unicorns”. Try another search or category.");
  await shelf.getByLabel("Sort by").selectOption("title");
  assert.match(page.url(), /#\/shelf\?q=unicorns&sort=title$/, "the shelf's view is in the address");
  await shelf.getByRole("button", { name: "Clear filters" }).click();
  await expectText(page.locator("#shelf-status"), "Showing 1–12 of 14 books.");
  assert.equal(await shelf.getByLabel("Search titles and descriptions").inputValue(), "");
}

/** The network fails while the shelf loads: an error, no stale books, a retry that loads. */
export async function shelfLoadFails(j) {
  const { page, step, shelf } = j;
  step("the network fails while the shelf loads: an error, no stale books, a retry that loads");
  await page.route("**/books/?*", (route) => route.abort("internetdisconnected"), { times: 1 });
  await shelf.getByLabel("Category", { exact: true }).selectOption("horror");
  await expectText(page.locator("#shelf-error"), "Your shelf could not be loaded. The library could not be reached.");
  assert.equal(await page.locator(".book-card").count(), 0, "no books of the last list stay under the error");
  assert.equal(await page.locator("#shelf-status").innerText(), "", "no count of the last list either");
  assert.equal(await page.locator("#shelf-pager").isVisible(), false);
  await expectNoSidewaysScroll(page, "shelf load error");
  let releaseList;
  const listHeld = new Promise((resolve) => {
    releaseList = resolve;
  });
  await page.route(
    "**/books/?*",
    async (route) => {
      await listHeld;
      await route.continue();
    },
    { times: 1 },
  );
  await page.locator("#shelf-error").getByRole("button", { name: "Try again" }).click();
  // While the answer is held back, the page says it is loading.
  await expectText(page.locator("#shelf-status"), "Loading your books…");
  assert.equal(await page.locator("#shelf-error").innerText(), "", "the retry clears the error");
  releaseList();
  await expectText(page.locator("#shelf-status"), "Showing 1–2 of 2 books in Horror.");
  assert.deepEqual(await page.locator(".book-card .book-title").allInnerTexts(), ["Dracula", "Frankenstein"]);
  await shelf.getByRole("button", { name: "Clear filters" }).click();
  await expectText(page.locator("#shelf-status"), "Showing 1–12 of 14 books.");
}

/** Silent refresh: short-lived access tokens, a reload, a token refused mid-way. */
export async function silentRefresh(j) {
  const { page, size, step, shelf, filtersToggle, refreshes } = j;
  step("silent refresh: short-lived access tokens, a reload, a token refused mid-way");
  const before = refreshes.length;
  await page.reload();
  await expectHeading(page, "My shelf");
  await expectUserName(page, size.user);
  assert.ok(refreshes.length > before, "a reload resumes the session with the refresh token");
  await expectText(page.locator("#shelf-status"), "Showing 1–12 of 13 books.");
  await page.route(
    "**/books/?*",
    (route) =>
      route.fulfill({
        status: 401,
        headers: { "Content-Type": "application/json", "WWW-Authenticate": 'Bearer error="invalid_token"' },
        body: JSON.stringify({ message: "Invalid Authentication token!", data: null, error: "Unauthorized" }),
      }),
    { times: 1 },
  );
  const beforeRetry = refreshes.length;
  if (size.isMobile) await filtersToggle.click(); // folded again after the reload
  await shelf.getByLabel("Sort by").selectOption("title");
  await expectText(page.locator(".book-card").first(), "A Brief History of Time");
  // The shelf came back although its first answer was a 401: the page refreshed and retried.
  assert.ok(refreshes.length > beforeRetry, "a refused token is refreshed and the call retried");
  await expectHeading(page, "My shelf");
}
