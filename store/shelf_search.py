"""A shelf's word search: candidates from the index, each checked against its book, in order."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING
from pymongo.collection import Collection
from pymongo.cursor import Cursor

from store import shelf_index
from store.timestamps import as_utc
from validate import search_words

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
    books = {
        str(document["_id"]): document
        for document in shelf_index.pending_books(collection, user_id, projection)
    }
    ids = [
        ObjectId(book_id)
        for book_id in dict.fromkeys(map(shelf_index.entry_book_id, found))
        if book_id not in books
    ]
    books.update(
        (str(document["_id"]), document) for document in _by_ids(collection, ids, projection)
    )
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


def _by_ids(collection: Collection, ids: list[ObjectId], projection: dict[str, Any]) -> Cursor:
    """Return a cursor over the books with these ids (read by _id, the one index they share)."""
    return collection.find({"_id": {"$in": ids}}, projection)


def _sort_key(sort: str) -> Any:
    """Return the key that orders search matches as SORT_KEYS orders a shelf's pages."""
    if sort.lstrip("-") == "title":
        return lambda document: (document.get("title_key") or "", str(document["_id"]))
    return lambda document: (as_utc(document["created_at"]), str(document["_id"]))
