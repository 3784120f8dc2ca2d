"""Single-use tokens sent by email (password reset, address verification), stored as hashes."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from store.database import get_db
from store.timestamps import as_utc, now


class EmailTokens:
    """Single-use tokens sent by email (password reset, address verification), kept as hashes."""

    def __init__(self) -> None:
        self.collection = get_db().email_tokens

    def issue(self, user_id: str, purpose: str, ttl_seconds: int) -> str:
        """Return a new token for the user; only its SHA-256 is stored."""
        token = secrets.token_urlsafe(32)
        moment = now()
        self.collection.insert_one(
            {
                "_id": hashlib.sha256(token.encode()).hexdigest(),
                "user_id": user_id,
                "purpose": purpose,
                "created_at": moment,
                "expires_at": moment + timedelta(seconds=ttl_seconds),
            }
        )
        return token

    def consume(self, token: Any, purpose: str) -> str | None:
        """Spend a token: return its user id the first time, None if unknown, used or expired."""
        if not isinstance(token, str) or not token:
            return None
        digest = hashlib.sha256(token.encode()).hexdigest()
        # The delete is the compare-and-set: of two requests with one token, one wins. A token
        # sent for another purpose matches nothing and stays usable for its own.
        record = self.collection.find_one_and_delete({"_id": digest, "purpose": purpose})
        if record is None or as_utc(record["expires_at"]) <= now():
            return None
        return record["user_id"]

    def revoke_all(self, user_id: str, purpose: str | None = None) -> None:
        """Drop every outstanding token of this purpose (None: of any purpose) for the user."""
        query = (
            {"user_id": user_id} if purpose is None else {"user_id": user_id, "purpose": purpose}
        )
        self.collection.delete_many(query)
