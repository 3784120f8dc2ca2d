"""Stored documents made public: the same text for every date and id, written once per date."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from bson import ObjectId
from bson.tz_util import utc as bson_utc

from store import documents
from store.documents import PUBLIC_DATE_CACHE_SIZE, public_date, to_public

# 15:32:47.138999 UTC: milliseconds are cut, never rounded.
MOMENT = datetime(2026, 12, 3, 15, 32, 47, 138999, tzinfo=UTC)
WRITTEN = "2026-12-03T15:32:47.138Z"


class SubclassedId(ObjectId):
    """An ObjectId of another class (a decoder's subclass)."""


class SubclassedDate(datetime):
    """A datetime of another class (pendulum, arrow ...)."""


class SubclassedText(str):
    """A str of another class."""


@pytest.fixture(autouse=True)
def no_written_dates() -> None:
    """Start each test with no date written before."""
    documents._public_datetime.cache_clear()


@pytest.mark.parametrize(
    "stored",
    [
        MOMENT,
        MOMENT.replace(tzinfo=bson_utc),
        MOMENT.replace(tzinfo=None),
        MOMENT.astimezone(timezone(timedelta(hours=5, minutes=30))),
        "2026-12-03 15:32:47.138999",
        "2026-12-03T15:32:47.138999+00:00",
    ],
    ids=["aware", "bson-utc", "naive-utc", "offset", "nx-27017-text", "iso-text"],
)
def test_every_form_of_a_stored_date_is_written_as_utc_to_the_millisecond(
    stored: datetime | str,
) -> None:
    assert public_date(stored) == WRITTEN
    assert public_date(stored) == WRITTEN
    assert to_public({"created_at": stored}, ("created_at",)) == {"created_at": WRITTEN}


def test_a_date_written_once_is_answered_from_the_written_dates(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    public_date(MOMENT)
    monkeypatch.setattr(documents, "_write_date", lambda moment: "rewritten")

    assert public_date(MOMENT) == WRITTEN
    assert to_public({"updated_at": MOMENT}, ("updated_at",)) == {"updated_at": WRITTEN}
    assert documents._public_datetime.cache_info().hits == 2


def test_the_same_instant_in_two_zones_is_one_text_and_a_naive_date_another_entry() -> None:
    east = MOMENT.astimezone(timezone(timedelta(hours=-7)))

    assert public_date(MOMENT) == public_date(east) == WRITTEN
    assert public_date(MOMENT.replace(tzinfo=None)) == WRITTEN
    assert documents._public_datetime.cache_info().currsize == 2


def test_the_written_dates_never_hold_more_than_their_bound() -> None:
    for seconds in range(PUBLIC_DATE_CACHE_SIZE + 10):
        moment = MOMENT + timedelta(seconds=seconds)
        assert public_date(moment) == moment.isoformat(timespec="milliseconds")[:-6] + "Z"

    assert 0 < documents._public_datetime.cache_info().currsize <= PUBLIC_DATE_CACHE_SIZE


def test_ids_dates_and_text_of_other_classes_convert_like_their_base_types() -> None:
    object_id = ObjectId()
    document = {
        "_id": SubclassedId(str(object_id)),
        "created_at": SubclassedDate(2026, 12, 3, 15, 32, 47, 138999, tzinfo=UTC),
        "updated_at": SubclassedText("2026-12-03 15:32:47.138999"),
        "title": SubclassedText("Dune"),
    }

    public = to_public(document, ("_id", "created_at", "updated_at", "title"))

    assert public == {
        "_id": str(object_id),
        "created_at": WRITTEN,
        "updated_at": WRITTEN,
        "title": "Dune",
    }
    assert type(public["_id"]) is str


def test_plain_values_pass_unchanged_missing_fields_are_null_and_active_is_a_bool() -> None:
    document = {"_id": ObjectId(), "name": "Ada", "active": 1, "count": 3, "ratio": 0.5}

    public = to_public(document, ("name", "active", "count", "ratio", "isbn", "tags"))

    assert public == {
        "name": "Ada",
        "active": True,
        "count": 3,
        "ratio": 0.5,
        "isbn": None,
        "tags": None,
    }
    assert to_public(None, ("name",)) is None
    assert to_public({"tags": ["a", ObjectId()]}, ("tags",))["tags"][0] == "a"
