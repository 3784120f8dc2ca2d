// Add a book or edit one: fields, a cover upload with a preview, and safe concurrent edits.

import { api } from "../api.js";
import {
  clearFieldError,
  clearMessages,
  setBusy,
  showClientErrors,
  showErrors,
  showFieldError,
} from "../forms.js";
import { describeError } from "../messages.js";
import { appendCategoryOptions } from "../spec.js";
import { flash, go, notify, state } from "../shell.js";

const COVER_TYPES = ["image/jpeg", "image/png", "image/gif", "image/webp"];
const COVER_MAX_BYTES = 5 * 1024 * 1024;
const PREVIEW_SIZE = 150;

const element = (id) => document.getElementById(id);
const form = () => element("book-form");

let editing = null; // {id, etag, book} while editing, null while adding
let idempotencyKey = null;
let returnTo = null; // the book's own page, when the edit started there; else the shelf
// The check of the chosen cover (decoded for the preview): resolves true when it is an image.
let coverCheck = Promise.resolve(true);
const UNREADABLE_COVER = "This file is not a readable image. Choose a JPEG, PNG, GIF or WebP image.";

function newIdempotencyKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

function fill(book) {
  const fields = form().elements;
  fields.title.value = book.title || "";
  fields.category.value = book.category || "";
  fields.isbn.value = book.isbn || "";
  fields.description.value = book.description || "";
  const current = element("book-current-cover");
  current.hidden = !book.image_url;
  if (book.image_url) {
    const image = element("book-current-cover-image");
    image.src = book.image_url;
    image.alt = `Current cover of ${book.title}`;
  }
}

function resetCover() {
  form().elements.cover_image.value = "";
  element("book-preview").hidden = true;
}

/**
 * Draw the chosen file as the server will keep it: bounded by 150 x 150, aspect kept. A file the
 * browser cannot decode is refused here, before any upload. Resolve true when it is an image.
 */
async function showPreview(file) {
  const figure = element("book-preview");
  const canvas = element("book-preview-canvas");
  const caption = element("book-preview-caption");
  let bitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    if (form().elements.cover_image.files[0] === file) {
      figure.hidden = true;
      showFieldError(form().elements.cover_image, UNREADABLE_COVER);
    }
    return false;
  }
  if (form().elements.cover_image.files[0] !== file) {
    bitmap.close(); // another file was chosen meanwhile
    return true;
  }
  figure.hidden = false;
  const scale = Math.min(1, PREVIEW_SIZE / bitmap.width, PREVIEW_SIZE / bitmap.height);
  canvas.width = Math.max(1, Math.round(bitmap.width * scale));
  canvas.height = Math.max(1, Math.round(bitmap.height * scale));
  canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  bitmap.close();
  canvas.hidden = false;
  canvas.setAttribute("aria-label", `Preview of the new cover, ${file.name}`);
  caption.textContent = "New cover preview";
  return true;
}

function onCoverChosen() {
  const input = form().elements.cover_image;
  clearFieldError(input);
  const file = input.files[0];
  element("book-preview").hidden = true;
  coverCheck = Promise.resolve(true);
  if (!file) {
    return;
  }
  if (file.type && !COVER_TYPES.includes(file.type)) {
    showFieldError(input, "This file is not a JPEG, PNG, GIF or WebP image. Choose one of those.");
    return;
  }
  if (file.size > COVER_MAX_BYTES) {
    showFieldError(input, "This image is larger than 5 MB. Choose a smaller file.");
    return;
  }
  coverCheck = showPreview(file);
}

async function clientErrors() {
  const fields = {};
  const elements = form().elements;
  if (!elements.title.value.trim()) fields.title = "Enter the book's title.";
  if (!elements.category.value) fields.category = "Choose a category.";
  const file = elements.cover_image.files[0];
  if (!editing && !file) fields.cover_image = "Choose a cover image.";
  if (file && file.type && !COVER_TYPES.includes(file.type)) {
    fields.cover_image = "This file is not a JPEG, PNG, GIF or WebP image. Choose one of those.";
  } else if (file && file.size > COVER_MAX_BYTES) {
    fields.cover_image = "This image is larger than 5 MB. Choose a smaller file.";
  } else if (file && !(await coverCheck)) {
    fields.cover_image = UNREADABLE_COVER;
  }
  return fields;
}

function formData() {
  const elements = form().elements;
  const data = new FormData();
  data.append("title", elements.title.value.trim());
  data.append("category", elements.category.value);
  data.append("description", elements.description.value.trim());
  const isbn = elements.isbn.value.trim();
  if (isbn || editing) data.append("isbn", isbn); // an empty ISBN clears it on an edit
  const file = elements.cover_image.files[0];
  if (file) data.append("cover_image", file, file.name);
  return data;
}

function reloadButton() {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "button button-secondary button-small";
  button.textContent = "Load the latest version";
  button.addEventListener("click", async () => {
    await loadBook(editing.id);
    notify("This is the latest version of the book. Make your changes again, then save.");
    form().elements.title.focus();
  });
  return button;
}

async function submit(event) {
  event.preventDefault();
  const bookForm = form();
  clearMessages(bookForm);
  const fields = await clientErrors();
  if (showClientErrors(bookForm, fields)) return;
  setBusy(bookForm, true);
  try {
    if (editing) {
      const { data } = await api(`books/${editing.id}`, {
        method: "PUT",
        form: formData(),
        headers: editing.etag ? { "If-Match": editing.etag } : {},
      });
      flash(`Saved your changes to “${data.title}”.`);
    } else {
      idempotencyKey ??= newIdempotencyKey();
      const { data } = await api("books/", {
        method: "POST",
        form: formData(),
        headers: { "Idempotency-Key": idempotencyKey },
      });
      idempotencyKey = null;
      flash(`Added “${data.title}” to your shelf.`);
    }
    go(editing ? returnTo || state.lastShelfHash : "#/shelf");
  } catch (error) {
    if (error.name === "SessionEndedError") return;
    // A key is reused only for a retry of a request that got no answer at all.
    if (!error.network) idempotencyKey = null;
    const described = describeError(error, "book");
    if (described.conflict) described.nodes = [reloadButton()];
    showErrors(bookForm, described);
  } finally {
    setBusy(bookForm, false);
  }
}

async function loadBook(id) {
  const { data, response } = await api(`books/${id}`);
  editing = { id, etag: response.headers.get("ETag"), book: data };
  fill(data);
  element("book-title-heading").textContent = `Edit “${data.title}”`;
  document.title = `Edit ${data.title} – Book library`;
  return data;
}

export function init() {
  appendCategoryOptions(element("book-category"));
  form().addEventListener("submit", submit);
  form().elements.cover_image.addEventListener("change", onCoverChosen);
}

export const bookView = {
  async enter(params, query) {
    const bookForm = form();
    bookForm.reset();
    clearMessages(bookForm);
    resetCover();
    editing = null;
    idempotencyKey = null;
    coverCheck = Promise.resolve(true);
    const id = params[0];
    // Opened from the book's own page (?from=book): Cancel and Save go back there.
    returnTo = id && query.get("from") === "book" ? `#/books/${id}` : null;
    const back = returnTo || (id ? state.lastShelfHash : "#/shelf");
    element("book-back").href = back;
    element("book-back").textContent = returnTo ? "Back to the book" : "Back to my shelf";
    element("book-cancel").href = back;
    const cover = bookForm.elements.cover_image;
    element("book-submit").textContent = id ? "Save changes" : "Add book";
    element("book-cover-label").textContent = id ? "New cover image (optional)" : "Cover image";
    cover.required = !id;
    if (!id) {
      element("book-title-heading").textContent = "Add a book";
      element("book-current-cover").hidden = true;
      return;
    }
    element("book-title-heading").textContent = "Edit a book";
    element("book-current-cover").hidden = true;
    setBusy(bookForm, true);
    bookForm.inert = true; // nothing to type into until the book's current fields are in
    try {
      await loadBook(id);
      setBusy(bookForm, false);
    } catch (error) {
      if (error.name === "SessionEndedError") return;
      editing = null;
      showErrors(bookForm, describeError(error, "book"));
    } finally {
      bookForm.inert = false;
    }
  },
};
