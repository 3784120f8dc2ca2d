"""Dates as stored: the current time at BSON's precision, and stored dates read back as UTC."""

from __future__ import annotations

from datetime import UTC, datetime


def as_utc(moment: datetime | str) -> datetime:
    """Return an aware UTC datetime from a stored date (naive UTC, ISO text, or nx-27017's text)."""
    if isinstance(moment, str):
        # nx-27017 gives back a date written by $set as "YYYY-MM-DD HH:MM:SS.ffffff" (UTC);
        # public documents carry "...Z".
        moment = datetime.fromisoformat(moment)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def now() -> datetime:
    """Return the current time at the millisecond precision BSON stores."""
    moment = datetime.now(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)
