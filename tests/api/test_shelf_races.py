"""Search and totals stay exact through racing writes and writers that die half-way (#13)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from bson import ObjectId
from flask import Flask
from flask.testing import FlaskClient

import models
from store import book_keys, shelf_counts, shelf_index
from store.timestamps import now
from tests.api.shelf_checks import assert_agrees, follow_pages, search_matches
from tests.helpers import add_book, image_bytes, real_server_only

CATEGORIES = ["poetry", "horror", "science", "romance"]


def assert_shelf_exact(get: Callable[[str], Any], books: list[dict[str, Any]]) -> None:
    """Assert every listing, filter and search of the shelf agrees with its books."""
    every = {book["_id"] for book in books}
    assert_agrees(get, "/books/?per_page=7", every)
    for category in CATEGORIES:
        expected = {book["_id"] for book in books if book["category"] == category}
        assert_agrees(get, f"/books/?per_page=5&category={category}", expected)
    for q in ["kilo", "zulu", "new"]:
        expected = {book["_id"] for book in books if search_matches(book, q)}
        assert_agrees(get, f"/books/?per_page=4&q={q}", expected)
    for book in books:
        found, _ = follow_pages(get, f"/books/?per_page=100&q={quote(book['title'])}")
        assert book["_id"] in found, book["title"]


def shelf_books(db: Any, user_id: str) -> list[dict[str, Any]]:
    """Return the shelf's books as stored (the truth every answer is checked against)."""
    stored = db.books.find({"user_id": user_id}, {"title": 1, "description": 1, "category": 1})
    return [{**book, "_id": str(book["_id"])} for book in stored]


# Real threads need a real server: mongomock is not thread-safe (its documents change under a
# concurrent read: "dictionary changed size during iteration").
@real_server_only
def test_racing_updates_deletes_and_creates_leave_search_and_totals_exact(
    app: Flask, client: FlaskClient, auth_headers: dict[str, str], db: Any
) -> None:
    books = [
        add_book(client, auth_headers, f"Kilo {number}", category="poetry") for number in range(10)
    ]
    errors: list[str] = []

    def write(method: str, url: str, form: dict[str, Any] | None = None) -> None:
        response = app.test_client().open(url, method=method, headers=auth_headers, data=form)
        if response.status_code not in (200, 201, 204, 404, 409):
            errors.append(f"{method} {url}: {response.status_code} {response.json}")

    jobs: list[tuple[str, str, dict[str, Any] | None]] = []
    for index, book in enumerate(books):
        url = f"/books/{book['_id']}"
        for attempt in range(3):
            word = "Kilo" if (index + attempt) % 2 else "Zulu"
            form = {"title": f"{word} {index} {attempt}", "category": CATEGORIES[attempt]}
            jobs.append(("PUT", url, form))
        if index % 3 == 0:
            jobs.append(("DELETE", url, None))
        jobs.append(
            (
                "POST",
                "/books/",
                {
                    "title": f"New kilo {index}",
                    "category": CATEGORIES[index % 4],
                    "cover_image": (image_bytes(size=(8, 8)), "c.jpg"),
                },
            )
        )
    threads = [threading.Thread(target=write, args=job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    user_id = books[0]["user_id"]
    truth = shelf_books(db, user_id)
    assert len(truth) == 10 - 4 + 10
    assert_shelf_exact(lambda url: client.get(url, headers=auth_headers), truth)
    # Every write finished: the counts are exact as stored, and no book is left pending.
    shelf = db.shelves.find_one({"_id": user_id})
    assert shelf_counts.claims(shelf) == {}
    assert shelf["total"] == len(truth)
    assert db.books.count_documents({"index_pending": {"$gt": 0}}) == 0


def test_an_index_write_overtaken_by_a_later_update_loses_no_word(
    app: Flask, client: FlaskClient, auth_headers: dict[str, str], monkeypatch: Any
) -> None:
    book = add_book(client, auth_headers, "Kilo harbour", category="poetry")
    stored, resume = threading.Event(), threading.Event()
    reindex = models.Books._reindex
    paused: list[bool] = []

    def slow_first_reindex(self: models.Books, *arguments: Any) -> None:
        # The first update stops between its book write and its index write.
        if not paused:
            paused.append(True)
            stored.set()
            assert resume.wait(30)
        reindex(self, *arguments)

    monkeypatch.setattr(models.Books, "_reindex", slow_first_reindex)
    url = f"/books/{book['_id']}"
    first = threading.Thread(
        target=lambda: app.test_client().put(url, headers=auth_headers, data={"title": "Zulu"})
    )
    first.start()
    assert stored.wait(30)
    # A second update, made whole while the first one's index write waits, brings "kilo" back.
    second = client.put(url, headers=auth_headers, data={"title": "Kilo again"})
    assert second.status_code == 200, second.json
    resume.set()
    first.join()

    found = client.get("/books/", headers=auth_headers, query_string={"q": "kilo"})
    gone = client.get("/books/", headers=auth_headers, query_string={"q": "zulu"})
    assert found.status_code == 200
    assert [b["title"] for b in found.json["data"]] == ["Kilo again"]
    assert found.json["pagination"]["total"] == 1
    assert (gone.status_code, gone.json["data"], gone.json["pagination"]["total"]) == (200, [], 0)


def store_book(db: Any, user_id: str, title: str) -> ObjectId:
    """Store a book the way a create does, then stop where a killed worker would: no index."""
    moment = now()
    document = {
        "_id": ObjectId(),
        "user_id": user_id,
        "title": title,
        "title_key": book_keys.title_key(title),
        "description": "",
        "category": "science",
        "isbn": None,
        "cover": "missing.jpg",
        "version": 1,
        "created_at": moment,
        "updated_at": moment,
        **shelf_index.new_book_fields(),
    }
    document["isbn_key"] = book_keys.isbn_key(user_id, None, document["_id"])
    db.books.insert_one(document)
    return document["_id"]


def test_a_writer_that_died_after_storing_its_book_leaves_answers_exact_then_is_repaired(
    client: FlaskClient, auth_headers: dict[str, str], db: Any
) -> None:
    kept = add_book(client, auth_headers, "Atlas of clouds", category="science")
    user_id = kept["user_id"]
    shelf_counts.begin_write(db, user_id)
    orphan = store_book(db, user_id, "Atlas of rivers")
    get = lambda url: client.get(url, headers=auth_headers)  # noqa: E731

    # At once: the book is listed, counted and found, though nothing indexed or counted it.
    assert_agrees(get, "/books/?per_page=1", {kept["_id"], str(orphan)})
    assert_agrees(get, "/books/?per_page=1&category=science", {kept["_id"], str(orphan)})
    assert_agrees(get, "/books/?per_page=1&q=rivers", {str(orphan)})
    assert_agrees(get, "/books/?per_page=1&q=atlas", {kept["_id"], str(orphan)})

    # Once the write is overdue, the next readers repair what it left: counts and entries.
    overdue = now().timestamp() - shelf_counts.REPAIR_AFTER_SECONDS - 1
    shelf = db.shelves.find_one({"_id": user_id})
    db.shelves.update_one(
        {"_id": user_id}, {"$set": dict.fromkeys(shelf_counts.claims(shelf), overdue)}
    )
    db.books.update_one({"_id": orphan}, {"$set": {"index_pending": overdue}})
    assert_agrees(get, "/books/?per_page=1", {kept["_id"], str(orphan)})
    assert_agrees(get, "/books/?per_page=1&q=rivers", {str(orphan)})

    shelf = db.shelves.find_one({"_id": user_id})
    assert shelf_counts.claims(shelf) == {}
    assert (shelf["total"], shelf["category:science"]) == (2, 2)
    assert "index_pending" not in db.books.find_one({"_id": orphan})
    terms = {bucket["term"] for bucket in db.shelf_terms.find({"entries": {"$regex": str(orphan)}})}
    assert terms == {"atlas", "of", "rivers"}


def test_a_write_whose_claim_a_repair_took_leaves_the_count_to_the_next_reader(
    client: FlaskClient, auth_headers: dict[str, str], db: Any
) -> None:
    kept = add_book(client, auth_headers, "Comet", category="poetry")
    user_id = kept["user_id"]
    slow = shelf_counts.begin_write(db, user_id)
    # A reader repairs meanwhile (it took the slow writer for dead) ...
    shelf_counts.repair(db, user_id)
    # ... before the slow writer's book lands ...
    orphan = store_book(db, user_id, "Meteor")
    shelf_index.book_written(db, db.books.find_one({"_id": orphan}))
    # ... then the slow writer finishes: its claim is gone, so it cannot move the count itself.
    shelf_counts.finish_write(db, user_id, slow, shelf_counts.added("science"))

    response = client.get("/books/", headers=auth_headers)
    assert response.status_code == 200
    assert response.json["pagination"]["total"] == 2
    assert {book["_id"] for book in response.json["data"]} == {kept["_id"], str(orphan)}


def test_an_index_of_the_previous_version_is_rebuilt_at_the_next_start(
    make_app: Callable[..., Flask], client: FlaskClient, auth_headers: dict[str, str], db: Any
) -> None:
    first = add_book(client, auth_headers, "Kilo old", category="science")
    second = add_book(client, auth_headers, "Zulu old", category="poetry")
    # What the previous version left: entries without versions, books without index fields, a
    # count that drifted, and its own migration marked done.
    for bucket in db.shelf_terms.find({}):
        old = ["|".join(entry.split("|")[:3]) for entry in bucket["entries"]]
        db.shelf_terms.update_one({"_id": bucket["_id"]}, {"$set": {"entries": old}})
    db.books.update_many({}, {"$unset": {"index_version": "", "index_pending": ""}})
    db.shelves.update_many({}, {"$set": {"total": 7}, "$unset": {"seq": ""}})
    db.migrations.delete_many({})
    db.migrations.insert_one({"_id": "shelf-index-v1", "state": "built"})

    restarted = make_app().test_client()
    get = lambda url: restarted.get(url, headers=auth_headers)  # noqa: E731

    assert_agrees(get, "/books/?per_page=1", {first["_id"], second["_id"]})
    assert_agrees(get, "/books/?q=old", {first["_id"], second["_id"]})
    entries = [entry for bucket in db.shelf_terms.find({}) for entry in bucket["entries"]]
    assert sorted(shelf_index.entry_version(entry) for entry in entries) == [0] * 4
    # A book of the previous version takes new words and loses its old ones like any other.
    moved = restarted.put(
        f"/books/{first['_id']}", headers=auth_headers, data={"title": "Zulu new"}
    )
    assert moved.status_code == 200, moved.json
    assert_agrees(get, "/books/?q=kilo", set())
    assert_agrees(get, "/books/?q=zulu", {first["_id"], second["_id"]})
    assert_agrees(get, "/books/?q=new", {first["_id"]})
    assert db.migrations.find_one({"_id": shelf_index.MIGRATION_ID})["state"] == "built"
