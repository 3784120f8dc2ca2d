// The shelf: one page of books with their covers, search, category filter, sort and paging.

import { api } from "../api.js";
import { clearFieldError, showFieldError } from "../forms.js";
import { CATEGORIES, describeError } from "../messages.js";
import { confirmAction, go, notify, state } from "../shell.js";

const SORTS = ["-created_at", "created_at", "title", "-title"];
const PAGE_SIZES = ["12", "24", "48"];
const DEFAULTS = { page: 1, per_page: "12", sort: "-created_at", category: "", q: "" };

const element = (id) => document.getElementById(id);
let current = { ...DEFAULTS };
let loadNumber = 0;
let focusAfterLoad = false;

function readQuery(query) {
  const page = Number.parseInt(query.get("page") || "1", 10);
  const perPage = query.get("per_page") || DEFAULTS.per_page;
  const sort = query.get("sort") || DEFAULTS.sort;
  const category = query.get("category") || "";
  return {
    page: Number.isFinite(page) && page >= 1 ? page : 1,
    per_page: PAGE_SIZES.includes(perPage) ? perPage : DEFAULTS.per_page,
    sort: SORTS.includes(sort) ? sort : DEFAULTS.sort,
    category: CATEGORIES.includes(category) ? category : "",
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
  title.textContent = book.title;
  const cover = item.querySelector(".book-cover");
  cover.src = book.image_url;
  cover.alt = `Cover of ${book.title}`;
  item.querySelector(".book-category").textContent = book.category;
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
  if (view.category) text += ` in ${view.category}`;
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
    element("shelf-status").textContent = `Showing ${from}–${to} of ${total} ${noun}${describeSelection(view)}.`;
  } else {
    element("shelf-status").textContent = filtered ? "No books found." : "";
  }
  const pager = element("shelf-pager");
  pager.hidden = pages <= 1;
  element("pager-position").textContent = `Page ${view.page} of ${Math.max(pages, 1)}`;
  element("pager-previous").disabled = view.page <= 1;
  element("pager-next").disabled = view.page >= pages;
}

async function load() {
  const view = current;
  const number = ++loadNumber;
  const params = new URLSearchParams({ page: view.page, per_page: view.per_page, sort: view.sort });
  if (view.category) params.set("category", view.category);
  if (view.q) params.set("q", view.q);
  const list = element("book-list");
  list.setAttribute("aria-busy", "true");
  element("shelf-error").textContent = "";
  clearFieldError(element("shelf-q"));
  let answer;
  try {
    answer = await api(`books/?${params}`);
  } catch (error) {
    if (number !== loadNumber || error.name === "SessionEndedError") return;
    list.setAttribute("aria-busy", "false");
    const described = describeError(error, "shelf");
    if (described.fields?.q) {
      showFieldError(element("shelf-q"), described.fields.q);
    } else {
      const text = [described.form, ...Object.values(described.fields || {})].filter(Boolean).join(" ");
      element("shelf-error").textContent = `Your shelf could not be loaded. ${text}`;
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
  const confirmed = await confirmAction({
    title: "Delete this book?",
    message: `“${book.title}” and its cover will be removed from your shelf. This cannot be undone.`,
    confirmLabel: "Delete book",
  });
  if (!confirmed) return;
  button.disabled = true;
  try {
    await api(`books/${book._id}`, { method: "DELETE" });
    notify(`Deleted “${book.title}”.`);
  } catch (error) {
    if (error.name === "SessionEndedError") return;
    if (error.status === 404) {
      notify(`“${book.title}” was already deleted.`, "warning");
    } else {
      button.disabled = false;
      const message = document.createElement("p");
      message.className = "form-error";
      message.setAttribute("role", "alert");
      message.textContent = `Not deleted. ${describeError(error, "book").form || ""}`;
      button.closest(".book-body").append(message);
      return;
    }
  }
  focusAfterLoad = true;
  await load();
}

export function init() {
  const category = element("shelf-category");
  for (const name of CATEGORIES) {
    category.append(new Option(name[0].toUpperCase() + name.slice(1), name));
  }
  element("shelf-status").tabIndex = -1;
  element("shelf-filters").addEventListener("submit", (event) => {
    event.preventDefault();
    applyFilters();
  });
  for (const id of ["shelf-category", "shelf-sort", "shelf-per-page"]) {
    element(id).addEventListener("change", applyFilters);
  }
  element("shelf-clear").addEventListener("click", () => go("#/shelf"));
  element("pager-previous").addEventListener("click", () => {
    focusAfterLoad = true;
    go(shelfHash({ ...current, page: current.page - 1 }));
  });
  element("pager-next").addEventListener("click", () => {
    focusAfterLoad = true;
    go(shelfHash({ ...current, page: current.page + 1 }));
  });
}

export const shelfView = {
  async enter(params, query) {
    current = readQuery(query);
    state.lastShelfHash = shelfHash(current);
    fillControls(current);
    await load();
  },
};
