"""Safe writes: ETag and If-Match on books, Idempotency-Key on creation, ISBNs unique per shelf."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from routes.books import BOOK_FORM_FIELDS
from store.idempotency import LEASE_SECONDS, request_fingerprint
from tests.helpers import cover_files, image_bytes, real_server_only

PRECONDITION_FAILED = {
    "message": "The book was changed since you read it",
    "data": None,
    "error": "Precondition Failed",
}


def stored(db: Any) -> list[dict[str, Any]]:
    """Return every stored book, to compare before and after."""
    return list(db.books.find({}).sort("_id", 1))


# ETag and If-Match -------------------------------------------------------------------------------


def test_get_answers_an_etag_and_304_for_a_current_copy(client, auth_headers, book):
    first = client.get(f"/books/{book['_id']}", headers=auth_headers)

    again = client.get(
        f"/books/{book['_id']}", headers={**auth_headers, "If-None-Match": first.headers["ETag"]}
    )

    assert first.headers["ETag"] == '"v1"'
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == first.headers["ETag"]


def test_every_update_moves_the_etag_on(client, auth_headers, book):
    before = client.get(f"/books/{book['_id']}", headers=auth_headers).headers["ETag"]

    updated = client.put(f"/books/{book['_id']}", headers=auth_headers, data={"title": "Emma"})
    after = client.get(f"/books/{book['_id']}", headers=auth_headers)

    assert updated.headers["ETag"] == after.headers["ETag"] == '"v2"'
    assert after.headers["ETag"] != before


def test_update_with_the_current_etag_succeeds(client, auth_headers, book):
    tag = client.get(f"/books/{book['_id']}", headers=auth_headers).headers["ETag"]

    response = client.put(
        f"/books/{book['_id']}", headers={**auth_headers, "If-Match": tag}, data={"title": "Emma"}
    )

    assert response.status_code == 200
    assert response.json["data"]["title"] == "Emma"


def test_second_editor_with_a_stale_etag_gets_412_and_loses_nothing(
    app, client, auth_headers, book, db
):
    tag = client.get(f"/books/{book['_id']}", headers=auth_headers).headers["ETag"]
    client.put(
        f"/books/{book['_id']}", headers={**auth_headers, "If-Match": tag}, data={"title": "Emma"}
    )
    before, files = stored(db), cover_files(app)

    stale = client.put(
        f"/books/{book['_id']}",
        headers={**auth_headers, "If-Match": tag},
        data={"title": "Persuasion", "cover_image": (image_bytes(), "new.jpg")},
    )

    assert stale.status_code == 412
    assert stale.json == PRECONDITION_FAILED
    assert stored(db) == before
    assert cover_files(app) == files


@pytest.mark.parametrize("header", ['"v1", "v7"', "*"])
def test_if_match_accepts_a_list_containing_the_tag_or_a_star(client, auth_headers, book, header):
    response = client.put(
        f"/books/{book['_id']}", headers={**auth_headers, "If-Match": header}, data={"title": "X Y"}
    )

    assert response.status_code == 200


@pytest.mark.parametrize("header", ['"v9"', '"garbage"', 'W/"v1"', '"v1-old"'])
def test_if_match_with_another_or_a_weak_tag_is_412(client, auth_headers, book, db, header):
    before = stored(db)

    response = client.put(
        f"/books/{book['_id']}", headers={**auth_headers, "If-Match": header}, data={"title": "X Y"}
    )

    assert response.status_code == 412
    assert response.json == PRECONDITION_FAILED
    assert stored(db) == before


@real_server_only
def test_concurrent_updates_with_one_etag_let_exactly_one_win(client, auth_headers, book, db):
    tag = client.get(f"/books/{book['_id']}", headers=auth_headers).headers["ETag"]
    statuses: list[int] = []

    def edit(number: int) -> None:
        response = client.put(
            f"/books/{book['_id']}",
            headers={**auth_headers, "If-Match": tag},
            data={"title": f"Edit {number}"},
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=edit, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [200] + [412] * 5
    assert db.books.find_one({})["version"] == 2


# Idempotency-Key ---------------------------------------------------------------------------------


def create(client, headers: dict[str, str], key: str | None, title: str = "Dune", cover=None):
    """POST a book, with an Idempotency-Key if given."""
    if key is not None:
        headers = {**headers, "Idempotency-Key": key}
    form = {
        "title": title,
        "category": "science",
        "cover_image": (cover or image_bytes(), "c.jpg"),
    }
    return client.post("/books/", headers=headers, data=form)


def test_a_retried_create_with_the_same_key_returns_the_first_book(app, client, auth_headers, db):
    first = create(client, auth_headers, "key-1")
    retry = create(client, auth_headers, "key-1")

    assert first.status_code == retry.status_code == 201
    assert retry.json == first.json
    assert db.books.count_documents({}) == 1
    assert len(cover_files(app)) == 1


def test_the_same_key_with_a_different_request_is_422(app, client, auth_headers, db):
    create(client, auth_headers, "key-1")

    other = create(client, auth_headers, "key-1", title="Emma")

    assert other.status_code == 422
    assert other.json == {
        "message": "This Idempotency-Key was already used for a different request",
        "data": None,
        "error": "Unprocessable Entity",
    }
    assert db.books.count_documents({}) == 1
    assert len(cover_files(app)) == 1


def test_the_same_key_with_a_different_cover_is_a_different_request(client, auth_headers):
    create(client, auth_headers, "key-1")

    other = create(client, auth_headers, "key-1", cover=image_bytes(color="blue"))

    assert other.status_code == 422


def test_keys_belong_to_their_user(client, auth_headers, other_headers, db):
    mine = create(client, auth_headers, "shared-key")
    theirs = create(client, other_headers, "shared-key")

    assert mine.status_code == theirs.status_code == 201
    assert mine.json["data"]["_id"] != theirs.json["data"]["_id"]


def test_a_refused_create_frees_its_key(client, auth_headers, book):
    duplicate = create(client, auth_headers, "key-1", title=book["title"])
    renamed = create(client, auth_headers, "key-1", title="Emma")

    assert duplicate.status_code == 409
    assert renamed.status_code == 201


def test_without_a_key_every_create_is_new(client, auth_headers, db):
    create(client, auth_headers, None, title="One Book")
    create(client, auth_headers, None, title="Two Book")

    assert db.books.count_documents({}) == 2


@pytest.mark.parametrize("key", ["", "x" * 256, "with space", "naïve"])
def test_a_malformed_key_is_400_and_creates_nothing(app, client, auth_headers, db, key):
    response = create(client, auth_headers, key)

    assert response.status_code == 400
    assert response.json["message"] == "Invalid data"
    assert set(response.json["error"]) == {"Idempotency-Key"}
    assert db.books.count_documents({}) == 0
    assert cover_files(app) == set()


@real_server_only
def test_concurrent_retries_with_one_key_create_one_book(app, client, auth_headers, db):
    statuses: list[int] = []

    def attempt() -> None:
        statuses.append(create(client, auth_headers, "race-key").status_code)

    threads = [threading.Thread(target=attempt) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses.count(201) >= 1
    assert set(statuses) <= {201, 409}
    assert db.books.count_documents({}) == 1
    assert len(cover_files(app)) == 1


def leave_a_dead_claim(db: Any, user_id: str, key: str, seconds_ago: float) -> None:
    """Store the claim a request for create(key) left when its worker died, seconds_ago."""
    fingerprint = request_fingerprint(
        {"title": "Dune", "category": "science"}, BOOK_FORM_FIELDS, image_bytes()
    )
    claimed = datetime.now(UTC) - timedelta(seconds=seconds_ago)
    db.idempotency_keys.insert_one(
        {
            "_id": f"{user_id}:{key}",
            "fingerprint": fingerprint,
            "book_id": None,
            "created_at": claimed,
            "expires_at": claimed + timedelta(days=1),
        }
    )


def test_a_key_whose_request_died_is_usable_again_after_its_lease(
    app, client, auth_headers, user, db
):
    leave_a_dead_claim(db, user["_id"], "died", seconds_ago=LEASE_SECONDS + 1)

    retry = create(client, auth_headers, "died")

    assert retry.status_code == 201
    assert retry.json["data"]["title"] == "Dune"
    assert db.books.count_documents({}) == 1
    record = db.idempotency_keys.find_one({"_id": f"{user['_id']}:died"})
    assert record["book_id"] == retry.json["data"]["_id"]
    assert create(client, auth_headers, "died").json == retry.json


def test_a_key_whose_request_may_still_run_is_409_until_its_lease_ends(
    app, client, auth_headers, user, db
):
    leave_a_dead_claim(db, user["_id"], "busy", seconds_ago=1)

    retry = create(client, auth_headers, "busy")

    assert retry.status_code == 409
    assert retry.json == {
        "message": "A request with this Idempotency-Key is still in progress",
        "data": None,
        "error": "Conflict",
    }
    assert 1 <= int(retry.headers["Retry-After"]) <= LEASE_SECONDS
    assert db.books.count_documents({}) == 0
    assert cover_files(app) == set()


@pytest.mark.parametrize("seconds_ago", [1, LEASE_SECONDS + 1], ids=["in-lease", "lease-ended"])
def test_a_retry_finds_the_book_a_dead_request_created_before_recording_it(
    app, client, auth_headers, user, db, seconds_ago
):
    first = create(client, auth_headers, "half-done")
    # The worker died after inserting the book and before recording it on the key.
    claimed = datetime.now(UTC) - timedelta(seconds=seconds_ago)
    db.idempotency_keys.update_one(
        {"_id": f"{user['_id']}:half-done"}, {"$set": {"book_id": None, "created_at": claimed}}
    )

    retry = create(client, auth_headers, "half-done")

    assert retry.status_code == 201
    assert retry.json == first.json
    assert db.books.count_documents({}) == 1
    assert len(cover_files(app)) == 1


# ISBN --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "isbn",
    ["0-306-40615-2", "0306406152", "978-0-306-40615-7", "9780306406157", " 978 0306406157 "],
)
def test_isbn_10_or_13_is_stored_as_isbn_13(client, auth_headers, book_form, isbn):
    response = client.post("/books/", headers=auth_headers, data=book_form(isbn=isbn))

    assert response.status_code == 201
    assert response.json["data"]["isbn"] == "9780306406157"


def test_isbn_ending_in_x_is_accepted(client, auth_headers, book_form):
    response = client.post("/books/", headers=auth_headers, data=book_form(isbn="080442957X"))

    assert response.json["data"]["isbn"] == "9780804429573"


def test_a_book_without_isbn_has_null(client, auth_headers, book):
    assert book["isbn"] is None


@pytest.mark.parametrize(
    "isbn", ["0306406153", "9780306406158", "12345", "abcdefghij", "979030640615", "97803064061577"]
)
def test_an_invalid_isbn_is_400_and_creates_nothing(app, client, auth_headers, book_form, db, isbn):
    response = client.post("/books/", headers=auth_headers, data=book_form(isbn=isbn))

    assert response.status_code == 400
    assert set(response.json["error"]) == {"isbn"}
    assert db.books.count_documents({}) == 0
    assert cover_files(app) == set()


def test_the_same_isbn_twice_on_a_shelf_is_409(app, client, auth_headers, book_form, db):
    client.post("/books/", headers=auth_headers, data=book_form(isbn="0306406152"))

    again = client.post(
        "/books/", headers=auth_headers, data=book_form("Other", isbn="978-0-306-40615-7")
    )

    assert again.status_code == 409
    assert again.json == {
        "message": "A book with this isbn is already on your shelf",
        "data": None,
        "error": "Conflict",
    }
    assert db.books.count_documents({}) == 1
    assert len(cover_files(app)) == 1


def test_the_same_isbn_on_two_shelves_is_fine(client, auth_headers, other_headers, book_form):
    mine = client.post("/books/", headers=auth_headers, data=book_form(isbn="0306406152"))
    theirs = client.post("/books/", headers=other_headers, data=book_form(isbn="0306406152"))

    assert mine.status_code == theirs.status_code == 201


def test_many_books_without_isbn_share_a_shelf(client, auth_headers, book_form):
    for title in ("One Book", "Two Book", "Three Book"):
        assert (
            client.post("/books/", headers=auth_headers, data=book_form(title)).status_code == 201
        )


def test_update_sets_changes_and_clears_the_isbn(client, auth_headers, book):
    url = f"/books/{book['_id']}"

    set_isbn = client.put(url, headers=auth_headers, data={"isbn": "0306406152"})
    cleared = client.put(url, headers=auth_headers, data={"isbn": ""})

    assert set_isbn.json["data"]["isbn"] == "9780306406157"
    assert cleared.status_code == 200
    assert cleared.json["data"]["isbn"] is None


def test_update_to_an_isbn_taken_on_the_shelf_is_409(client, auth_headers, book, book_form, db):
    client.post("/books/", headers=auth_headers, data=book_form("Other", isbn="0306406152"))
    before = stored(db)

    response = client.put(
        f"/books/{book['_id']}", headers=auth_headers, data={"isbn": "0306406152"}
    )

    assert response.status_code == 409
    assert response.json["message"] == "A book with this isbn is already on your shelf"
    assert stored(db) == before
