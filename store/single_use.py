"""Single-use records: kept until they expire, spent at most once (emailed tokens, challenges)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pymongo.collection import Collection

from store.timestamps import as_utc, now


def keep(collection: Collection, record_id: str, ttl_seconds: int, **fields: Any) -> None:
    """Store a record under record_id that can be spent for the next ttl_seconds."""
    moment = now()
    collection.insert_one(
        {
            "_id": record_id,
            **fields,
            "created_at": moment,
            "expires_at": moment + timedelta(seconds=ttl_seconds),
        }
    )


def spend(collection: Collection, criteria: dict[str, Any]) -> dict[str, Any] | None:
    """Spend the record matching criteria: it the first time if unexpired, else None.

    The delete is the compare-and-set: of two requests spending one record, one wins. An
    expired record is spent all the same (the TTL index would remove it anyway).
    """
    record = collection.find_one_and_delete(criteria)
    if record is None or as_utc(record["expires_at"]) <= now():
        return None
    return record
