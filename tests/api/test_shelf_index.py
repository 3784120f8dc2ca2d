"""The shelf index: counts and search terms follow every create, update and delete."""

from __future__ import annotations

import random
import threading
from typing import Any
from urllib.parse import urlsplit

import requests
from pymongo.errors import AutoReconnect

from store import shelf_counts, shelf_index
from tests.api.shelf_checks import search_matches
from tests.helpers import add_book, cover_files, image_bytes, real_server_only

WORDS = ["amber", "ambush", "basalt", "bastion", "cedar", "cedilla", "delta", "dune"]


def search(client, headers, q: str, **parameters: Any) -> tuple[list[str], int]:
    """Return the titles of every page of a search and the total it reported."""
    found: list[str] = []
    page, total = 1, None
    while True:
        response = client.get(
            "/books/", headers=headers, query_string={"q": q, "page": page, **parameters}
        )
        assert response.status_code == 200, response.json
        found += [book["title"] for book in response.json["data"]]
        total = response.json["pagination"]["total"]
        if page >= response.json["pagination"]["pages"]:
            return found, total
        page += 1


def expected_titles(books: dict[str, dict[str, Any]], q: str) -> list[str]:
    """Return the titles a search for q must find among books, oldest first."""
    found = [book for book in books.values() if search_matches(book, q)]
    return [book["title"] for book in sorted(found, key=lambda book: book["created_at"])]


def test_search_agrees_with_reading_every_book_through_creates_updates_and_deletes(
    client, auth_headers, monkeypatch
):
    monkeypatch.setattr(shelf_index, "TERM_BUCKET_SIZE", 3)
    chooser = random.Random(7)
    books: dict[str, dict[str, Any]] = {}
    for number in range(14):
        title = f"{chooser.choice(WORDS)} {number}"
        description = " ".join(chooser.sample(WORDS, 3))
        book = add_book(client, auth_headers, title, description=description)
        books[book["_id"]] = book
    for book_id in chooser.sample(sorted(books), 4):
        changes = {
            "description": " ".join(chooser.sample(WORDS, 2)),
            "title": f"retitled {book_id}",
        }
        response = client.put(f"/books/{book_id}", headers=auth_headers, data=changes)
        assert response.status_code == 200, response.json
        books[book_id] = response.json["data"]
    for book_id in chooser.sample(sorted(books), 4):
        assert client.delete(f"/books/{book_id}", headers=auth_headers).status_code == 204
        del books[book_id]

    for q in ["am", "amber", "bas cedar", "ced", "dune delta", "retitled", "zzz", "1"]:
        assert search(client, auth_headers, q, per_page=2) == (
            expected_titles(books, q),
            len(expected_titles(books, q)),
        ), q


def test_a_full_bucket_opens_another_and_deletes_leave_no_entries(
    client, auth_headers, db, monkeypatch
):
    monkeypatch.setattr(shelf_index, "TERM_BUCKET_SIZE", 2)
    created = [add_book(client, auth_headers, f"Harbour {n}") for n in range(5)]

    buckets = list(db.shelf_terms.find({"term": "harbour"}))
    assert sorted(bucket["size"] for bucket in buckets) == [1, 2, 2]
    assert search(client, auth_headers, "harb") == ([f"Harbour {n}" for n in range(5)], 5)

    for book in created:
        assert client.delete(f"/books/{book['_id']}", headers=auth_headers).status_code == 204
    assert search(client, auth_headers, "harb") == ([], 0)
    assert [entry for bucket in db.shelf_terms.find({}) for entry in bucket["entries"]] == []


def test_totals_follow_category_changes_and_deletes(client, auth_headers, other_headers):
    poem = add_book(client, auth_headers, "Odes", category="poetry")
    add_book(client, auth_headers, "Elegies", category="poetry")
    add_book(client, auth_headers, "Cosmos", category="science")
    add_book(client, other_headers, "Sonnets", category="poetry")

    def total(category: str | None = None) -> int:
        query = {"category": category} if category else {}
        response = client.get("/books/", headers=auth_headers, query_string=query)
        assert response.status_code == 200
        assert response.headers["X-Total-Count"] == str(response.json["pagination"]["total"])
        return response.json["pagination"]["total"]

    assert (total(), total("poetry"), total("science"), total("horror")) == (3, 2, 1, 0)
    moved = client.put(f"/books/{poem['_id']}", headers=auth_headers, data={"category": "horror"})
    assert moved.status_code == 200
    assert (total(), total("poetry"), total("horror")) == (3, 1, 1)
    assert client.delete(f"/books/{poem['_id']}", headers=auth_headers).status_code == 204
    assert (total(), total("poetry"), total("horror")) == (2, 1, 0)


def test_search_with_a_category_uses_the_category_the_book_has_now(client, auth_headers):
    book = add_book(client, auth_headers, "Lighthouse keeper", category="poetry")
    client.put(f"/books/{book['_id']}", headers=auth_headers, data={"category": "science"})

    assert search(client, auth_headers, "light", category="poetry") == ([], 0)
    assert search(client, auth_headers, "light", category="science") == (["Lighthouse keeper"], 1)


def test_search_sorted_by_title_pages_through_the_matches(client, auth_headers):
    for title in ["Zebra tales", "Apple tales", "Mango tales", "Kiwi", "Banana tales"]:
        add_book(client, auth_headers, title)

    assert search(client, auth_headers, "tales", sort="title", per_page=2) == (
        ["Apple tales", "Banana tales", "Mango tales", "Zebra tales"],
        4,
    )
    assert search(client, auth_headers, "tales", sort="-title", per_page=3)[0] == [
        "Zebra tales",
        "Mango tales",
        "Banana tales",
        "Apple tales",
    ]


def test_search_folds_accents_and_case(client, auth_headers):
    add_book(client, auth_headers, "Café Société", description="CRÈME brûlée")

    assert search(client, auth_headers, "cafe societe") == (["Café Société"], 1)
    assert search(client, auth_headers, "BRÛL") == (["Café Société"], 1)


def test_a_search_of_too_many_words_is_refused(client, auth_headers):
    q = " ".join(f"w{n}" for n in range(11))

    response = client.get("/books/", headers=auth_headers, query_string={"q": q})

    assert response.status_code == 400
    assert response.json["message"] == "Invalid data"
    assert response.json["error"] == {"q": "q must have at most 10 different words"}


def test_a_create_the_index_cannot_record_stores_nothing(
    app, client, auth_headers, db, monkeypatch
):
    def unreachable(*_arguments: Any) -> None:
        raise AutoReconnect("connection refused")

    # The words are indexed, then counting the book fails: everything must be undone.
    monkeypatch.setattr(shelf_counts, "finish_write", unreachable)

    form = {
        "title": "Dune",
        "description": "A desert planet",
        "category": "science",
        "cover_image": (image_bytes(), "c.jpg"),
    }
    response = client.post("/books/", headers=auth_headers, data=form)

    assert response.status_code == 503
    assert response.json["data"] is None
    assert "Retry-After" in response.headers
    assert db.books.count_documents({}) == 0
    assert cover_files(app) == set()
    assert [entry for bucket in db.shelf_terms.find({}) for entry in bucket["entries"]] == []
    listed = client.get("/books/", headers=auth_headers)
    assert (listed.json["data"], listed.json["pagination"]["total"]) == ([], 0)


def forget_the_index(db: Any) -> None:
    """Make the database look like one written before the shelf index existed."""
    for name in ("shelves", "shelf_terms", "migrations"):
        db.drop_collection(name)


def test_books_written_before_the_index_are_indexed_on_the_next_start(
    make_app, client, auth_headers, db
):
    add_book(client, auth_headers, "Old map", category="poetry")
    add_book(client, auth_headers, "Old compass", category="science")
    forget_the_index(db)

    restarted = make_app().test_client()

    assert search(restarted, auth_headers, "old") == (["Old map", "Old compass"], 2)
    listed = restarted.get("/books/?category=poetry", headers=auth_headers)
    assert listed.json["pagination"]["total"] == 1


def test_flask_books_reindex_recounts_a_shelf_that_drifted(app, client, auth_headers, db):
    add_book(client, auth_headers, "Atlas one")
    add_book(client, auth_headers, "Atlas two")
    db.shelves.update_many({}, {"$set": {"total": 40}})
    db.shelf_terms.delete_many({})

    result = app.test_cli_runner().invoke(args=["books", "reindex"])

    assert result.exit_code == 0, result.output
    assert result.output == "reindexed 2 books\n"
    # A full page: its total is the shelf's count (a last page would count its own books).
    listed = client.get("/books/?per_page=1", headers=auth_headers)
    assert listed.status_code == 200
    assert listed.json["pagination"]["total"] == 2
    assert search(client, auth_headers, "atlas") == (["Atlas one", "Atlas two"], 2)


def test_a_build_that_never_finished_is_reported_and_reindex_finishes_it(
    make_app, client, auth_headers, db, caplog
):
    add_book(client, auth_headers, "Old map")
    forget_the_index(db)
    db.migrations.insert_one({"_id": shelf_index.MIGRATION_ID, "state": "building"})

    restarted = make_app()

    assert "run `flask books reindex`" in caplog.text
    assert search(restarted.test_client(), auth_headers, "old") == ([], 0)
    result = restarted.test_cli_runner().invoke(args=["books", "reindex"])
    assert result.output == "reindexed 1 books\n"
    assert db.migrations.find_one({"_id": shelf_index.MIGRATION_ID})["state"] == "built"
    assert search(restarted.test_client(), auth_headers, "old") == (["Old map"], 1)


# Stale entries (racing writes, crashes) ---------------------------------------------------------


def test_stale_entries_never_list_a_book_twice_nor_one_that_no_longer_matches(
    client, auth_headers, db
):
    kept = add_book(client, auth_headers, "Kilo One", category="poetry")
    gone = add_book(client, auth_headers, "Kilo Two", category="poetry")
    assert client.delete(f"/books/{gone['_id']}", headers=auth_headers).status_code == 204
    user_id = kept["user_id"]
    stored = db.books.find_one({"title": "Kilo One"})
    # What racing updates and a crash can leave: the kept book under an old category and an old
    # date, and the deleted book still indexed.
    stale = [
        shelf_index.book_entry({**stored, "category": "horror"}),
        shelf_index.book_entry({**stored, "_id": gone["_id"]}),
    ]
    db.shelf_terms.insert_one({"user_id": user_id, "term": "kilo", "size": 2, "entries": stale})

    everything = client.get("/books/", headers=auth_headers, query_string={"q": "kilo"})
    horror = client.get(
        "/books/", headers=auth_headers, query_string={"q": "kilo", "category": "horror"}
    )

    assert [book["_id"] for book in everything.json["data"]] == [kept["_id"]]
    assert everything.json["pagination"]["total"] == 1
    assert everything.headers["X-Total-Count"] == "1"
    assert horror.json["data"] == []
    assert horror.json["pagination"] == {"page": 1, "per_page": 20, "total": 0, "pages": 0}


@real_server_only  # real threads: mongomock is not thread-safe
def test_search_stays_exact_under_concurrent_updates_of_every_book(app, client, auth_headers):
    books = [add_book(client, auth_headers, f"Kilo {number}") for number in range(12)]
    categories = ["poetry", "horror", "science", "romance"]

    def rename(book: dict[str, Any], attempt: int) -> None:
        form = {"title": f"Kilo {book['title']} {attempt}", "category": categories[attempt]}
        response = app.test_client().put(f"/books/{book['_id']}", headers=auth_headers, data=form)
        assert response.status_code in (200, 409), response.json

    threads = [
        threading.Thread(target=rename, args=(book, attempt))
        for book in books
        for attempt in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    listed = client.get("/books/", headers=auth_headers, query_string={"per_page": 100})
    truth = {book["_id"]: book for book in listed.json["data"]}
    for category in [None, *categories]:
        parameters = {"q": "kilo", "per_page": 5, **({"category": category} if category else {})}
        found, total = search_ids(client, auth_headers, parameters)
        expected = [i for i, book in truth.items() if category in (None, book["category"])]
        assert len(found) == len(set(found)) == total, category
        assert set(found) == set(expected), category


def search_ids(client, headers, parameters: dict[str, Any]) -> tuple[list[str], int]:
    """Return the ids on every page of a search, following the Link header, and its total."""
    found: list[str] = []
    response = client.get("/books/", headers=headers, query_string=parameters)
    total = response.json["pagination"]["total"]
    while True:
        assert response.status_code == 200, response.json
        found += [book["_id"] for book in response.json["data"]]
        links = requests.utils.parse_header_links(response.headers["Link"])
        following = [link["url"] for link in links if link["rel"] == "next"]
        if not following:
            return found, total
        parts = urlsplit(following[0])
        response = client.get(f"{parts.path}?{parts.query}", headers=headers)
