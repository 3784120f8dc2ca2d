"""The keys that sign and verify tokens: SECRET_KEY, then any previous keys, each by its id."""

from __future__ import annotations

import hashlib

from flask import current_app

ALGORITHM = "HS256"
# The "type" claim of an access token (refresh tokens are not JWTs).
ACCESS_TOKEN_TYPE = "access"


def key_id(key: str) -> str:
    """Return the public id of a signing key: a truncated SHA-256, which reveals nothing of it."""
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def verification_keys() -> dict[str, str]:
    """Return every key that may verify a token, by key id: SECRET_KEY, then previous keys."""
    config = current_app.config
    keys = [config["SECRET_KEY"], *config["PREVIOUS_SECRET_KEYS"]]
    return {key_id(key): key for key in keys}
