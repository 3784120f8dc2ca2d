"""A shelf's search terms: an inverted index of its books' words, exact after races and crashes.

`shelf_terms` is an inverted index of the words of each book's title and description, in
buckets: a document holds up to TERM_BUCKET_SIZE entries for one word of one shelf, each
entry "<created_at in ms, 13 digits>|<book id>|<category>|<index version>". A search reads the
buckets of the words its own words begin, so its cost follows the books that match, not the
shelf; the entries sort by creation time as they are (the shelf's default order) and carry the
category filter. Buckets keep every write small (a book's entry is pushed into, or pulled
from, one bucket per word) where one document per word would be rewritten whole on every
change of a large shelf; the shape is MongoDB's bucket pattern and needs no multikey index
(nx-27017 has none).

The entries cannot be written in the same atomic write as the book, so the book carries what
the index owes it:

- `index_version` moves on every change of the indexed fields, and an entry names the version
  it was written for: an entry of an older version (or of a deleted book) is stale for ever, so
  a search that meets one drops it (`tidy`) without a race bringing it back;
- `index_pending` (the time of the write) is set in the same write as the change and removed,
  only while the book is still at that version, once all of its entries are written. A search
  reads the shelf's pending books beside the entries it found, so a book whose entries are not
  all written yet (its writer is at work or died) is found all the same, and a search that meets
  one pending for longer than REPAIR_AFTER_SECONDS writes its entries and clears it.

Derived from `books`: `rebuild` recomputes it (`flask books reindex`), and the first start of a
database indexed by an older version builds it once.
"""

from __future__ import annotations

import itertools
import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

from pymongo import ASCENDING
from pymongo.client_session import ClientSession
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError, PyMongoError

from request_schema.search import search_words
from store import shelf_counts
from store.bulk_writes import BatchUpdate, update_many_in_one_trip
from store.timestamps import as_utc, now

logger = logging.getLogger(__name__)

TERM_BUCKET_SIZE = 500
REBUILD_BATCH = 5_000
# v2: entries name the book's index version.
MIGRATION_ID = "shelf-index-v2"
# Above every character a word can hold: the end of the range of terms a prefix begins.
PREFIX_END = "\U0010ffff"
INDEXED_FIELDS = ("title", "description", "category")
VERSION_FIELD = "index_version"
PENDING_FIELD = "index_pending"
REPAIR_AFTER_SECONDS = shelf_counts.REPAIR_AFTER_SECONDS
INDEX_PROJECTION = dict.fromkeys(
    ("_id", "user_id", "created_at", VERSION_FIELD, PENDING_FIELD, *INDEXED_FIELDS), 1
)


def ensure_indexes(db: Database) -> None:
    """Create the indexes the term lookups and the pending books' lookups use."""
    db.shelf_terms.create_index(
        [("user_id", ASCENDING), ("term", ASCENDING)], name="shelf_term_buckets"
    )
    db.books.create_index(
        [("user_id", ASCENDING), (PENDING_FIELD, ASCENDING)], name="shelf_index_pending"
    )


# What is indexed ---------------------------------------------------------------------------------


def book_terms(book: dict[str, Any]) -> set[str]:
    """Return the words a book is found by: those of its title and of its description."""
    return set(search_words(book.get("title") or "")) | set(
        search_words(book.get("description") or "")
    )


def index_version(book: dict[str, Any]) -> int:
    """Return the version of a book's indexed fields (0 for books older than versions)."""
    return int(book.get(VERSION_FIELD) or 0)


def book_entry(book: dict[str, Any]) -> str:
    """Return a book's entry in the term buckets: creation time, id, category, index version."""
    milliseconds = round(as_utc(book["created_at"]).timestamp() * 1000)
    return f"{milliseconds:013d}|{book['_id']}|{book['category']}|{index_version(book)}"


def entry_book_id(entry: str) -> str:
    """Return the book id an entry names."""
    return entry.split("|", 3)[1]


def entry_category(entry: str) -> str:
    """Return the category an entry carries."""
    return entry.split("|", 3)[2]


def entry_version(entry: str) -> int | None:
    """Return the index version an entry was written for (None: an entry of version 1's shape)."""
    parts = entry.split("|", 3)
    return int(parts[3]) if len(parts) == 4 and parts[3].isdigit() else None


# Keeping it current ------------------------------------------------------------------------------


def new_book_fields() -> dict[str, Any]:
    """Return the index fields of a new book: its first version, pending until indexed."""
    return {VERSION_FIELD: 1, PENDING_FIELD: now().timestamp()}


def changed_fields(before: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Return the index fields an update sets with its changes (none if no indexed field moves)."""
    if all(changes.get(name, before.get(name)) == before.get(name) for name in INDEXED_FIELDS):
        return {}
    return {VERSION_FIELD: index_version(before) + 1, PENDING_FIELD: now().timestamp()}


def book_written(
    db: Database, book: dict[str, Any], previous: dict[str, Any] | None = None
) -> None:
    """Index a book as written (and drop what it was before), then clear its pending mark."""
    if previous is not None and index_version(previous) == index_version(book):
        return
    _add_entries(db.shelf_terms, book["user_id"], book_entry(book), book_terms(book))
    if previous is not None:
        _remove_entries(
            db.shelf_terms, previous["user_id"], book_entry(previous), book_terms(previous)
        )
    clear_pending(db, book)


def book_deleted(db: Database, book: dict[str, Any]) -> None:
    """Remove a deleted book's entries (a search drops any a failure leaves behind)."""
    _remove_entries(db.shelf_terms, book["user_id"], book_entry(book), book_terms(book))


def clear_pending(db: Database, book: dict[str, Any]) -> None:
    """Clear a book's pending mark, only while it is still at the version indexed."""
    version = (
        {VERSION_FIELD: book[VERSION_FIELD]}
        if VERSION_FIELD in book
        else {VERSION_FIELD: {"$exists": False}}
    )
    db.books.update_one({"_id": book["_id"], **version}, {"$unset": {PENDING_FIELD: ""}})


def repair_book(db: Database, book: dict[str, Any]) -> None:
    """Write whatever entries a pending book lacks at its version, then clear its mark."""
    entry = book_entry(book)
    terms = book_terms(book)
    holding = db.shelf_terms.find(
        {"user_id": {"$eq": book["user_id"]}, "term": {"$in": sorted(terms)}, "entries": entry},
        {"term": 1, "_id": 0},
    )
    _add_entries(db.shelf_terms, book["user_id"], entry, terms - {b["term"] for b in holding})
    clear_pending(db, book)


def _add_entries(terms: Collection, user_id: str, entry: str, words: Iterable[str]) -> None:
    """Push an entry into a bucket with room for each word (a new bucket when all are full)."""
    update_many_in_one_trip(
        terms,
        [
            BatchUpdate(
                {
                    "user_id": {"$eq": user_id},
                    "term": {"$eq": word},
                    "size": {"$lt": TERM_BUCKET_SIZE},
                },
                {"$push": {"entries": entry}, "$inc": {"size": 1}},
                upsert=True,
            )
            for word in sorted(words)
        ],
        ordered=False,
    )


def _remove_entries(terms: Collection, user_id: str, entry: str, words: Iterable[str]) -> None:
    """Pull an entry from the bucket of each word that holds it."""
    update_many_in_one_trip(
        terms,
        [
            BatchUpdate(
                # A bare value, not $eq: array containment, which every server agrees on.
                {"user_id": {"$eq": user_id}, "term": {"$eq": word}, "entries": entry},
                {"$pull": {"entries": entry}, "$inc": {"size": -1}},
            )
            for word in sorted(words)
        ],
        ordered=False,
    )


# Reading it --------------------------------------------------------------------------------------


def candidates(db: Database, user_id: str, words: list[str]) -> dict[str, set[str]]:
    """Return the entries having, for each of words, a term it begins; each with those terms."""
    found: dict[str, set[str]] | None = None
    # The longest word first: usually the rarest, so the sets to intersect stay small.
    for word in sorted(words, key=len, reverse=True):
        entries = _entries_beginning(db.shelf_terms, user_id, word)
        if found is not None:
            entries = {
                entry: terms | found[entry] for entry, terms in entries.items() if entry in found
            }
        found = entries
        if not found:
            return {}
    return found or {}


def _entries_beginning(terms: Collection, user_id: str, prefix: str) -> dict[str, set[str]]:
    """Return the entries of every term of the shelf that begins with prefix, with their terms."""
    entries: dict[str, set[str]] = defaultdict(set)
    buckets = terms.find(
        {"user_id": {"$eq": user_id}, "term": {"$gte": prefix, "$lt": prefix + PREFIX_END}},
        {"term": 1, "entries": 1, "_id": 0},
    )
    for bucket in buckets:
        for entry in bucket.get("entries") or ():
            entries[entry].add(bucket["term"])
    return entries


def pending_books(books: Collection, user_id: str, projection: dict[str, Any]) -> list[dict]:
    """Return the shelf's books whose entries may not all be written yet (usually none)."""
    return list(
        books.find(
            # $gt 0: a range the (user_id, index_pending) index answers; absent never matches.
            {"user_id": {"$eq": user_id}, PENDING_FIELD: {"$gt": 0}},
            {**projection, **INDEX_PROJECTION},
        )
    )


def matches_words(book: dict[str, Any], words: list[str]) -> bool:
    """Tell whether each of words begins a word of the book (what its entries claim)."""
    terms = book_terms(book)
    return all(any(term.startswith(word) for term in terms) for word in words)


def tidy(
    db: Database,
    user_id: str,
    found: dict[str, set[str]],
    books: dict[str, dict[str, Any]],
) -> None:
    """Drop the stale entries a search met and index the long-pending books it read.

    books maps the id (as text) of each book read to the book. A failure is only logged: the
    search's answer is already exact, and the next search tries again.
    """
    stale = [
        BatchUpdate(
            {"user_id": {"$eq": user_id}, "term": {"$eq": term}, "entries": entry},
            {"$pull": {"entries": entry}, "$inc": {"size": -1}},
        )
        for entry, terms in found.items()
        if _is_stale(entry, books.get(entry_book_id(entry)), user_id)
        for term in sorted(terms)
    ]
    overdue = now().timestamp() - REPAIR_AFTER_SECONDS
    try:
        update_many_in_one_trip(db.shelf_terms, stale, ordered=False)
        for book in books.values():
            if 0 < float(book.get(PENDING_FIELD) or 0) <= overdue:
                logger.warning("indexing book %s, whose writer did not finish", book["_id"])
                repair_book(db, book)
    except PyMongoError:
        logger.exception("tidying the shelf index of user %s failed", user_id)


def _is_stale(entry: str, book: dict[str, Any] | None, user_id: str) -> bool:
    """Tell whether an entry can never again describe its book: gone, or of an older version."""
    if book is None or book["user_id"] != user_id:
        return True
    version = entry_version(entry)
    return version is not None and version < index_version(book)


# Building it from the books ----------------------------------------------------------------------


def index_books(
    db: Database,
    books: Iterable[dict[str, Any]],
    session: ClientSession | None = None,
    count: bool = True,
) -> int:
    """Index (and with count, count) books written straight to the collection (bulk loads)."""
    indexed = 0
    iterator = iter(books)
    while batch := list(itertools.islice(iterator, REBUILD_BATCH)):
        _index_batch(db, batch, session, count)
        indexed += len(batch)
    return indexed


def _index_batch(
    db: Database, batch: list[dict[str, Any]], session: ClientSession | None, count: bool
) -> None:
    """Write the new full buckets (and the counts) of one batch of books; clear their marks."""
    postings: dict[tuple[str, str], list[str]] = defaultdict(list)
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for book in batch:
        entry = book_entry(book)
        counts[book["user_id"]][book["category"]] += 1
        for word in book_terms(book):
            postings[(book["user_id"], word)].append(entry)
    if postings:
        db.shelf_terms.insert_many(list(_buckets(postings)), ordered=False, session=session)
    for book in batch:
        if book.get(PENDING_FIELD):
            clear_pending(db, book)
    if not count:
        return
    for user_id, categories in counts.items():
        increments = {
            shelf_counts.category_field(name): number for name, number in categories.items()
        }
        increments["total"] = sum(categories.values())
        db.shelves.update_one({"_id": user_id}, {"$inc": increments}, upsert=True, session=session)


def _buckets(postings: dict[tuple[str, str], list[str]]) -> Iterator[dict[str, Any]]:
    """Yield bucket documents holding the postings, TERM_BUCKET_SIZE entries at most each."""
    for (user_id, word), entries in postings.items():
        for start in range(0, len(entries), TERM_BUCKET_SIZE):
            chunk = entries[start : start + TERM_BUCKET_SIZE]
            yield {"user_id": user_id, "term": word, "size": len(chunk), "entries": chunk}


def rebuild(db: Database) -> int:
    """Recompute every shelf's terms and counts from the books; return how many books.

    Safe while writes are served: a book written meanwhile is pending (found by searches, then
    indexed) and a shelf written meanwhile keeps a claim that its next reader repairs.
    """
    db.shelf_terms.delete_many({})
    indexed = index_books(db, db.books.find({}, INDEX_PROJECTION), count=False)
    owners = {str(owner) for owner in db.books.distinct("user_id")}
    owners |= {str(shelf["_id"]) for shelf in db.shelves.find({}, {"_id": 1})}
    for owner in sorted(owners):
        shelf_counts.recount(db, owner)
    db.migrations.update_one(
        {"_id": MIGRATION_ID}, {"$set": {"state": "built", "built_at": now()}}, upsert=True
    )
    return indexed


def ensure_built(db: Database) -> None:
    """Build the index once for a database indexed by an older version (no-op when built)."""
    migration = db.migrations.find_one({"_id": MIGRATION_ID})
    if migration is not None:
        if migration.get("state") != "built":
            # Another process is building it, or one died doing so: then only a rebuild mends it.
            logger.warning(
                "the shelf index is not built yet (started %s): if no process is building it, "
                "run `flask books reindex`",
                migration.get("started_at"),
            )
        return
    try:
        db.migrations.insert_one({"_id": MIGRATION_ID, "state": "building", "started_at": now()})
    except DuplicateKeyError:
        return  # another process is building it
    if db.books.find_one({}, {"_id": 1}) is not None:
        logger.info("building the shelf index from the existing books")
        rebuild(db)
    db.migrations.update_one({"_id": MIGRATION_ID}, {"$set": {"state": "built"}})
