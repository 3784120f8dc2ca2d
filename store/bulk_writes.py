"""Batches of update_one on one collection, sent in one round trip (one bulk_write)."""

from __future__ import annotations

from typing import Any, NamedTuple

from pymongo import UpdateOne
from pymongo.collection import Collection


class BatchUpdate(NamedTuple):
    """One update_one of a batch."""

    criteria: dict[str, Any]
    change: dict[str, Any]
    upsert: bool = False


def update_many_in_one_trip(
    collection: Collection, updates: list[BatchUpdate], *, ordered: bool
) -> None:
    """Send the updates in one bulk_write; ordered is bulk_write's.

    A client whose bulk API lags PyMongo's (an in-process fake refusing the `sort` PyMongo 4.11+
    hands every UpdateOne) raises TypeError while the batch is built, before anything is sent:
    the updates then go one by one, in order.
    """
    if not updates:
        return
    try:
        collection.bulk_write(
            [UpdateOne(update.criteria, update.change, upsert=update.upsert) for update in updates],
            ordered=ordered,
        )
    except TypeError:
        for update in updates:
            collection.update_one(update.criteria, update.change, upsert=update.upsert)
