"""A shelf's book counts, kept exact through racing writes and writers that die half-way.

`shelves` holds one document per user: `total` books and the count of each category
(`category:<name>`), so a page's `pagination.total` costs the one read of that document.

A count cannot move in the same atomic write as the book (two documents, and not every server
has transactions), so every write that moves a count is bracketed on the shelf document:

1. `begin_write` stamps a claim `pending:<token>` (its start time) and bumps `seq`;
2. the book is written;
3. `finish_write` applies the write's count changes and removes the claim in one update, and
   only while the claim is still there.

A shelf without claims is exact: every write that ever moved a book has applied its change.
A shelf with a claim may be off by what that write has not applied yet (or never will: its
writer died), so a reader then counts the books themselves (`stored_total` answers None).
Once every claim is older than REPAIR_AFTER_SECONDS, that reader also resets the counts from
the books and removes the claims (`repair`), in one update made only if `seq` has not moved
since it read the shelf, i.e. no write began meanwhile. A writer whose claim was removed that
way (it was only slow) cannot tell whether the recount saw its book, so it leaves an expired
claim behind and the next reader recounts.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from pymongo.database import Database
from pymongo.errors import DuplicateKeyError, PyMongoError

from store.timestamps import now

logger = logging.getLogger(__name__)

# A claim this old belongs to a writer that died (a write's two steps take milliseconds).
REPAIR_AFTER_SECONDS = 5.0
CLAIM_PREFIX = "pending:"
CATEGORY_PREFIX = "category:"


def category_field(category: str) -> str:
    """Return the field of a shelf document that counts one category."""
    # Flat, not categories.<name>: nx-27017's upsert stores a dotted $inc as a literal name.
    return f"{CATEGORY_PREFIX}{category}"


def begin_write(db: Database, user_id: str) -> str:
    """Claim the shelf for a write that may move its counts; return the claim to finish."""
    claim = f"{CLAIM_PREFIX}{secrets.token_hex(8)}"
    db.shelves.update_one(
        {"_id": user_id},
        {"$set": {claim: now().timestamp()}, "$inc": {"seq": 1}},
        upsert=True,
    )
    return claim


def finish_write(db: Database, user_id: str, claim: str, changes: dict[str, int]) -> None:
    """Apply a write's count changes and release its claim, if the claim still stands."""
    moves = {field: change for field, change in changes.items() if change}
    result = db.shelves.update_one(
        {"_id": user_id, claim: {"$exists": True}},
        {"$inc": {**moves, "seq": 1}, "$unset": {claim: ""}},
    )
    if result.matched_count == 0:
        # A repair took the claim (this write was slow): it may have counted this book or
        # not, so an expired claim asks the next reader to count again.
        db.shelves.update_one({"_id": user_id}, {"$set": {claim: 0.0}, "$inc": {"seq": 1}})


def finish_quietly(db: Database, user_id: str, claim: str, changes: dict[str, int]) -> None:
    """finish_write, logging a failure: the claim then stands and readers count exactly."""
    try:
        finish_write(db, user_id, claim, changes)
    except PyMongoError:
        logger.exception("the shelf count of user %s missed a write; it will be recounted", user_id)


def added(category: str) -> dict[str, int]:
    """Return the count changes of a new book."""
    return {"total": 1, category_field(category): 1}


def removed(category: str) -> dict[str, int]:
    """Return the count changes of a deleted book."""
    return {"total": -1, category_field(category): -1}


def moved(before: str, after: str) -> dict[str, int]:
    """Return the count changes of a book moved from one category to another."""
    if before == after:
        return {}
    return {category_field(before): -1, category_field(after): 1}


def claims(shelf: dict[str, Any]) -> dict[str, float]:
    """Return the claims standing on a shelf document, by field, with their start times."""
    return {
        field: float(value or 0.0)
        for field, value in shelf.items()
        if field.startswith(CLAIM_PREFIX)
    }


def stored_total(db: Database, user_id: str, category: str | None = None) -> int | None:
    """Return how many books the shelf holds (or of one category), or None: count them.

    None while a write is under way on the shelf: its books, counted, are then the exact answer.
    """
    shelf = db.shelves.find_one({"_id": user_id}) or {}
    field = "total" if category is None else category_field(category)
    standing = claims(shelf)
    if not standing:
        return int(shelf.get(field, 0))
    if max(standing.values()) > now().timestamp() - REPAIR_AFTER_SECONDS:
        return None
    logger.warning(
        "the shelf of user %s has %d write(s) that did not finish; recounting it from its books",
        user_id,
        len(standing),
    )
    return repair(db, user_id, shelf).get(field, 0)


def count_books(db: Database, user_id: str) -> dict[str, int]:
    """Count a shelf's books, in all and by category, from the books themselves."""
    counts: dict[str, int] = {"total": 0}
    grouped = db.books.aggregate(
        [
            {"$match": {"user_id": {"$eq": user_id}}},
            {"$group": {"_id": "$category", "count": {"$sum": 1}}},
        ]
    )
    for group in grouped:
        counts[category_field(str(group["_id"]))] = int(group["count"])
        counts["total"] += int(group["count"])
    return counts


def repair(db: Database, user_id: str, shelf: dict[str, Any] | None = None) -> dict[str, int]:
    """Reset a shelf's counts from its books and remove the claims read with it; return counts.

    The reset is made only if no write began since the shelf was read (`seq`): a write that
    began meanwhile keeps its claim, and the next reader counts and repairs again.
    """
    if shelf is None:
        shelf = db.shelves.find_one({"_id": user_id}) or {"_id": user_id}
    counts = count_books(db, user_id)
    stale = {
        field: 0 for field in shelf if field.startswith(CATEGORY_PREFIX) and field not in counts
    }
    change: dict[str, Any] = {"$set": {**stale, **counts}, "$inc": {"seq": 1}}
    if unset := dict.fromkeys(claims(shelf), ""):
        change["$unset"] = unset
    try:
        if "seq" in shelf:
            db.shelves.update_one({"_id": user_id, "seq": shelf["seq"]}, change)
        else:
            # Never claimed (bulk loads, older versions) or missing: made here, unless a write
            # created it meanwhile (then that write's claim leads to the next repair).
            db.shelves.update_one({"_id": user_id, "seq": {"$exists": False}}, change, upsert=True)
    except DuplicateKeyError:
        pass
    return counts


def recount(db: Database, user_id: str) -> None:
    """Reset a shelf's counts from its books now (`flask books reindex`, migrations)."""
    # An expired claim first: if a write begins before the reset lands, the claim stays and
    # the shelf's next reader counts and repairs again.
    db.shelves.update_one(
        {"_id": user_id},
        {"$set": {f"{CLAIM_PREFIX}recount": 0.0}, "$inc": {"seq": 1}},
        upsert=True,
    )
    repair(db, user_id)
