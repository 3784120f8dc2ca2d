"""The description of the passkey routes (WebAuthn): register, list, delete, log in."""

from __future__ import annotations

from typing import Any

from api_docs.build import (
    LIMITED_JSON_WRITE,
    closed_object,
    envelope,
    error,
    json_body,
    path_parameter,
    ref,
    refs,
    success,
)

TAG = ["passkeys"]
PASSKEY = {
    "_id": "665f1c2e8b3a4d5e6f708195",
    "name": "Laptop",
    "created_at": "2026-06-01T12:00:00.000Z",
    "last_used_at": None,
}
CHALLENGE = "q1w2e3r4t5y6u7i8o9p0a1s2d3f4g5h6j7k8l9z0x1c2v3b4n5m6q1w2e3r4t5y6u7i8o9p0a1s2d3f4g5h6"
CREDENTIAL_ID = "wHrO-3hj8W82qCjhm38Z0BaT1Fg0z-uG8j0Ed33EzDE"
REFUSED = error(
    "The response failed a check (challenge unknown, spent or expired; origin, relying party, "
    "signature, counter, credential or owner wrong). One answer whatever failed.",
    "Passkey not recognised",
    "Unauthorized",
    {"WWW-Authenticate": ref("headers", "WWW-Authenticate")},
)


def bad_credential(shape: str) -> dict[str, Any]:
    """Return the 400 of a route whose `credential` is missing or not the WebAuthn shape."""
    return error(
        "The body is not a JSON object, or `credential` is missing or not a "
        f"`{shape}` object (`Invalid data` naming the field).",
        "Invalid data",
        {"credential": f"credential must be a WebAuthn {shape} object"},
    )


def object_of(description: str, required: list[str]) -> dict[str, Any]:
    """Return an open object schema (WebAuthn's JSON may grow) with required members."""
    return {"type": "object", "description": description, "required": required}


CREATION_OPTIONS = {
    "challenge": CHALLENGE,
    "rp": {"id": "books.example.com", "name": "Book Library"},
    "user": {"id": "Zl8cLos6TV5vcIGS", "name": "ada@example.com", "displayName": "Ada Lovelace"},
    "pubKeyCredParams": [{"type": "public-key", "alg": -8}, {"type": "public-key", "alg": -7}],
    "timeout": 120000,
    "excludeCredentials": [{"id": CREDENTIAL_ID, "type": "public-key", "transports": ["internal"]}],
    "authenticatorSelection": {
        "residentKey": "preferred",
        "requireResidentKey": False,
        "userVerification": "preferred",
    },
    "attestation": "none",
}
REQUEST_OPTIONS = {
    "challenge": CHALLENGE,
    "timeout": 120000,
    "rpId": "books.example.com",
    "allowCredentials": [{"id": CREDENTIAL_ID, "type": "public-key", "transports": ["internal"]}],
    "userVerification": "preferred",
}
REGISTRATION_RESPONSE = {
    "id": CREDENTIAL_ID,
    "rawId": CREDENTIAL_ID,
    "type": "public-key",
    "response": {
        "clientDataJSON": "eyJ0eXBlIjoid2ViYXV0aG4uY3JlYXRlIiwiY2hhbGxlbmdlIjoiLi4uIn0",
        "attestationObject": "o2NmbXRkbm9uZWdhdHRTdG10oGhhdXRoRGF0YVjF...",
        "transports": ["internal"],
    },
    "clientExtensionResults": {},
    "authenticatorAttachment": "platform",
}
AUTHENTICATION_RESPONSE = {
    "id": CREDENTIAL_ID,
    "rawId": CREDENTIAL_ID,
    "type": "public-key",
    "response": {
        "clientDataJSON": "eyJ0eXBlIjoid2ViYXV0aG4uZ2V0IiwiY2hhbGxlbmdlIjoiLi4uIn0",
        "authenticatorData": "SZYN5YgOjGh0NBcPZHZgW4_krrmihjLHmVzzuoMdl2MFAAAAAQ",
        "signature": "MEUCIQDx...",
        "userHandle": "Zl8cLos6TV5vcIGS",
    },
    "clientExtensionResults": {},
    "authenticatorAttachment": "platform",
}
LOGIN_DATA = {
    "_id": "665f1c2e8b3a4d5e6f708192",
    "name": "Ada Lovelace",
    "email": "ada@example.com",
    "active": True,
    "token": "eyJhbGciOiJIUzI1NiIsImtpZCI6IjBhMWIyYzNkNGU1ZjZhN2IiLCJ0eXAiOiJKV1QifQ.e30.c2ln",
    "refresh_token": "rt1.665f1c2e8b3a4d5e6f708193.0.Wm9vLWJhci1iYXotcXV4LWZvby1iYXItYmF6LXF1eC0x",
    "expires_in": 900,
}

SCHEMAS: dict[str, Any] = {
    "Passkey": closed_object(
        ["_id", "name", "created_at", "last_used_at"],
        {
            "_id": ref("schemas", "Id"),
            "name": {"type": "string", "minLength": 1, "maxLength": 64},
            "created_at": ref("schemas", "Timestamp"),
            "last_used_at": {
                "anyOf": [ref("schemas", "Timestamp"), {"type": "null"}],
                "description": "The last login with it; null until then.",
            },
        },
    ),
    "PasskeyEnvelope": envelope(ref("schemas", "Passkey"), {"const": "Passkey registered"}),
    "PasskeyListEnvelope": envelope(
        {"type": "array", "items": ref("schemas", "Passkey")},
        {"const": "successfully retrieved passkeys"},
    ),
    "CreationOptionsEnvelope": envelope(
        object_of(
            "PublicKeyCredentialCreationOptionsJSON: pass it to PublicKeyCredential."
            "parseCreationOptionsFromJSON() and navigator.credentials.create().",
            ["challenge", "rp", "user", "pubKeyCredParams", "timeout", "authenticatorSelection"],
        ),
        {"const": "Passkey creation options"},
    ),
    "RequestOptionsEnvelope": envelope(
        object_of(
            "PublicKeyCredentialRequestOptionsJSON: pass it to "
            "PublicKeyCredential.parseRequestOptionsFromJSON() and navigator.credentials.get().",
            ["challenge", "rpId", "allowCredentials", "userVerification", "timeout"],
        ),
        {"const": "Passkey login options"},
    ),
}

OPERATIONS: dict[str, dict[str, Any]] = {
    "passkeys.begin_registration": {
        "tags": TAG,
        "operationId": "beginPasskeyRegistration",
        "summary": "Begin adding a passkey: the creation options",
        "description": "Needs the current password (as for two-factor changes; wrong ones are "
        "rate limited per account). Answers the options for `navigator.credentials.create()` "
        "with a fresh challenge, valid once for `WEBAUTHN_CHALLENGE_TTL` seconds (5 minutes by "
        "default); the caller's passkeys are in `excludeCredentials` so one authenticator is "
        "not registered twice. Discoverable credentials are preferred (`residentKey`).",
        "requestBody": json_body({"password": "Analytical-Engine-1843"}),
        "responses": {
            "200": success(
                "The creation options.",
                "CreationOptionsEnvelope",
                {"message": "Passkey creation options", "data": CREATION_OPTIONS},
            ),
            "400": error(
                "The body is missing or not a JSON object, or the password is missing, not a "
                "string or wrong (`Invalid data` naming `password`).",
                "Invalid data",
                {"password": "password is incorrect"},
            ),
            **refs(*LIMITED_JSON_WRITE),
        },
    },
    "passkeys.add_passkey": {
        "tags": TAG,
        "operationId": "addPasskey",
        "summary": "Finish adding a passkey: the authenticator's response",
        "description": "`credential` is the `RegistrationResponseJSON` of "
        "`navigator.credentials.create()` (`PublicKeyCredential.toJSON()`), answering a "
        "challenge this user was given; `name` (1 to 64 characters, trimmed) defaults to "
        "`Passkey N`. The challenge is spent whatever the outcome. A response that fails any "
        "check (challenge, origin, relying party, attestation, a credential already "
        "registered) is a 401 `Passkey not recognised` (besides the token's own 401s); nothing "
        "is stored.",
        "requestBody": json_body({"credential": REGISTRATION_RESPONSE, "name": "Laptop"}),
        "responses": {
            "201": success(
                "The passkey is registered.",
                "PasskeyEnvelope",
                {"message": "Passkey registered", "data": PASSKEY},
            ),
            "400": bad_credential("RegistrationResponseJSON"),
            **refs("PayloadTooLarge", "UnsupportedMediaType", "ServiceUnavailable"),
        },
    },
    "passkeys.list_passkeys": {
        "tags": TAG,
        "operationId": "listPasskeys",
        "summary": "The caller's passkeys",
        "responses": {
            "200": success(
                "The caller's passkeys, oldest first.",
                "PasskeyListEnvelope",
                {"message": "successfully retrieved passkeys", "data": [PASSKEY]},
            ),
            **refs("ServiceUnavailable"),
        },
    },
    "passkeys.delete_passkey": {
        "tags": TAG,
        "operationId": "deletePasskey",
        "summary": "Remove a passkey",
        "description": "Removing the last one is allowed: every account keeps its password.",
        "parameters": [path_parameter("passkey_id", "The passkey's `_id`.", {"type": "string"})],
        "responses": {
            "204": {"description": "The passkey is removed; it no longer logs in."},
            "404": error(
                "The id is malformed, unknown, or another user's passkey.",
                "Passkey not found",
                "Not Found",
            ),
            **refs("ServiceUnavailable"),
        },
    },
    "passkeys.begin_login": {
        "tags": TAG,
        "operationId": "beginPasskeyLogin",
        "summary": "Begin a passkey login: the request options",
        "description": "No body (or no `email`): `allowCredentials` is empty and the browser "
        "offers the discoverable passkeys it holds for this site. With the `email` of an account "
        "that has passkeys, they are listed (for authenticators that need it) and only they can "
        "answer. An unknown email answers like one without passkeys. The challenge is valid "
        "once, for `WEBAUTHN_CHALLENGE_TTL` seconds. Each request stores a challenge, so "
        "requests are limited per client address (`RATELIMIT_PASSKEY_OPTIONS_PER_ADDRESS`).",
        "requestBody": json_body({"email": "ada@example.com"}, required=False),
        "responses": {
            "200": success(
                "The request options.",
                "RequestOptionsEnvelope",
                {"message": "Passkey login options", "data": REQUEST_OPTIONS},
            ),
            "400": error(
                "`email` is not a string.", "Invalid data", {"email": "email must be a string"}
            ),
            **refs(*LIMITED_JSON_WRITE),
        },
    },
    "passkeys.log_in_with_passkey": {
        "tags": TAG,
        "operationId": "logInWithPasskey",
        "summary": "Log in with a passkey",
        "description": "`credential` is the `AuthenticationResponseJSON` of "
        "`navigator.credentials.get()`. Answers what a password login answers: the user, an "
        "access token and a refresh token, for a new session in the session list. A passkey "
        "whose authenticator verified the user (the UV flag: PIN, fingerprint, face) is two "
        "factors: no `otp` is asked. An account with two-factor authentication on refuses a "
        "passkey without user verification. Failures are rate limited per client address, "
        "like wrong passwords.",
        "requestBody": json_body({"credential": AUTHENTICATION_RESPONSE}),
        "responses": {
            "200": success(
                "Logged in.",
                "LoginEnvelope",
                {"message": "Successfully fetched auth token", "data": LOGIN_DATA},
            ),
            "400": bad_credential("AuthenticationResponseJSON"),
            "401": REFUSED,
            "403": error(
                "The server requires verified email addresses and this one is not verified yet.",
                "Please confirm your email address first: use the link we emailed you",
                "email_not_verified",
            ),
            **refs(*LIMITED_JSON_WRITE),
        },
    },
}
