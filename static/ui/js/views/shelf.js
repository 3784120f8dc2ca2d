// The shelf: one page of books with their covers, search, category filter, sort and numbered pages.

import { api } from "../api.js";
import { clearFieldError, showFieldError } from "../forms.js";
import { categoryLabel, describeError } from "../messages.js";
import { appendCategoryOptions, categoryNames } from "../spec.js";
import { confirmAndDelete } from "../delete-book.js";
import { go, notify, state } from "../shell.js";

const SORTS = ["-created_at", "created_at", "title", "-title"];
const PAGE_SIZES = ["12", "24", "48"];
const DEFAULTS = { page: 1, per_page: "12", sort: "-created_at", category: "", q: "" };

const element = (id) => document.getElementById(id);
let current = { ...DEFAULTS };
let loadNumber = 0;
let focusAfterLoad = false;
let filtersOpen = false; // on a phone, the filters fold behind a button until it is pressed
// Pages numbered on each side of the current one (on a phone, only the nearest: see app.css).
const PAGE_NEIGHBOURS = 2;

function readQuery(query) {
  const page = Number.parseInt(query.get("page") || "1", 10);
  const perPage = query.get("per_page") || DEFAULTS.per_page;
  const sort = query.get("sort") || DEFAULTS.sort;
  const category = query.get("category") || "";
  return {
    page: Number.isFinite(page) && page >= 1 ? page : 1,
    per_page: PAGE_SIZES.includes(perPage) ? perPage : DEFAULTS.per_page,
    sort: SORTS.includes(sort) ? sort : DEFAULTS.sort,
    category: categoryNames().includes(category) ? category : "",
    q: (query.get("q") || "").trim().slice(0, 200),
  };
}

/** The address of a shelf view: only what differs from the defaults. */
function shelfHash(view) {
  const params = new URLSearchParams();
  for (const name of ["q", "category", "sort", "per_page", "page"]) {
    if (String(view[name]) !== String(DEFAULTS[name])) {
      params.set(name, view[name]);
    }
  }
  const text = params.toString();
  return text ? `#/shelf?${text}` : "#/shelf";
}

function fillControls(view) {
  element("shelf-q").value = view.q;
  element("shelf-category").value = view.category;
  element("shelf-sort").value = view.sort;
  element("shelf-per-page").value = view.per_page;
}

function applyFilters() {
  const form = element("shelf-filters");
  go(
    shelfHash({
      q: form.elements.q.value.trim(),
      category: form.elements.category.value,
      sort: form.elements.sort.value,
      per_page: form.elements.per_page.value,
      page: 1,
    }),
  );
}

function bookCard(book) {
  const item = element("book-card-template").content.firstElementChild.cloneNode(true);
  const titleId = `book-${book._id}-title`;
  item.querySelector("article").setAttribute("aria-labelledby", titleId);
  const title = item.querySelector(".book-title");
  title.id = titleId;
  const link = item.querySelector(".book-link");
  link.textContent = book.title;
  link.href = `#/books/${book._id}`;
  const cover = item.querySelector(".book-cover");
  cover.src = book.image_url;
  cover.alt = `Cover of ${book.title}`;
  item.querySelector(".book-category").textContent = categoryLabel(book.category);
  item.querySelector(".book-isbn").textContent = book.isbn ? `ISBN ${book.isbn}` : "";
  const description = item.querySelector(".book-description");
  description.textContent = book.description || "";
  description.hidden = !book.description;
  item.querySelector(".book-edit").href = `#/books/${book._id}/edit`;
  item.querySelector(".book-edit-name").textContent = ` ${book.title}`;
  item.querySelector(".book-delete-name").textContent = ` ${book.title}`;
  item.querySelector(".book-delete").addEventListener("click", (event) => deleteBook(book, event.currentTarget));
  return item;
}

function describeSelection(view) {
  let text = "";
  if (view.category) text += ` in ${categoryLabel(view.category)}`;
  if (view.q) text += ` matching “${view.q}”`;
  return text;
}

function render(view, books, pagination) {
  const { total, pages } = pagination;
  const list = element("book-list");
  list.replaceChildren(...books.map(bookCard));
  const filtered = Boolean(view.q || view.category);
  const empty = element("shelf-empty");
  empty.hidden = total > 0;
  element("shelf-empty-text").textContent = filtered
    ? `No books${describeSelection(view)}. Try another search or category.`
    : "Your shelf is empty. Add a book with its cover to start.";
  element("shelf-empty-add").hidden = filtered;
  if (total > 0) {
    const from = (view.page - 1) * Number(view.per_page) + 1;
    const to = from + books.length - 1;
    const noun = total === 1 ? "book" : "books";
    const range = from === to ? `${from}` : `${from}–${to}`;
    element("shelf-status").textContent = `Showing ${range} of ${total} ${noun}${describeSelection(view)}.`;
  } else {
    element("shelf-status").textContent = filtered ? "No books found." : "";
  }
  renderPager(view.page, pages);
}

function pageButton(label, page, { hiddenBefore = "", hiddenAfter = "", disabled = false, isCurrent = false } = {}) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "button button-secondary";
  // Visible words first, then the hidden rest: "First page", "Page 3" (the name contains the label).
  if (hiddenBefore) button.append(hiddenText(hiddenBefore));
  button.append(label);
  if (hiddenAfter) button.append(hiddenText(hiddenAfter));
  button.disabled = disabled;
  if (isCurrent) button.setAttribute("aria-current", "page");
  button.addEventListener("click", () => {
    if (page === current.page) return;
    focusAfterLoad = true;
    go(shelfHash({ ...current, page }));
  });
  return button;
}

function hiddenText(text) {
  const span = document.createElement("span");
  span.className = "visually-hidden";
  span.textContent = text;
  return span;
}

function listItem(child, className = "") {
  const item = document.createElement("li");
  if (className) item.className = className;
  item.append(child);
  return item;
}

/** First, Previous, the pages around this one (with gaps shown as …), Next, Last. */
function renderPager(page, pages) {
  element("shelf-pager").hidden = pages <= 1;
  element("pager-position").textContent = `Page ${page} of ${Math.max(pages, 1)}`;
  const items = [
    listItem(pageButton("First", 1, { hiddenAfter: " page", disabled: page <= 1 })),
    listItem(pageButton("Previous", page - 1, { hiddenAfter: " page", disabled: page <= 1 })),
  ];
  const low = Math.max(1, page - PAGE_NEIGHBOURS);
  const high = Math.min(pages, page + PAGE_NEIGHBOURS);
  if (low > 1) items.push(listItem(gap()));
  for (let number = low; number <= high; number += 1) {
    const far = Math.abs(number - page) > 1 ? "pager-far" : "";
    items.push(listItem(pageButton(String(number), number, { hiddenBefore: "Page ", isCurrent: number === page }), far));
  }
  if (high < pages) items.push(listItem(gap()));
  items.push(
    listItem(pageButton("Next", page + 1, { hiddenAfter: " page", disabled: page >= pages })),
    listItem(pageButton("Last", pages, { hiddenAfter: " page", disabled: page >= pages })),
  );
  element("pager-list").replaceChildren(...items);
}

function gap() {
  const span = document.createElement("span");
  span.className = "pager-gap";
  span.setAttribute("aria-hidden", "true");
  span.textContent = "…";
  return span;
}

/** Empty what the last load showed: after a failure nothing stale may look current. */
function clearResults() {
  element("book-list").replaceChildren();
  element("shelf-status").textContent = "";
  element("shelf-empty").hidden = true;
  element("shelf-pager").hidden = true;
}

function showLoadError(text) {
  const retry = document.createElement("button");
  retry.type = "button";
  retry.className = "button button-secondary button-small";
  retry.textContent = "Try again";
  retry.addEventListener("click", () => {
    focusAfterLoad = true;
    load();
  });
  const words = document.createElement("span");
  words.textContent = text;
  element("shelf-error").replaceChildren(words, retry);
  if (focusAfterLoad) {
    // The focused control (the last "Try again", a page number) is gone: the new retry takes it.
    focusAfterLoad = false;
    retry.focus();
  }
}

async function load() {
  const view = current;
  const number = ++loadNumber;
  const params = new URLSearchParams({ page: view.page, per_page: view.per_page, sort: view.sort });
  if (view.category) params.set("category", view.category);
  if (view.q) params.set("q", view.q);
  const list = element("book-list");
  list.setAttribute("aria-busy", "true");
  element("shelf-error").replaceChildren();
  element("shelf-status").textContent = "Loading your books…";
  clearFieldError(element("shelf-q"));
  let answer;
  try {
    answer = await api(`books/?${params}`);
  } catch (error) {
    if (number !== loadNumber || error.name === "SessionEndedError") return;
    list.setAttribute("aria-busy", "false");
    clearResults();
    const described = describeError(error, "shelf");
    if (described.fields?.q) {
      showFieldError(element("shelf-q"), described.fields.q);
    } else {
      const text = [described.form, ...Object.values(described.fields || {})].filter(Boolean).join(" ");
      showLoadError(`Your shelf could not be loaded. ${text}`);
    }
    return;
  }
  if (number !== loadNumber) return;
  list.setAttribute("aria-busy", "false");
  const { data, body } = answer;
  const pagination = body.pagination;
  if (data.length === 0 && pagination.total > 0 && view.page > pagination.pages) {
    go(shelfHash({ ...view, page: pagination.pages }), { replace: true });
    return;
  }
  render(view, data, pagination);
  if (focusAfterLoad) {
    focusAfterLoad = false;
    element("shelf-status").focus();
  }
}

async function deleteBook(book, button) {
  const outcome = await confirmAndDelete(book, button);
  if (outcome === "kept") return;
  if (outcome.failed) {
    const message = document.createElement("p");
    message.className = "form-error";
    message.setAttribute("role", "alert");
    message.textContent = outcome.failed;
    button.closest(".book-body").append(message);
    return;
  }
  if (outcome === "gone") notify(`“${book.title}” was already deleted.`, "warning");
  else notify(`Deleted “${book.title}”.`);
  focusAfterLoad = true;
  await load();
}

function renderFiltersToggle(view) {
  const active = [view.q, view.category].filter(Boolean).length;
  const count = element("shelf-filters-count");
  count.replaceChildren(...(active ? [hiddenText(", "), String(active), hiddenText(" active")] : []));
  element("shelf-filters-toggle").setAttribute("aria-expanded", String(filtersOpen));
  element("shelf-filters").classList.toggle("filters-open", filtersOpen);
}

export function init() {
  appendCategoryOptions(element("shelf-category"));
  element("shelf-filters-toggle").addEventListener("click", () => {
    filtersOpen = !filtersOpen;
    renderFiltersToggle(current);
    if (filtersOpen) element("shelf-q").focus();
  });
  element("shelf-status").tabIndex = -1;
  element("shelf-filters").addEventListener("submit", (event) => {
    event.preventDefault();
    applyFilters();
  });
  for (const id of ["shelf-category", "shelf-sort", "shelf-per-page"]) {
    element(id).addEventListener("change", applyFilters);
  }
  element("shelf-clear").addEventListener("click", () => go("#/shelf"));
}

export const shelfView = {
  async enter(params, query) {
    current = readQuery(query);
    state.lastShelfHash = shelfHash(current);
    fillControls(current);
    renderFiltersToggle(current);
    await load();
  },
};
