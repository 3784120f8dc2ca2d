// The journey's book steps: adding one (errors, a cover preview), a duplicate title, a book's own
// page, an edit that meets a change from another device, and deleting with a confirmation.

import assert from "node:assert/strict";

import { coverPng } from "../png.mjs";
import {
  eventually,
  expectFieldError,
  expectFocus,
  expectHeading,
  expectLabelledControls,
  expectNotice,
  expectText,
  focusIsVisible,
  imagesLoaded,
  runAxe,
} from "./checks.mjs";

/** Add a book: missing fields, a bad ISBN, a file that is no image. */
export async function addBookErrors(j) {
  const { page, step, bookForm } = j;
  step("add a book: missing fields, a bad ISBN, a file that is no image");
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Add a book" }).click();
  await expectHeading(page, "Add a book");
  await bookForm.getByRole("button", { name: "Add book" }).click();
  await expectFieldError(page, "#book-title", "Enter the book's title.");
  await expectFieldError(page, "#book-category", "Choose a category.");
  await expectFieldError(page, "#book-cover", "Choose a cover image.");
  await bookForm.getByLabel("Title").fill("Sketch of the Analytical Engine");
  await bookForm.getByLabel("Category").selectOption("science");
  await bookForm.getByLabel("ISBN (optional)").fill("0-306-40615-3");
  await bookForm.getByLabel("Description (optional)").fill("Menabrea's paper, translated and annotated by Ada Lovelace.");
  // A file named .png that is no image is refused before any upload: the preview cannot decode it.
  let uploads = 0;
  const countUploads = (request) => {
    if (request.method() === "POST" && request.url().endsWith("/books/")) uploads += 1;
  };
  page.on("request", countUploads);
  await bookForm.getByLabel("Cover image").setInputFiles({ name: "scan.png", mimeType: "image/png", buffer: Buffer.from("not an image at all") });
  await expectFieldError(page, "#book-cover", "This file is not a readable image. Choose a JPEG, PNG, GIF or WebP image.");
  assert.equal(await page.locator("#book-preview").isVisible(), false, "no preview of a file that is no image");
  await bookForm.getByRole("button", { name: "Add book" }).click();
  await expectFieldError(page, "#book-cover", "This file is not a readable image.");
  assert.equal(uploads, 0, "a cover that is no image is never sent");
  page.off("request", countUploads);
  await bookForm.getByLabel("Cover image").setInputFiles({ name: "sketch.png", mimeType: "image/png", buffer: coverPng(90, 140, [29, 78, 216]) });
  await page.getByRole("img", { name: "Preview of the new cover, sketch.png" }).waitFor();
  await bookForm.getByRole("button", { name: "Add book" }).click();
  await expectFieldError(page, "#book-isbn", "ISBN must be a valid ISBN-10 or ISBN-13 (check digit included).");
  await bookForm.getByLabel("ISBN (optional)").fill("0-306-40615-2");
  await bookForm.getByLabel("Cover image").setInputFiles({ name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("hello") });
  await expectFieldError(page, "#book-cover", "This file is not a JPEG, PNG, GIF or WebP image.");
}

/** Add a book with a cover and its preview. */
export async function addBook(j) {
  const { page, step, bookForm, card, screenshot, scrollTo } = j;
  step("add a book with a cover and its preview");
  await bookForm.getByLabel("Cover image").setInputFiles({ name: "engine.png", mimeType: "image/png", buffer: coverPng(300, 450, [29, 78, 216]) });
  const preview = page.getByRole("img", { name: "Preview of the new cover, engine.png" });
  await preview.waitFor();
  assert.deepEqual(await preview.evaluate((canvas) => [canvas.width, canvas.height]), [100, 150], "the preview is the thumbnail's size");
  assert.equal(await page.locator("#book-cover-error").innerText(), "", "a good file clears the cover error");
  await expectLabelledControls(page);
  await runAxe(page, "add a book");
  await scrollTo("#book-form .actions", "end");
  await screenshot("book-new");
  await bookForm.getByRole("button", { name: "Add book" }).click();
  await expectHeading(page, "My shelf");
  await expectNotice(page, "Added “Sketch of the Analytical Engine” to your shelf.");
  await expectText(card("Sketch of the Analytical Engine"), "ISBN 9780306406157");
  await imagesLoaded(page, ".book-cover");
  assert.equal(
    await card("Sketch of the Analytical Engine").getByRole("img", { name: "Cover of Sketch of the Analytical Engine" }).evaluate((image) => image.naturalHeight),
    150,
  );
}

/** A second book with the same title is refused next to the title. */
export async function duplicateTitle(j) {
  const { page, step, bookForm } = j;
  step("a second book with the same title is refused next to the title");
  await page.locator("#view-shelf").getByRole("link", { name: "Add a book" }).click();
  await bookForm.getByLabel("Title").fill("sketch of the  ANALYTICAL engine");
  await bookForm.getByLabel("Category").selectOption("science");
  await bookForm.getByLabel("Cover image").setInputFiles({ name: "copy.png", mimeType: "image/png", buffer: coverPng(120, 180, [200, 80, 0]) });
  await bookForm.getByRole("button", { name: "Add book" }).click();
  await expectFieldError(page, "#book-title", "You already have a book with this title on your shelf.");
  await bookForm.getByRole("link", { name: "Cancel" }).click();
  await expectHeading(page, "My shelf");
}

/** A book's own page: the whole description, a larger cover, the dates, edit and delete. */
export async function bookPage(j) {
  const { page, step, card, phone, seeded, screenshot } = j;
  step("a book's own page: the whole description, a larger cover, the dates, edit and delete");
  const longDescription = `${"A paragraph about the book that goes on. ".repeat(12)}\nThe last line of the description.`;
  const described = await phone.call("PUT", `books/${seeded["Odes of Keats"]._id}`, {
    form: (() => {
      const form = new FormData();
      form.append("description", longDescription);
      return form;
    })(),
  });
  assert.equal(described.status, 200);
  await page.reload();
  await expectText(card("Odes of Keats"), "A paragraph about the book");
  // The card keeps a three-line excerpt: the description is cut, its last line not shown.
  const excerpt = await card("Odes of Keats").locator(".book-description").evaluate((paragraph) => ({
    clipped: paragraph.scrollHeight > paragraph.clientHeight,
    lines: Math.round(paragraph.clientHeight / Number.parseFloat(getComputedStyle(paragraph).lineHeight)),
  }));
  assert.deepEqual(excerpt, { clipped: true, lines: 3 }, "the card shows three lines of the description");
  await card("Odes of Keats").getByRole("link", { name: "Odes of Keats", exact: true }).click();
  await expectHeading(page, "Odes of Keats");
  assert.equal(await page.title(), "Odes of Keats – Book library");
  await expectText(page.locator("#book-page-description"), "The last line of the description.");
  await expectText(page.locator("#book-page"), "Poetry");
  await expectText(page.locator("#book-page"), /Added .*20\d\d/);
  await expectText(page.locator("#book-page"), /Last changed .*20\d\d/);
  await imagesLoaded(page, "#book-page-cover");
  const coverWidth = await page.locator("#book-page-cover").evaluate((image) => image.getBoundingClientRect().width);
  assert.ok(coverWidth > 100, `the cover is larger than on the card (${coverWidth}px)`);
  await expectLabelledControls(page);
  await runAxe(page, "book page");
  await screenshot("book-page");
  await page.getByRole("link", { name: "Edit this book" }).click();
  await expectHeading(page, "Edit “Odes of Keats”");
  await page.locator("#book-form").getByRole("link", { name: "Cancel" }).click();
  await expectHeading(page, "Odes of Keats");
  await page.getByRole("link", { name: "Back to my shelf" }).click();
  await expectHeading(page, "My shelf");
}

/** Edit a book changed meanwhile on another device: 412, reload, save. */
export async function editConflict(j) {
  const { page, step, bookForm, card, phone, seeded, screenshot, scrollTo } = j;
  step("edit a book changed meanwhile on another device: 412, reload, save");
  await card("The Hobbit").getByRole("link", { name: "Edit The Hobbit" }).click();
  await expectHeading(page, "Edit “The Hobbit”");
  assert.equal(await bookForm.getByLabel("Title").inputValue(), "The Hobbit");
  await scrollTo("#book-current-cover-image", "center");
  await imagesLoaded(page, "#book-current-cover-image");
  const changed = await phone.call("PUT", `books/${seeded["The Hobbit"]._id}`, {
    form: (() => {
      const form = new FormData();
      form.append("description", "Changed on the phone.");
      return form;
    })(),
  });
  assert.equal(changed.status, 200);
  await bookForm.getByLabel("Title").fill("The Hobbit, or There and Back Again");
  await bookForm.getByLabel("Category").selectOption("fantasy");
  await bookForm.getByLabel("New cover image (optional)").setInputFiles({ name: "hobbit.png", mimeType: "image/png", buffer: coverPng(240, 240, [20, 120, 90]) });
  await page.getByRole("img", { name: "Preview of the new cover, hobbit.png" }).waitFor();
  await bookForm.getByRole("button", { name: "Save changes" }).click();
  await expectText(page.locator("#book-form-error"), "This book was changed somewhere else (another tab or device) after you opened it");
  await runAxe(page, "edit conflict");
  await scrollTo("#book-form .actions", "end");
  await screenshot("book-edit-conflict");
  await page.getByRole("button", { name: "Load the latest version" }).click();
  await eventually(
    async () => (await bookForm.getByLabel("Description (optional)").inputValue()) === "Changed on the phone.",
    () => "the latest version should be loaded",
  );
  await bookForm.getByLabel("Title").fill("The Hobbit, or There and Back Again");
  await bookForm.getByRole("button", { name: "Save changes" }).click();
  await expectHeading(page, "My shelf");
  await expectNotice(page, "Saved your changes to “The Hobbit, or There and Back Again”.");
  const hobbit = card("The Hobbit, or There and Back Again");
  await expectText(hobbit, "Changed on the phone.");
  // Covers load lazily: on a phone this card may start below the fold.
  await hobbit.scrollIntoViewIfNeeded();
  await eventually(
    async () => (await hobbit.locator("img").evaluate((image) => image.complete && image.naturalWidth)) === 150,
    () => "the new square cover is shown",
  );
}

/** Delete with confirmation, keyboard only: Escape keeps the book, confirming deletes it. */
export async function deleteBook(j) {
  const { page, step, card, phone, seeded, screenshot } = j;
  step("delete with confirmation, keyboard only: Escape keeps the book, confirming deletes it");
  const dracula = card("Dracula");
  await dracula.getByRole("button", { name: "Delete Dracula" }).focus();
  await page.keyboard.press("Enter");
  const dialog = page.getByRole("dialog", { name: "Delete this book?" });
  await expectText(dialog, "“Dracula” and its cover will be removed from your shelf. This cannot be undone.");
  assert.equal(await page.evaluate(() => document.activeElement.textContent), "Cancel", "the safe choice has the focus");
  assert.ok((await focusIsVisible(page)).ok);
  await runAxe(page, "delete confirmation");
  await screenshot("delete-confirm");
  await page.keyboard.press("Escape");
  await eventually(async () => !(await dialog.isVisible()), () => "Escape should close the dialog");
  await expectFocus(page, "Delete Dracula", "focus returns to the button");
  assert.equal(await dracula.count(), 1);
  await page.keyboard.press("Enter");
  await dialog.waitFor();
  await expectFocus(page, "Cancel", "the safe choice has the focus again");
  // Escape's "close" event is queued as a task, so on a busy machine it can arrive after the next
  // confirmation opened. Made certain here: cancel and close as Escape does, open the next one at
  // once, and return only when the queued "close" was delivered. The new dialog must stay open.
  await dracula.getByRole("button", { name: "Delete Dracula" }).evaluate(async (button) => {
    const confirm = document.getElementById("confirm-dialog");
    const delivered = new Promise((resolve) => confirm.addEventListener("close", resolve, { once: true }));
    if (confirm.dispatchEvent(new Event("cancel", { cancelable: true })) && confirm.open) confirm.close();
    button.click();
    await delivered;
  });
  assert.equal(await dialog.isVisible(), true, "a late close event of the last dialog leaves the new one open");
  await expectFocus(page, "Cancel", "the new dialog has the focus");
  await page.keyboard.press("Tab");
  await expectFocus(page, "Delete book", "Tab goes from Cancel to the confirm button");
  await page.keyboard.press("Enter");
  await expectNotice(page, "Deleted “Dracula”.");
  await expectText(page.locator("#shelf-status"), "Showing 1–12 of 13 books.");
  assert.equal(await dracula.count(), 0);
  assert.equal((await phone.call("GET", `books/${seeded.Dracula._id}`)).status, 404);
}
