"""A shelf's pages: a listing (from the indexes, with an exact total) and a word search."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING
from pymongo.collection import Collection
from pymongo.cursor import Cursor

from request_schema.search import search_words
from store import shelf_counts, shelf_index
from store.database import count_matching, index_friendly
from store.timestamps import as_utc

SORT_KEYS = {
    "title": [("title_key", ASCENDING)],
    "-title": [("title_key", DESCENDING)],
    # _id breaks ties between books created in the same millisecond, so pages never overlap.
    "created_at": [("created_at", ASCENDING), ("_id", ASCENDING)],
    "-created_at": [("created_at", DESCENDING), ("_id", DESCENDING)],
}


@dataclass(frozen=True)
class BookQuery:
    """One page of a shelf: filter, search, sort and position (a list or a search)."""

    category: str | None = None
    search: str | None = None
    sort: str = "created_at"
    page: int = 1
    per_page: int = 20


def search(
    collection: Collection, user_id: str, query: BookQuery, fields: tuple[str, ...]
) -> tuple[list[dict[str, Any]], int]:
    """Return one page of the books whose words begin with each word of the search.

    The index names candidates, and the shelf's pending books (those whose entries may not
    all be written yet) join them; every one is checked against the book itself, so the
    matches are exactly the books that match now, once each, and the total counts exactly
    the books the pages hold. The cost follows the number of matches, not the shelf.
    """
    projection = {**dict.fromkeys(fields, 1), "title_key": 1, **shelf_index.INDEX_PROJECTION}
    words = search_words(query.search or "")
    if not words:
        return [], 0
    database = collection.database
    found = shelf_index.candidates(database, user_id, words)
    if query.category is not None:
        found = {
            entry: terms
            for entry, terms in found.items()
            if shelf_index.entry_category(entry) == query.category
        }
    books = _candidate_books(collection, user_id, found, projection)
    matches = [
        document
        for document in books.values()
        if document["user_id"] == user_id
        and (query.category is None or document["category"] == query.category)
        and shelf_index.matches_words(document, words)
    ]
    shelf_index.tidy(database, user_id, found, books)
    matches.sort(key=_sort_key(query.sort), reverse=query.sort.startswith("-"))
    skip = (query.page - 1) * query.per_page
    page = matches[skip : skip + query.per_page]
    return page, len(matches)


def _candidate_books(
    collection: Collection, user_id: str, found: dict[str, set[str]], projection: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """Return the books the entries found name, and the shelf's pending books, by id."""
    books = {
        str(document["_id"]): document
        for document in shelf_index.pending_books(collection, user_id, projection)
    }
    ids = [
        ObjectId(book_id)
        for book_id in dict.fromkeys(map(shelf_index.entry_book_id, found))
        if book_id not in books
    ]
    books.update((str(document["_id"]), document) for document in _by_ids(collection, ids))
    return books


def _by_ids(collection: Collection, ids: list[ObjectId]) -> Cursor:
    """Return a cursor over the whole books with these ids (read by _id, the index they share).

    Whole, not projected: nx-27017 deep-copies every projected document, which made reading a
    search's candidates twice the cost of reading them whole (200 candidates: 38 ms, now 18).
    """
    return collection.find({"_id": {"$in": ids}})


def _sort_key(sort: str) -> Any:
    """Return the key that orders search matches as SORT_KEYS orders a shelf's pages."""
    if sort.lstrip("-") == "title":
        return lambda document: (document.get("title_key") or "", str(document["_id"]))
    return lambda document: (as_utc(document["created_at"]), str(document["_id"]))


def list_page(
    collection: Collection, user_id: str, query: BookQuery
) -> tuple[list[dict[str, Any]], int]:
    """Return one page of a shelf (whole documents), filtered and sorted, and the exact total."""
    criteria: dict[str, Any] = {"user_id": user_id}
    if query.category:
        criteria["category"] = query.category
    skip = (query.page - 1) * query.per_page
    # One book past the page, and no projection (nx-27017 deep-copies every projected
    # document; the caller keeps the public fields): see _page_total.
    documents = list(
        # $eq, not bare values: nx-27017 answers bare equality without using the indexes.
        collection.find(index_friendly(criteria))
        .sort(SORT_KEYS[query.sort])
        .skip(skip)
        .limit(query.per_page + 1)
    )
    total = _page_total(collection, criteria, query, skip, len(documents))
    return documents[: query.per_page], total


def _page_total(
    collection: Collection, criteria: dict[str, Any], query: BookQuery, skip: int, seen: int
) -> int:
    """Return the shelf's total: told by the page itself when it is the last one.

    A read of per_page + 1 books that returns at most per_page found every match from
    `skip` on, so skip + seen is exact (from the very read that made the page): the
    shelf's count, a round trip more, is read only for a full page or one past the end.
    """
    if seen <= query.per_page and (seen or skip == 0):
        return skip + seen
    total = shelf_counts.stored_total(collection.database, criteria["user_id"], query.category)
    if total is None:
        # A write is under way on this shelf: count its books, exact whatever it applied.
        total = count_matching(collection, criteria)
    # A full page has seen this many: a count behind the books never contradicts it.
    return max(total, skip + seen) if seen else total
