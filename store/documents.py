"""Stored documents as the API shows them: ids parsed from paths, fields made JSON-ready."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any, overload

from bson import ObjectId
from bson.errors import InvalidId

from store.timestamps import as_utc

DATE_FIELDS = frozenset(
    {"created_at", "updated_at", "last_used_at", "expires_at", "rotated_at", "disabled_at"}
)
# Stored values that are already JSON-ready, told apart by their exact type: one lookup per value
# instead of a chain of isinstance checks (a 20-book page converts 200 values).
JSON_READY_TYPES = frozenset({int, float, bool, type(None)})
# Dates already written out, by value: a shelf's pages show the same dates request after request,
# and writing one costs more than the rest of its book. Bounded, least recently used out first.
PUBLIC_DATE_CACHE_SIZE = 4096


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
        value: Any = document.get(field)
        kind = type(value)
        if kind is str:
            if field in DATE_FIELDS:
                value = public_date(value)
        elif kind is ObjectId:
            value = str(value)
        elif kind is datetime:
            value = public_date(value)
        elif kind not in JSON_READY_TYPES:
            value = _public_value(field, value)
        public[field] = value
    if "active" in public:
        public["active"] = bool(public["active"])
    return public


def _public_value(field: str, value: Any) -> Any:
    """Return a value of any other type (a subclass of str, ObjectId or datetime ...) JSON-ready."""
    if isinstance(value, ObjectId):
        return str(value)
    if isinstance(value, datetime) or (field in DATE_FIELDS and isinstance(value, str)):
        return public_date(value)
    return value


def public_date(moment: datetime | str) -> str:
    """Return a stored date as the API writes it: UTC, to the millisecond, with a Z."""
    if type(moment) is not datetime:
        return _write_date(moment)
    return _public_datetime(moment)


# Equal datetimes are the same instant (naive ones equal no aware one): the same text.
@lru_cache(maxsize=PUBLIC_DATE_CACHE_SIZE)
def _public_datetime(moment: datetime) -> str:
    """Return public_date's text of a datetime, written once per distinct value."""
    return _write_date(moment)


def _write_date(moment: datetime | str) -> str:
    """Write a stored date (aware, naive UTC, or text) as UTC ISO 8601 to the millisecond."""
    return as_utc(moment).isoformat(timespec="milliseconds").replace("+00:00", "Z")
