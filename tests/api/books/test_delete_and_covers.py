"""Deleting books, serving covers, and routing."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from pymongo.errors import NetworkTimeout

from models import Books
from tests.api.books.checks import (
    MALFORMED_IDS,
    NOT_FOUND,
    assert_failure,
    assert_json_failure,
    cover_name,
    cover_path,
    get_cover,
    post_book,
    stored_books,
)
from tests.helpers import cover_files, image_bytes

# A write that lands, then runs out of time -----------------------------------------------------


def landed_then_timed_out(monkeypatch: pytest.MonkeyPatch, method: str) -> None:
    """Make a Books write land, then fail as a database reply past DB_TIMEOUT_MS does."""
    original = getattr(Books, method)

    def write(self: Books, *args: object, **kwargs: object) -> None:
        """Write, then lose the reply."""
        original(self, *args, **kwargs)
        raise NetworkTimeout("the reply came after DB_TIMEOUT_MS")

    monkeypatch.setattr(Books, method, write)


def test_a_create_that_landed_before_its_503_keeps_its_cover(
    app, client, auth_headers, book_form, monkeypatch
):
    landed_then_timed_out(monkeypatch, "create")
    response = client.post("/books/", headers=auth_headers, data=book_form(title="Emma"))
    monkeypatch.undo()

    assert response.status_code == 503
    assert response.json["message"] == "The service is temporarily unavailable, try again shortly"
    (stored,) = client.get("/books/", headers=auth_headers).json["data"]
    assert stored["title"] == "Emma"
    assert get_cover(client, cover_path(stored["image_url"])).status_code == 200
    assert cover_files(app) == {cover_name(stored["image_url"])}


def test_an_update_that_landed_before_its_503_keeps_its_new_cover(
    app, client, auth_headers, book, monkeypatch
):
    landed_then_timed_out(monkeypatch, "update")
    cover = (image_bytes("PNG", (60, 40), "RGBA", (0, 0, 255, 200)), "new.png")
    response = client.put(
        f"/books/{book['_id']}", headers=auth_headers, data={"cover_image": cover}
    )
    monkeypatch.undo()

    assert response.status_code == 503
    stored = client.get(f"/books/{book['_id']}", headers=auth_headers).json["data"]
    assert stored["image_url"] != book["image_url"]
    assert get_cover(client, cover_path(stored["image_url"])).status_code == 200
    # The old cover, which no book names any more, is left for sweep_covers.
    assert cover_name(stored["image_url"]) in cover_files(app)


# Delete ------------------------------------------------------------------------------------------


def test_delete_answers_204_with_an_empty_body(client, auth_headers, book):
    response = client.delete(f"/books/{book['_id']}", headers=auth_headers)

    assert response.status_code == 204
    assert response.data == b""


def test_delete_removes_the_document_and_its_cover_file(
    app, client, auth_headers, book, book_form, db
):
    kept = post_book(client, auth_headers, book_form(title="Emma"))

    client.delete(f"/books/{book['_id']}", headers=auth_headers)

    assert [str(doc["_id"]) for doc in stored_books(db)] == [kept["_id"]]
    assert cover_files(app) == {cover_name(kept["image_url"])}
    assert_json_failure(get_cover(client, cover_path(book["image_url"])), 404)


def test_get_after_delete_is_404(client, auth_headers, book):
    client.delete(f"/books/{book['_id']}", headers=auth_headers)

    response = client.get(f"/books/{book['_id']}", headers=auth_headers)

    assert_failure(response, 404, *NOT_FOUND)


def test_delete_twice_is_404_the_second_time(client, auth_headers, book):
    client.delete(f"/books/{book['_id']}", headers=auth_headers)

    response = client.delete(f"/books/{book['_id']}", headers=auth_headers)

    assert_failure(response, 404, *NOT_FOUND)


def test_delete_of_another_users_book_is_404_and_keeps_it(
    app, client, auth_headers, book, other_headers, db
):
    before, files = stored_books(db), cover_files(app)

    response = client.delete(f"/books/{book['_id']}", headers=other_headers)

    assert_failure(response, 404, *NOT_FOUND)
    assert stored_books(db) == before
    assert cover_files(app) == files
    assert client.get(f"/books/{book['_id']}", headers=auth_headers).json["data"] == book


@pytest.mark.parametrize("book_id", MALFORMED_IDS)
def test_delete_with_a_malformed_or_unknown_id_is_404(app, client, auth_headers, book, db, book_id):
    before, files = stored_books(db), cover_files(app)

    response = client.delete(f"/books/{book_id}", headers=auth_headers)

    assert_failure(response, 404, *NOT_FOUND)
    assert stored_books(db) == before
    assert cover_files(app) == files


# Cover serving -----------------------------------------------------------------------------------


SECRET = b"top-secret-instance-file"


@pytest.fixture
def planted_files(app: Flask) -> Path:
    """Put a secret in the instance folder and a stray file among the covers; return covers."""
    covers = Path(app.config["COVER_DIR"])
    covers.mkdir(parents=True, exist_ok=True)
    Path(app.instance_path, "secret_key").write_bytes(SECRET)
    (covers / "notes.txt").write_bytes(SECRET)
    (covers / ("A" * 32 + ".jpg")).write_bytes(SECRET)
    (covers / ("a" * 32 + ".gif")).write_bytes(SECRET)
    return covers


@pytest.mark.parametrize(
    "path",
    [
        "/static/books/../secret_key",
        "/static/books/../../secret_key",
        "/static/books/..%2fsecret_key",
        "/static/books/%2e%2e%2fsecret_key",
        "/static/books/..%5csecret_key",
        "/static/books/..",
        "/static/books/notes.txt",
        "/static/books/" + "A" * 32 + ".jpg",
        "/static/books/" + "a" * 32 + ".gif",
        "/static/books/" + "0" * 32 + ".jpg",
        "/static/books/" + "0" * 32 + ".png",
        "/static/books/",
    ],
)
def test_cover_path_that_is_not_a_stored_cover_is_404_json(client, planted_files, path):
    response = get_cover(client, path)

    assert_json_failure(response, 404)
    assert SECRET not in response.data


# Routing -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("patch", "/books/0123456789abcdef01234567", {"GET", "PUT", "DELETE"}),
        ("post", "/books/0123456789abcdef01234567", {"GET", "PUT", "DELETE"}),
        ("put", "/books/", {"GET", "POST"}),
        ("delete", "/books/", {"GET", "POST"}),
    ],
)
def test_a_method_a_book_route_does_not_take_is_405_json(
    app, client, auth_headers, book, db, method, path, allowed
):
    before, files = stored_books(db), cover_files(app)

    response = getattr(client, method)(path, headers=auth_headers, data={"title": "Emma"})

    assert_json_failure(response, 405)
    assert allowed <= {part.strip() for part in response.headers["Allow"].split(",")}
    assert stored_books(db) == before
    assert cover_files(app) == files


@pytest.mark.parametrize("method", ["get", "post"])
def test_books_without_the_trailing_slash_never_answers_html(client, auth_headers, method):
    response = getattr(client, method)("/books", headers=auth_headers)

    assert response.mimetype == "application/json"
    assert isinstance(response.json, dict) and "message" in response.json
