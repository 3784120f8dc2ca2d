// Passkeys in the browser: the API's WebAuthn JSON (base64url without padding) turned into the
// options navigator.credentials expects, and the authenticator's answer turned back into the
// standard RegistrationResponseJSON / AuthenticationResponseJSON the API reads.
//
// Browsers with PublicKeyCredential.parse*OptionsFromJSON and credential.toJSON() (Chrome 129,
// Firefox 119, Safari 18) do the conversion themselves; older ones use the fallback here, which
// writes the same fields.

/** True when this browser can use passkeys at all (PublicKeyCredential exists). */
export function passkeysSupported() {
  return typeof window.PublicKeyCredential === "function" && Boolean(navigator.credentials);
}

/** Bytes (ArrayBuffer or a view) as base64url without padding. */
export function toBase64url(bytes) {
  const view = bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let binary = "";
  for (const byte of view) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** base64url (padded or not) as an ArrayBuffer. */
export function fromBase64url(text) {
  const base64 = String(text).replace(/-/g, "+").replace(/_/g, "/");
  const binary = atob(base64.padEnd(Math.ceil(base64.length / 4) * 4, "="));
  const bytes = new Uint8Array(binary.length);
  for (let index = 0; index < binary.length; index += 1) bytes[index] = binary.charCodeAt(index);
  return bytes.buffer;
}

function decodeDescriptors(descriptors) {
  return (descriptors || []).map((descriptor) => ({ ...descriptor, id: fromBase64url(descriptor.id) }));
}

/** PublicKeyCredentialCreationOptionsJSON -> the options navigator.credentials.create() takes. */
export function creationOptionsFromJSON(json) {
  return {
    ...json,
    challenge: fromBase64url(json.challenge),
    user: { ...json.user, id: fromBase64url(json.user.id) },
    excludeCredentials: decodeDescriptors(json.excludeCredentials),
  };
}

/** PublicKeyCredentialRequestOptionsJSON -> the options navigator.credentials.get() takes. */
export function requestOptionsFromJSON(json) {
  return { ...json, challenge: fromBase64url(json.challenge), allowCredentials: decodeDescriptors(json.allowCredentials) };
}

function optionalBase64url(bytes) {
  return bytes ? toBase64url(bytes) : undefined;
}

/** The parts of a response both ceremonies share. */
function credentialFields(credential) {
  return {
    id: credential.id,
    rawId: toBase64url(credential.rawId),
    type: credential.type,
    clientExtensionResults: credential.getClientExtensionResults?.() ?? {},
    authenticatorAttachment: credential.authenticatorAttachment ?? undefined,
  };
}

/** RegistrationResponseJSON of a new credential, written by hand (browsers without toJSON). */
export function registrationResponseJSON(credential) {
  const { response } = credential;
  return {
    ...credentialFields(credential),
    response: {
      clientDataJSON: toBase64url(response.clientDataJSON),
      attestationObject: toBase64url(response.attestationObject),
      authenticatorData: optionalBase64url(response.getAuthenticatorData?.()),
      publicKey: optionalBase64url(response.getPublicKey?.()),
      publicKeyAlgorithm: response.getPublicKeyAlgorithm?.(),
      transports: response.getTransports?.() ?? [],
    },
  };
}

/** AuthenticationResponseJSON of an assertion, written by hand (browsers without toJSON). */
export function authenticationResponseJSON(credential) {
  const { response } = credential;
  return {
    ...credentialFields(credential),
    response: {
      clientDataJSON: toBase64url(response.clientDataJSON),
      authenticatorData: toBase64url(response.authenticatorData),
      signature: toBase64url(response.signature),
      userHandle: optionalBase64url(response.userHandle),
    },
  };
}

/** The credential as JSON: the browser's own toJSON() when it has one, else the fallback. */
function credentialJSON(credential, fallback) {
  // A round trip through JSON drops the undefined members the fallback leaves out.
  return JSON.parse(JSON.stringify(typeof credential.toJSON === "function" ? credential.toJSON() : fallback(credential)));
}

/** Create a passkey from the API's creation options; resolve to its RegistrationResponseJSON. */
export async function createPasskey(optionsJSON) {
  const parse = window.PublicKeyCredential.parseCreationOptionsFromJSON;
  const publicKey = typeof parse === "function" ? parse(optionsJSON) : creationOptionsFromJSON(optionsJSON);
  const credential = await navigator.credentials.create({ publicKey });
  if (!credential) throw new DOMException("no credential", "NotAllowedError");
  return credentialJSON(credential, registrationResponseJSON);
}

/** Sign a login challenge with a passkey; resolve to its AuthenticationResponseJSON. */
export async function getPasskey(optionsJSON) {
  const parse = window.PublicKeyCredential.parseRequestOptionsFromJSON;
  const publicKey = typeof parse === "function" ? parse(optionsJSON) : requestOptionsFromJSON(optionsJSON);
  const credential = await navigator.credentials.get({ publicKey });
  if (!credential) throw new DOMException("no credential", "NotAllowedError");
  return credentialJSON(credential, authenticationResponseJSON);
}

/**
 * The browser's refusal in plain words (a DOMException from create or get), or null when the error
 * is not the browser's (an ApiError, for the caller to describe).
 */
export function describeCeremonyError(error, ceremony) {
  const name = error?.name;
  if (name === "NotAllowedError" || name === "AbortError") {
    // Browsers give the same error for a cancel, a timeout and no matching passkey, on purpose.
    return ceremony === "login"
      ? "Passkey sign-in was cancelled, timed out or found no passkey for this site. Try again, or log in with your password."
      : "Adding the passkey was cancelled or timed out. Nothing was saved.";
  }
  if (name === "InvalidStateError") {
    return "This device already holds a passkey for your account. Use that one, or add a passkey on another device.";
  }
  if (name === "SecurityError") {
    return "Passkeys do not work at this address: the library must be opened over HTTPS, or at localhost.";
  }
  if (name === "NotSupportedError") {
    return "This browser or device cannot make the kind of passkey the library asks for.";
  }
  if (name === "ConstraintError") {
    return "This device cannot verify you (no screen lock, fingerprint or face set up), so it cannot hold a passkey.";
  }
  if (error instanceof DOMException || error instanceof TypeError) {
    return `The browser refused the passkey request (${name}). Try again, or use another browser.`;
  }
  return null;
}
