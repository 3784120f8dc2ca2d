"""Stored documents as the API shows them: ids parsed from paths, fields made JSON-ready."""

from __future__ import annotations

from datetime import datetime
from typing import Any, overload

from bson import ObjectId
from bson.errors import InvalidId

from store.timestamps import as_utc

DATE_FIELDS = frozenset(
    {"created_at", "updated_at", "last_used_at", "expires_at", "rotated_at", "disabled_at"}
)


def parse_object_id(value: Any) -> ObjectId | None:
    """Return the ObjectId a 24-hex string names, or None for anything else."""
    if isinstance(value, ObjectId):
        return value
    if not isinstance(value, str) or len(value) != 24:
        return None
    try:
        return ObjectId(value)
    except InvalidId:
        return None


@overload
def to_public(document: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]: ...


@overload
def to_public(document: None, fields: tuple[str, ...]) -> None: ...


def to_public(document: dict[str, Any] | None, fields: tuple[str, ...]) -> dict[str, Any] | None:
    """Return the named fields of a document as JSON-ready values (ids and dates as strings)."""
    if document is None:
        return None
    public = {}
    for field in fields:
        value = document.get(field)
        if isinstance(value, ObjectId):
            value = str(value)
        elif isinstance(value, datetime) or (field in DATE_FIELDS and isinstance(value, str)):
            value = as_utc(value).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        public[field] = value
    if "active" in public:
        public["active"] = bool(public["active"])
    return public
