// One book's page: the full description, a larger cover, the dates, and edit and delete from there.

import { api } from "../api.js";
import { categoryLabel, describeError } from "../messages.js";
import { confirmAndDelete } from "../delete-book.js";
import { flash, formatDate, go, state } from "../shell.js";

const element = (id) => document.getElementById(id);

let shown = null; // the book on the page
let loadNumber = 0;

function render(book) {
  shown = book;
  element("book-page-title").textContent = book.title;
  document.title = `${book.title} – Book library`;
  const cover = element("book-page-cover");
  cover.src = book.image_url;
  cover.alt = `Cover of ${book.title}`;
  element("book-page-category").textContent = categoryLabel(book.category);
  element("book-page-isbn").textContent = book.isbn ? `ISBN ${book.isbn}` : "";
  element("book-page-created").textContent = formatDate(book.created_at);
  element("book-page-updated").textContent = formatDate(book.updated_at || book.created_at);
  const description = element("book-page-description");
  description.textContent = book.description || "No description yet.";
  description.classList.toggle("muted", !book.description);
  element("book-page-edit").href = `#/books/${book._id}/edit?from=book`;
  element("book-page").hidden = false;
}

async function deleteShown(button) {
  const book = shown;
  const outcome = await confirmAndDelete(book, button);
  if (outcome === "kept") return;
  if (outcome.failed) {
    const words = document.createElement("span");
    words.textContent = outcome.failed;
    element("book-page-error").replaceChildren(words);
    return;
  }
  if (outcome === "gone") flash(`“${book.title}” was already deleted.`, "warning");
  else flash(`Deleted “${book.title}”.`);
  go(state.lastShelfHash);
}

export function init() {
  element("book-page-delete").addEventListener("click", (event) => deleteShown(event.currentTarget));
}

export const bookPageView = {
  async enter(params) {
    const number = ++loadNumber;
    shown = null;
    element("book-page").hidden = true;
    element("book-page-error").replaceChildren();
    element("book-page-delete").disabled = false;
    element("book-page-back").href = state.lastShelfHash;
    const loading = element("book-page-loading");
    loading.hidden = false;
    let data;
    try {
      ({ data } = await api(`books/${params[0]}`));
    } catch (error) {
      if (number !== loadNumber || error.name === "SessionEndedError") return;
      loading.hidden = true;
      const words = document.createElement("span");
      words.textContent = describeError(error, "book").form || "";
      element("book-page-error").replaceChildren(words);
      return;
    } finally {
      if (number === loadNumber) loading.hidden = true;
    }
    if (number !== loadNumber) return;
    render(data);
    element("book-page-title").focus();
  },
};
