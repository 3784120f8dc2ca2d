// API errors in plain words, each attached to the field that caused it where there is one.

/** How a category is written on every screen: "picture book" -> "Picture book". */
export function categoryLabel(category) {
  const text = String(category || "");
  return text ? text[0].toUpperCase() + text.slice(1) : "";
}

// The API's password rules (validate.py, validate_password), in the order people read them.
const PASSWORD_RULES = [
  ["at least 8 characters", (password) => [...password].length >= 8],
  ["a lower-case letter", (password) => /\p{Ll}/u.test(password)],
  ["an upper-case letter", (password) => /\p{Lu}/u.test(password)],
  ["a digit", (password) => /\p{Nd}/u.test(password)],
  ["a symbol", (password) => /[^\p{L}\p{N}\s]/u.test(password)],
];

/** The password rules a password does not meet yet, in words ([] when it meets them all). */
export function missingPasswordRules(password) {
  return PASSWORD_RULES.filter(([, met]) => !met(String(password || ""))).map(([words]) => words);
}

/** "a, b and c". */
export function listInWords(items) {
  return items.length <= 1 ? items.join("") : `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
}

const FIELD_LABELS = {
  name: "Full name",
  email: "Email address",
  password: "Password",
  current_password: "Current password",
  new_password: "New password",
  title: "Title",
  description: "Description",
  category: "Category",
  isbn: "ISBN",
  cover_image: "Cover image",
  q: "Search",
  page: "Page",
  per_page: "Books per page",
  sort: "Sort order",
};

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Capitalise and end with a full stop. */
export function sentence(text) {
  const trimmed = String(text || "").trim();
  if (!trimmed) {
    return "";
  }
  const capitalised = trimmed[0].toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capitalised) ? capitalised : `${capitalised}.`;
}

/** Reword a validator message ("current_password is required and must be a string"). */
export function plainFieldMessage(field, message) {
  let text = String(message || "");
  const label = FIELD_LABELS[field];
  if (label) {
    const spoken = field.replace(/_/g, " ");
    text = text.replace(new RegExp(`^(${escapeRegExp(field)}|${escapeRegExp(spoken)})\\b`, "i"), label);
  }
  text = text
    .replace(/ is required and must be a string$/, " is required")
    .replace(/: it appears in lists of leaked passwords, choose another$/,
      ": it appears in lists of leaked passwords, so choose another one")
    .replace(/, e\.g\. '([^']*)'$/, ", for example $1");
  return sentence(text);
}

/** Say how long to wait, from a Retry-After header (seconds). */
export function waitText(retryAfter) {
  const seconds = Number.parseInt(retryAfter, 10);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    return "a little while";
  }
  if (seconds < 90) {
    return seconds === 1 ? "1 second" : `${seconds} seconds`;
  }
  const minutes = Math.ceil(seconds / 60);
  return `${minutes} minutes`;
}

function megabytes(message) {
  const bytes = Number.parseInt(/(\d+) bytes/.exec(message || "")?.[1] ?? "", 10);
  return Number.isFinite(bytes) ? `${Math.round((bytes / 1048576) * 10) / 10} MB` : "5 MB";
}

function bookError(error) {
  const { status, message } = error;
  if (status === 409) {
    const field = /this (title|isbn)/i.exec(message || "")?.[1]?.toLowerCase();
    if (field) {
      const what = field === "isbn" ? "ISBN" : "title";
      return { fields: { [field]: `You already have a book with this ${what} on your shelf.` } };
    }
    return { form: "The book changed while it was being saved. Please save again." };
  }
  if (status === 412) {
    return {
      form:
        "This book was changed somewhere else (another tab or device) after you opened it, " +
        "so your changes were not saved. Load the latest version, then make your changes again.",
      conflict: true,
    };
  }
  if (status === 404) {
    return { form: "This book is no longer on your shelf. It may have been deleted on another device." };
  }
  if (status === 422) {
    return {
      form:
        "An earlier attempt to add this book may already have worked. " +
        "Check your shelf before trying again.",
    };
  }
  if (status === 413) {
    return { fields: { cover_image: `This image is too large. Choose a file of at most ${megabytes(message)}.` } };
  }
  if ((status === 400 || status === 415) && /^cover image/i.test(message || "")) {
    return { fields: { cover_image: plainFieldMessage("cover_image", message) } };
  }
  return null;
}

/** The API refused the current password a form sent to prove it is the user (400 naming "password"). */
export function passwordRefused(error) {
  return error?.status === 400 && Boolean(error.error?.password);
}

/** The words for what any request can meet: the session ended, no network, too many, a server error. */
function generalError(error) {
  if (error?.name === "SessionEndedError") {
    return { form: "Your session has ended. Please log in again." };
  }
  if (!error || typeof error.status !== "number") {
    return { form: "Something went wrong in this page. Reload it and try again." };
  }
  const { status } = error;
  if (error.network) {
    return { form: "The library could not be reached. Check your connection and try again." };
  }
  if (status === 429) {
    return { form: `Too many attempts in a short time. Wait ${waitText(error.retryAfter)}, then try again.` };
  }
  if (status === 503) {
    return { form: "The library is unavailable for a moment. Please try again in a few seconds." };
  }
  if (status >= 500) {
    const reference = error.requestId ? ` If it keeps happening, quote reference ${error.requestId}.` : "";
    return { form: `Something went wrong on our side. Please try again.${reference}` };
  }
  return null;
}

/** The words for answers that mean something of their own on one screen (null elsewhere). */
function contextError(error, context) {
  const { status } = error;
  if (context === "login" && status === 401) {
    return {
      form: "That email address and password do not match an account. Check both and try again.",
      invalid: ["email", "password"],
    };
  }
  if (context === "signup" && status === 409) {
    return {
      fields: {
        email: "An account with this email address already exists. Log in instead, or use another address.",
      },
    };
  }
  if (context === "book") {
    const described = bookError(error);
    if (described) {
      return described;
    }
  }
  if (context === "sessions" && status === 404) {
    return { form: "That device was already signed out." };
  }
  return null;
}

/**
 * Describe an ApiError for the screen: {form, fields, invalid, conflict}.
 * context: login, signup, book, shelf, profile, password, sessions, account.
 */
export function describeError(error, context = "") {
  const described = generalError(error) ?? contextError(error, context);
  if (described) {
    return described;
  }
  const { status, message } = error;
  if (status === 400 && error.error && typeof error.error === "object") {
    const fields = {};
    for (const [field, text] of Object.entries(error.error)) {
      fields[field] = plainFieldMessage(field, text);
    }
    return { fields };
  }
  if (status === 400) {
    return { form: "Some details were missing or could not be read. Check the form and try again." };
  }
  if (status === 413) {
    return { form: `That is too much to send at once (the limit is ${megabytes(message)}).` };
  }
  if (status === 404) {
    return { form: "That could not be found. It may have been removed." };
  }
  return { form: sentence(message) || "Something went wrong. Please try again." };
}
