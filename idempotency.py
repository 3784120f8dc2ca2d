"""Idempotency-Key records of book creations: who used a key, for what, with what result."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pymongo.errors import DuplicateKeyError

from database import get_db
from timestamps import now

IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60


class IdempotencyKeys:
    """Idempotency-Key records of book creations: who used a key, for what, with what result."""

    def __init__(self) -> None:
        self.collection = get_db().idempotency_keys

    def claim(self, user_id: str, key: str, fingerprint: str) -> dict[str, Any] | None:
        """Claim a key for a request; return None if claimed now, else the earlier record."""
        record_id = f"{user_id}:{key}"
        moment = now()
        # An expired record no longer counts (nx-27017 and MongoDB expire them on their own).
        self.collection.delete_one({"_id": record_id, "expires_at": {"$lte": moment}})
        try:
            self.collection.insert_one(
                {
                    "_id": record_id,
                    "fingerprint": fingerprint,
                    "book_id": None,
                    "created_at": moment,
                    "expires_at": moment + timedelta(seconds=IDEMPOTENCY_TTL_SECONDS),
                }
            )
        except DuplicateKeyError:
            return self.collection.find_one({"_id": record_id}) or {"fingerprint": None}
        return None

    def complete(self, user_id: str, key: str, book_id: str) -> None:
        """Record the book a claimed key created."""
        self.collection.update_one({"_id": f"{user_id}:{key}"}, {"$set": {"book_id": book_id}})

    def release(self, user_id: str, key: str) -> None:
        """Forget a claim whose request failed, so that the client may retry with the key."""
        self.collection.delete_one({"_id": f"{user_id}:{key}", "book_id": None})
