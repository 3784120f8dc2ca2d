// Deleting a book after a confirmation: one dialog, one request and one set of outcomes for every
// screen that offers it (the shelf's cards and a book's own page); each screen shows the outcome.

import { api } from "./api.js";
import { describeError } from "./messages.js";
import { confirmAction } from "./shell.js";

// Ask, then delete. Resolves to "kept" (not confirmed, or the session ended and the page moved on),
// "deleted", "gone" (someone deleted it first) or { failed: <why, in words> } (the button is
// enabled again so the user can retry).
export async function confirmAndDelete(book, button) {
  const confirmed = await confirmAction({
    title: "Delete this book?",
    message: `“${book.title}” and its cover will be removed from your shelf. This cannot be undone.`,
    confirmLabel: "Delete book",
  });
  if (!confirmed) return "kept";
  button.disabled = true;
  try {
    await api(`books/${book._id}`, { method: "DELETE" });
    return "deleted";
  } catch (error) {
    if (error.name === "SessionEndedError") return "kept";
    if (error.status === 404) return "gone";
    button.disabled = false;
    return { failed: `Not deleted. ${describeError(error, "book").form || ""}` };
  }
}
