"""Idempotency-Key records of book creations: who used a key, for what, with what result.

A record is claimed with a lease: if the request holding it dies (a killed worker, a lost
database), the key is free again once the lease ends. The key is also written into the book it
creates, in the same insert, so a retry finds that book even if the request died before it could
record the result here.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import IO, Any

from pymongo.errors import DuplicateKeyError

from store.database import get_db
from store.timestamps import as_utc, now

IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60
HASH_CHUNK_BYTES = 64 * 1024
# Longer than a request runs once it claims its key (its body is in by then; each database call
# is bounded by DB_TIMEOUT_MS, the cover by its decoding budget): a live request keeps its key.
LEASE_SECONDS = 35


def record_id(user_id: str, key: str) -> str:
    """Return the id of a user's key: also what the book it created carries."""
    return f"{user_id}:{key}"


class IdempotencyKeys:
    """Idempotency-Key records of book creations: who used a key, for what, with what result."""

    def __init__(self) -> None:
        self.collection = get_db().idempotency_keys

    def claim(self, user_id: str, key: str, fingerprint: str) -> dict[str, Any] | None:
        """Claim a key for a request; return None if claimed now, else the earlier record."""
        moment = now()
        # An expired record no longer counts (nx-27017 and MongoDB expire them on their own).
        self.collection.delete_one({"_id": record_id(user_id, key), "expires_at": {"$lte": moment}})
        try:
            self.collection.insert_one(
                {
                    "_id": record_id(user_id, key),
                    "fingerprint": fingerprint,
                    "book_id": None,
                    # When the current claim began: its lease runs LEASE_SECONDS from here.
                    "created_at": moment,
                    "expires_at": moment + timedelta(seconds=IDEMPOTENCY_TTL_SECONDS),
                }
            )
        except DuplicateKeyError:
            return self.collection.find_one({"_id": record_id(user_id, key)}) or {
                "fingerprint": None
            }
        return None

    def take_over(self, user_id: str, key: str, fingerprint: str) -> bool:
        """Claim a key whose earlier request died (its lease ended with no result recorded)."""
        moment = now()
        result = self.collection.update_one(
            {
                "_id": record_id(user_id, key),
                "fingerprint": fingerprint,
                "book_id": None,
                "created_at": {"$lte": moment - timedelta(seconds=LEASE_SECONDS)},
            },
            {"$set": {"created_at": moment}},
        )
        return result.modified_count == 1

    def complete(self, user_id: str, key: str, book_id: str) -> None:
        """Record the book a claimed key created."""
        self.collection.update_one({"_id": record_id(user_id, key)}, {"$set": {"book_id": book_id}})

    def release(self, user_id: str, key: str) -> None:
        """Forget a claim whose request failed, so that the client may retry with the key."""
        self.collection.delete_one({"_id": record_id(user_id, key), "book_id": None})


def seconds_left(record: dict[str, Any]) -> int:
    """Return the whole seconds (at least 1) until a record's lease ends."""
    claimed = record.get("created_at")
    if claimed is None:
        return 1
    lease_until = as_utc(claimed) + timedelta(seconds=LEASE_SECONDS)
    return max(1, math.ceil((lease_until - now()).total_seconds()))


def request_fingerprint(fields: Mapping[str, Any], names: Iterable[str], body: IO[bytes]) -> str:
    """Return a digest of everything a request carries: the named fields, then the body's bytes."""
    digest = hashlib.sha256()
    for name in names:
        digest.update(f"{name}={fields.get(name)!r};".encode())
    body.seek(0)
    # In chunks: the upload is already in memory once, no need for a second copy to hash it.
    while chunk := body.read(HASH_CHUNK_BYTES):
        digest.update(chunk)
    body.seek(0)
    return digest.hexdigest()
