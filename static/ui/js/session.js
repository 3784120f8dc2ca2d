// The signed-in session: the access token in memory, the refresh token in sessionStorage.
//
// The access token (15 minutes) lives only in this module's memory, so nothing persistent holds a
// token that opens the API. The refresh token is kept in sessionStorage: it survives a reload of
// this tab (the page trades it for a new pair at once) but not closing the tab, and other tabs
// never see it, so two tabs never race to rotate the same token (the API revokes a session whose
// spent refresh token comes back). See docs/clients.md, "Web front end".

import { ApiError, send } from "./http.js";

const STORAGE_KEY = "book-library.refresh-token";
// Refresh this long before the access token expires (at most a quarter of its lifetime).
const MARGIN_MS = 60_000;

let access = null; // {token, expiresAt, lifetime}
let pending = null;
const endedListeners = new Set();

/** Raised by calls that need a session once the session has ended. */
export class SessionEndedError extends Error {
  constructor(reason) {
    super(`session ended: ${reason}`);
    this.name = "SessionEndedError";
    this.reason = reason;
  }
}

function storage() {
  try {
    return window.sessionStorage;
  } catch {
    return null; // storage disabled: the session then lasts as long as the page
  }
}

function storedRefreshToken() {
  return storage()?.getItem(STORAGE_KEY) ?? null;
}

/** Tell whether this tab holds a session (in memory or a refresh token to resume it). */
export function hasSession() {
  return access !== null || storedRefreshToken() !== null;
}

/** Keep a new token pair from a login or a refresh. */
export function startSession({ token, refresh_token: refreshToken, expires_in: expiresIn }) {
  const lifetime = Math.max(1, Number(expiresIn) || 900) * 1000;
  access = { token, expiresAt: Date.now() + lifetime, lifetime };
  try {
    storage()?.setItem(STORAGE_KEY, refreshToken);
  } catch {
    // Storage full or disabled: the session still works until the page is closed or reloaded.
  }
}

/** Forget both tokens (after logging out, signing out everywhere or disabling the account). */
export function clearSession() {
  access = null;
  pending = null;
  storage()?.removeItem(STORAGE_KEY);
}

/** Call back when the API ends the session by itself (revoked, expired, account disabled). */
export function onSessionEnded(listener) {
  endedListeners.add(listener);
}

/** Forget the session, tell the listeners, and return the error for callers to throw. */
export function endSession(reason) {
  const hadSession = hasSession();
  clearSession();
  if (hadSession) {
    endedListeners.forEach((listener) => listener(reason));
  }
  return new SessionEndedError(reason);
}

/** The access token now in memory, or null. */
export function currentAccessToken() {
  return access?.token ?? null;
}

/** An access token good for a while yet: the one in memory, or a freshly refreshed one. */
export async function accessToken() {
  if (access) {
    const margin = Math.min(MARGIN_MS, access.lifetime / 4);
    if (access.expiresAt - Date.now() > margin) {
      return access.token;
    }
  }
  return (await refreshTokens()).token;
}

/** Trade the refresh token for a new pair; concurrent callers share one exchange. */
export function refreshTokens() {
  if (!pending) {
    pending = rotate().finally(() => {
      pending = null;
    });
  }
  return pending;
}

async function rotate() {
  const refreshToken = storedRefreshToken();
  if (!refreshToken) {
    throw endSession("no refresh token");
  }
  for (let attempt = 1; ; attempt += 1) {
    try {
      const { data } = await send("users/token/refresh", {
        method: "POST",
        json: { refresh_token: refreshToken },
      });
      startSession(data);
      return access;
    } catch (error) {
      // A lost answer may be retried with the same token: the API answers the same new pair.
      if (error instanceof ApiError && error.network && attempt < 2) {
        await new Promise((resolve) => setTimeout(resolve, 1000));
        continue;
      }
      if (error instanceof ApiError && (error.status === 401 || error.status === 400)) {
        throw endSession("refresh refused");
      }
      throw error; // 429, 503 or offline: the refresh token is kept for the next try
    }
  }
}
