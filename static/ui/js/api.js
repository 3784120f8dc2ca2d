// Calls to the API on behalf of the signed-in user: a valid access token on every call, a silent
// refresh when it expires, and the session ended when the API no longer accepts it.

import { ApiError, send } from "./http.js";
import { accessToken, currentAccessToken, endSession, refreshTokens } from "./session.js";

export { ApiError } from "./http.js";
export { SessionEndedError } from "./session.js";

/**
 * Call the API. options: method, json (an object) or form (FormData), headers, and auth
 * (default true: send the access token, refresh it when needed).
 */
export async function api(path, { auth = true, ...options } = {}) {
  if (!auth) {
    return send(path, options);
  }
  const token = await accessToken();
  try {
    return await send(path, { ...options, token });
  } catch (error) {
    if (!(error instanceof ApiError) || !error.tokenRefused) {
      throw error;
    }
  }
  // 401 invalid_token: the token expired on the way or was replaced meanwhile. Try once more
  // with a fresh one.
  const latest = currentAccessToken();
  const retryToken = latest && latest !== token ? latest : (await refreshTokens()).token;
  try {
    return await send(path, { ...options, token: retryToken });
  } catch (error) {
    if (error instanceof ApiError && error.tokenRefused) {
      throw endSession("token refused");
    }
    throw error;
  }
}
