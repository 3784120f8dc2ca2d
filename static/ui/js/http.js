// One HTTP exchange with the API: JSON or multipart in, the envelope out, every failure an ApiError.

// The API lives at the root of the origin that serves this page (/ui/js/http.js -> /).
export const API_ROOT = new URL("../../", import.meta.url);

/** A failed call: the API's status, message and error, or a network failure (status 0). */
export class ApiError extends Error {
  constructor({ status = 0, message = "", error = null, retryAfter = null, requestId = null, authenticate = null }) {
    super(message || `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.error = error;
    this.retryAfter = retryAfter;
    this.requestId = requestId;
    this.authenticate = authenticate;
  }

  /**
   * True for a 401 about the access token sent: the API's challenge then says invalid_token (RFC
   * 6750). Any other 401 refuses something else (a passkey's answer): a new token changes nothing.
   */
  get tokenRefused() {
    return this.status === 401 && /\berror="?invalid_token\b/i.test(this.authenticate || "");
  }

  /** True when no answer came back at all (offline, server down, connection cut). */
  get network() {
    return this.status === 0;
  }

  /** The per-field messages of a validation failure ({} otherwise). */
  get fieldErrors() {
    return this.error && typeof this.error === "object" ? this.error : {};
  }
}

/** Build fetch options from {method, json, form, headers, token}. */
export function requestInit({ method = "GET", json, form, headers = {}, token } = {}) {
  const init = { method, headers: { Accept: "application/json", ...headers }, cache: "no-store" };
  if (json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  } else if (form !== undefined) {
    init.body = form; // the browser writes the multipart boundary itself
  }
  if (token) {
    init.headers.Authorization = `Bearer ${token}`;
  }
  return init;
}

/** Send one request; resolve to {data, body, response} or reject with an ApiError. */
export async function send(path, options = {}) {
  let response;
  try {
    response = await fetch(new URL(path, API_ROOT), requestInit(options));
  } catch {
    throw new ApiError({ status: 0, message: "network error" });
  }
  let body = null;
  if (response.status !== 204 && (response.headers.get("Content-Type") || "").includes("json")) {
    try {
      body = await response.json();
    } catch {
      body = null;
    }
  }
  if (!response.ok) {
    throw new ApiError({
      status: response.status,
      message: body?.message ?? response.statusText,
      error: body?.error ?? null,
      retryAfter: response.headers.get("Retry-After"),
      requestId: response.headers.get("X-Request-ID"),
      authenticate: response.headers.get("WWW-Authenticate"),
    });
  }
  return { data: body?.data ?? null, body, response };
}
