"""Single-use tokens sent by email (password reset, address verification), stored as hashes."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from store.database import get_db
from store.single_use import keep, spend


class EmailTokens:
    """Single-use tokens sent by email (password reset, address verification), kept as hashes."""

    def __init__(self) -> None:
        self.collection = get_db().email_tokens

    def issue(self, user_id: str, purpose: str, ttl_seconds: int) -> str:
        """Return a new token for the user; only its SHA-256 is stored."""
        token = secrets.token_urlsafe(32)
        digest = hashlib.sha256(token.encode()).hexdigest()
        keep(self.collection, digest, ttl_seconds, user_id=user_id, purpose=purpose)
        return token

    def consume(self, token: Any, purpose: str) -> str | None:
        """Spend a token: return its user id the first time, None if unknown, used or expired."""
        if not isinstance(token, str) or not token:
            return None
        digest = hashlib.sha256(token.encode()).hexdigest()
        # A token sent for another purpose matches nothing and stays usable for its own.
        record = spend(self.collection, {"_id": digest, "purpose": purpose})
        return None if record is None else record["user_id"]

    def revoke_all(self, user_id: str, purpose: str | None = None) -> None:
        """Drop every outstanding token of this purpose (None: of any purpose) for the user."""
        query = (
            {"user_id": user_id} if purpose is None else {"user_id": user_id, "purpose": purpose}
        )
        self.collection.delete_many(query)
