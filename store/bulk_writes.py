"""Batches of update_one on one collection, sent in one round trip (one bulk_write)."""

from __future__ import annotations

from typing import Any, NamedTuple

from pymongo import UpdateOne
from pymongo.collection import Collection
from pymongo.errors import BulkWriteError, DuplicateKeyError


class BatchUpdate(NamedTuple):
    """One update_one of a batch."""

    criteria: dict[str, Any]
    change: dict[str, Any]
    upsert: bool = False


def update_many_in_one_trip(
    collection: Collection, updates: list[BatchUpdate], *, ordered: bool
) -> None:
    """Send the updates in one bulk_write (one by one on mongomock, whose bulk API is stale).

    ordered is bulk_write's. On mongomock an ordered batch that hits a duplicate key raises the
    BulkWriteError an ordered bulk write would (where it stopped, everything before it done);
    an unordered one raises the DuplicateKeyError itself.
    """
    if not updates:
        return
    if not type(collection).__module__.startswith("mongomock"):
        collection.bulk_write(
            [UpdateOne(update.criteria, update.change, upsert=update.upsert) for update in updates],
            ordered=ordered,
        )
        return
    for index, update in enumerate(updates):
        try:
            collection.update_one(update.criteria, update.change, upsert=update.upsert)
        except DuplicateKeyError as error:
            if not ordered:
                raise
            raise BulkWriteError({"writeErrors": [{"index": index, "code": error.code}]}) from None
