"""What a shelf's listing reads instead of the shelf: its book counts and its search terms.

`shelves` holds one document per user: `total` books and the count of each category, kept with
`$inc` as books come and go, so `pagination.total` costs one read whatever the shelf's size.

`shelf_terms` is an inverted index of the words of each book's title and description, in
buckets: a document holds up to TERM_BUCKET_SIZE entries for one word of one shelf, each
entry "<created_at in ms, 13 digits>|<book id>|<category>". A search reads the buckets of the
words its own words begin, so its cost follows the books that match, not the shelf; the entries
sort by creation time as they are (the shelf's default order) and carry the category filter.
Buckets keep every write small (a book's entry is pushed into, or pulled from, one bucket per
word) where one document per word would be rewritten whole on every change of a large shelf;
the shape is MongoDB's bucket pattern and needs no multikey index (nx-27017 has none).

Both are derived from `books`: `rebuild` recomputes them (`flask books reindex`), and the
first start of a database that has books but no index builds it once.
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
from pymongo.errors import DuplicateKeyError

from bulk_writes import BatchUpdate, update_many_in_one_trip
from timestamps import as_utc, now
from validate import search_words

logger = logging.getLogger(__name__)

TERM_BUCKET_SIZE = 500
REBUILD_BATCH = 5_000
MIGRATION_ID = "shelf-index-v1"
# Above every character a word can hold: the end of the range of terms a prefix begins.
PREFIX_END = "\U0010ffff"
INDEXED_FIELDS = ("_id", "user_id", "title", "description", "category", "created_at")


def ensure_indexes(db: Database) -> None:
    """Create the index the term lookups use."""
    db.shelf_terms.create_index(
        [("user_id", ASCENDING), ("term", ASCENDING)], name="shelf_term_buckets"
    )


# What is indexed ---------------------------------------------------------------------------------


def book_terms(book: dict[str, Any]) -> set[str]:
    """Return the words a book is found by: those of its title and of its description."""
    return set(search_words(book.get("title") or "")) | set(
        search_words(book.get("description") or "")
    )


def book_entry(book: dict[str, Any]) -> str:
    """Return a book's entry in the term buckets: creation time, id and category."""
    milliseconds = round(as_utc(book["created_at"]).timestamp() * 1000)
    return f"{milliseconds:013d}|{book['_id']}|{book['category']}"


def entry_book_id(entry: str) -> str:
    """Return the book id an entry names."""
    return entry.split("|", 2)[1]


def entry_category(entry: str) -> str:
    """Return the category an entry carries."""
    return entry.split("|", 2)[2]


# Keeping it current ------------------------------------------------------------------------------


def book_added(db: Database, book: dict[str, Any]) -> None:
    """Index a new book's words, then count it on its shelf (last, see book_add_undone)."""
    _add_entries(db.shelf_terms, book["user_id"], book_entry(book), book_terms(book))
    _count(db, book["user_id"], book["category"], 1)


def book_add_undone(db: Database, book: dict[str, Any]) -> None:
    """Remove what a failed book_added may have written: some of its entries, never its count."""
    _remove_entries(db.shelf_terms, book["user_id"], book_entry(book), book_terms(book))


def book_removed(db: Database, book: dict[str, Any]) -> None:
    """Uncount a deleted book and remove its entries."""
    _count(db, book["user_id"], book["category"], -1)
    _remove_entries(db.shelf_terms, book["user_id"], book_entry(book), book_terms(book))


def book_changed(db: Database, before: dict[str, Any], after: dict[str, Any]) -> None:
    """Move a changed book's count and entries from what it was to what it is."""
    user_id = before["user_id"]
    if before["category"] != after["category"]:
        _count(db, user_id, before["category"], -1)
        _count(db, user_id, after["category"], 1)
    old_entry, new_entry = book_entry(before), book_entry(after)
    old_terms, new_terms = book_terms(before), book_terms(after)
    if old_entry == new_entry:
        # Same entry: only the words that came or went need touching.
        old_terms, new_terms = old_terms - new_terms, new_terms - old_terms
    _remove_entries(db.shelf_terms, user_id, old_entry, old_terms)
    _add_entries(db.shelf_terms, user_id, new_entry, new_terms)


def category_field(category: str) -> str:
    """Return the field of a shelf document that counts one category."""
    # Flat, not categories.<name>: nx-27017's upsert stores a dotted $inc as a literal name.
    return f"category:{category}"


def _count(db: Database, user_id: str, category: str, change: int) -> None:
    """Move a shelf's total and one category's count by change."""
    db.shelves.update_one(
        {"_id": user_id},
        {"$inc": {"total": change, category_field(category): change}},
        upsert=True,
    )


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


def shelf_count(db: Database, user_id: str, category: str | None = None) -> int:
    """Return how many books the shelf holds, or how many of one category."""
    shelf = db.shelves.find_one({"_id": user_id}) or {}
    if category is None:
        return int(shelf.get("total", 0))
    return int(shelf.get(category_field(category), 0))


def matching_entries(
    db: Database, user_id: str, words: list[str], category: str | None = None
) -> list[str]:
    """Return the entries of the books having, for each of words, a word it begins; sorted."""
    found: set[str] | None = None
    # The longest word first: usually the rarest, so the sets to intersect stay small.
    for word in sorted(words, key=len, reverse=True):
        entries = _entries_beginning(db.shelf_terms, user_id, word)
        found = entries if found is None else found & entries
        if not found:
            return []
    matches = found or set()
    if category is not None:
        matches = {entry for entry in matches if entry_category(entry) == category}
    return sorted(matches)


def _entries_beginning(terms: Collection, user_id: str, prefix: str) -> set[str]:
    """Return the entries of every term of the shelf that begins with prefix."""
    entries: set[str] = set()
    buckets = terms.find(
        {"user_id": {"$eq": user_id}, "term": {"$gte": prefix, "$lt": prefix + PREFIX_END}},
        {"entries": 1, "_id": 0},
    )
    for bucket in buckets:
        entries.update(bucket.get("entries") or ())
    return entries


def matches_words(book: dict[str, Any], words: list[str]) -> bool:
    """Tell whether each of words begins a word of the book (what its entries claim)."""
    terms = book_terms(book)
    return all(any(term.startswith(word) for term in terms) for word in words)


# Building it from the books ----------------------------------------------------------------------


def index_books(
    db: Database, books: Iterable[dict[str, Any]], session: ClientSession | None = None
) -> int:
    """Count and index books written straight to the collection (rebuilds, bulk loads)."""
    indexed = 0
    iterator = iter(books)
    while batch := list(itertools.islice(iterator, REBUILD_BATCH)):
        _index_batch(db, batch, session)
        indexed += len(batch)
    return indexed


def _index_batch(db: Database, batch: list[dict[str, Any]], session: ClientSession | None) -> None:
    """Write the counts and new full buckets of one batch of books."""
    postings: dict[tuple[str, str], list[str]] = defaultdict(list)
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for book in batch:
        entry = book_entry(book)
        counts[book["user_id"]][book["category"]] += 1
        for word in book_terms(book):
            postings[(book["user_id"], word)].append(entry)
    db.shelf_terms.insert_many(list(_buckets(postings)), ordered=False, session=session)
    for user_id, categories in counts.items():
        increments = {category_field(name): count for name, count in categories.items()}
        increments["total"] = sum(categories.values())
        db.shelves.update_one({"_id": user_id}, {"$inc": increments}, upsert=True, session=session)


def _buckets(postings: dict[tuple[str, str], list[str]]) -> Iterator[dict[str, Any]]:
    """Yield bucket documents holding the postings, TERM_BUCKET_SIZE entries at most each."""
    for (user_id, word), entries in postings.items():
        for start in range(0, len(entries), TERM_BUCKET_SIZE):
            chunk = entries[start : start + TERM_BUCKET_SIZE]
            yield {"user_id": user_id, "term": word, "size": len(chunk), "entries": chunk}


def rebuild(db: Database) -> int:
    """Recompute every shelf's counts and terms from the books; return how many books."""
    db.shelves.delete_many({})
    db.shelf_terms.delete_many({})
    indexed = index_books(db, db.books.find({}, dict.fromkeys(INDEXED_FIELDS, 1)))
    db.migrations.update_one(
        {"_id": MIGRATION_ID}, {"$set": {"state": "built", "built_at": now()}}, upsert=True
    )
    return indexed


def ensure_built(db: Database) -> None:
    """Build the index once for a database whose books predate it (no-op when it exists)."""
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
