"""The prose of request fields: what /openapi.json says of each beside its limits from validate.py.

Keyed by field name, or by "SchemaName.field" where a schema says something of its own.
"""

from __future__ import annotations

from typing import Any

SECOND_FACTOR = {
    "description": "With two-factor authentication on: the authenticator app's current 6-digit "
    "code (each code works once) or one of the unused recovery codes.",
    "examples": ["123456", "abcd-efgh-jkmn-pqrs"],
}
NEW_PASSWORD = {
    "description": "8 to 128 characters (spaces and Unicode welcome) with a lower-case letter, an "
    "upper-case letter, a digit and a special character; not a well-known password.",
}
CATEGORY = {
    "description": "A book category. Case and extra spaces are ignored, and the tutorial's "
    "`peotry` is accepted as `poetry`.",
}

FIELDS: dict[str, dict[str, Any]] = {
    "name": {
        "description": "2 to 30 words, at most 100 characters, no control characters.",
        "examples": ["Ada Lovelace"],
    },
    "email": {"description": "A whole `local@domain.tld` address; stored trimmed and lower-cased."},
    "Login.email": {},
    "password": NEW_PASSWORD,
    "new_password": NEW_PASSWORD,
    "PasswordChange.new_password": {
        "description": "The same rules as at sign-up, and different from the current password."
    },
    "PasswordConfirmation.password": {"description": "The account's current password."},
    "Login.password": {},
    "TwoFactorDisable.password": {},
    "TwoFactorEnable.password": {},
    "otp": SECOND_FACTOR,
    "TwoFactorEnable.otp": {"description": "The app's current 6-digit code."},
    "token": {"description": "The token from the emailed link."},
    "EmailLinkQuery.token": {
        "description": "The token from the emailed link (not checked, not spent)."
    },
    "title": {
        "description": "Not blank, at most 200 characters; unique on the caller's shelf (ignoring "
        "case and spaces).",
        "examples": ["Sketch of the Analytical Engine"],
    },
    "description": {"description": "Optional, at most 5,000 characters."},
    "category": CATEGORY,
    "isbn": {
        "description": "An ISBN-10 or ISBN-13 with a valid check digit, hyphens and spaces "
        "allowed; stored and answered as ISBN-13. Unique on the caller's shelf. Empty means none "
        "(on update, it clears the book's ISBN).",
        "examples": ["978-0-441-17271-9"],
    },
    "cover_image": {
        "description": "A JPEG, PNG, GIF (first frame) or WebP image of at most 40 megapixels, "
        "recognised from its bytes.",
    },
    "page": {
        "description": "The page to answer, from 1; a page past the end answers an empty list."
    },
    "per_page": {"description": "Books per page."},
    "BookListQuery.category": {
        "description": "Only books of this category (case-insensitive; `peotry` means `poetry`)."
    },
    "q": {
        "description": "Only books having, for each word of q, a word of their title or "
        'description that begins with it, ignoring case and accents: `harry pot` finds "Harry '
        'Potter", `cafe` finds "Café". A word is a run of letters, digits or underscores; '
        "punctuation only separates words, so a q without any word finds nothing. At most 10 "
        "different words (400 otherwise).",
    },
    "sort": {
        "description": "The order of the list: `created_at` is oldest first, `title` ignores case; "
        "a leading `-` reverses it.",
    },
    "all": {"description": "Also end the session of the token that asks."},
    "credential": {
        "description": "The authenticator's response as WebAuthn serialises it to JSON "
        "(`PublicKeyCredential.toJSON()`): binary values in unpadded base64url."
    },
    "PasskeyRegistration.name": {
        "description": "A name to tell this passkey apart (1 to 64 characters, trimmed); "
        "default `Passkey N`.",
        "examples": ["Laptop"],
    },
    "PasskeyLoginOptions.email": {
        "description": "Optional: the account's email, to list its passkeys for authenticators "
        "that cannot offer discoverable ones."
    },
}


def field_prose(schema_name: str, field: str) -> dict[str, Any]:
    """Return the description and examples of one field of a schema (empty if it has none)."""
    return FIELDS.get(f"{schema_name}.{field}", FIELDS.get(field, {}))
