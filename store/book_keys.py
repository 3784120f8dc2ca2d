"""What a book document derives from its fields: uniqueness keys, the next version's $set."""

from __future__ import annotations

from typing import Any

from bson import ObjectId

from store.timestamps import now


def update_fields(before: dict[str, Any], changes: dict[str, Any], version: int) -> dict:
    """Return the $set of an update: the changes, their derived keys, the next version."""
    fields = {**changes, "version": version, "updated_at": now()}
    if "title" in changes:
        fields["title_key"] = title_key(changes["title"])
    if "isbn" in changes:
        fields["isbn_key"] = isbn_key(before["user_id"], changes["isbn"], before["_id"])
    return fields


def version_filter(before: dict[str, Any]) -> dict[str, Any]:
    """Return the filter that matches the book only while it is still at the version read."""
    if "version" in before:
        return {"version": before["version"]}
    # Written before books had versions: the first update gives it one.
    return {"version": {"$exists": False}}


def isbn_key(user_id: str, isbn: str | None, book_id: ObjectId) -> str:
    """Return the key that makes an ISBN unique on a shelf (a book without one never clashes)."""
    # Never missing or null: MongoDB's unique index would count every null as the same value.
    return f"{user_id}:{isbn}" if isbn else f"none:{book_id}"


def title_key(title: str) -> str:
    """Return the form of a title that shelf uniqueness compares: trimmed and case-folded."""
    return " ".join(title.split()).casefold()


def new_book(user_id: str, fields: dict[str, Any], cover: str) -> dict[str, Any]:
    """Return a new book's document: its fields, their keys, version 1 and its dates."""
    moment = now()
    book_id = ObjectId()
    return {
        "_id": book_id,
        "user_id": user_id,
        "title": fields["title"],
        "title_key": title_key(fields["title"]),
        "description": fields.get("description", ""),
        "category": fields["category"],
        "isbn": fields.get("isbn"),
        "isbn_key": isbn_key(user_id, fields.get("isbn"), book_id),
        "cover": cover,
        "version": 1,
        "created_at": moment,
        "updated_at": moment,
    }
