"""Leftovers and honest failures: covers never outlive their books, crashes leave nothing behind."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any

import gridfs

from store import database
from tests.helpers import cover_files, real_server_only

OLD = time.time() - 3600
NOT_FOUND = {"message": "Endpoint Not Found", "data": None, "error": "Not Found"}


def cover_path(book: dict[str, Any]) -> str:
    """Return the path part of a book's image_url."""
    return "/" + book["image_url"].split("/", 3)[3]


def cover_name(book: dict[str, Any]) -> str:
    """Return the stored name of a book's cover."""
    return book["image_url"].rsplit("/", 1)[1]


def test_a_cover_whose_book_is_gone_is_not_served(app, client, book, db):
    with client.get(cover_path(book)) as served:
        assert served.status_code == 200
    db.books.delete_one({"title": book["title"]})

    response = client.get(cover_path(book))

    assert response.status_code == 404
    assert response.json == NOT_FOUND


def test_a_delete_whose_cover_file_cannot_be_removed_still_stops_serving_it(
    app, client, auth_headers, book, db
):
    # A directory in the file's place: os.remove fails as on a read-only disk (even for root).
    path = Path(app.config["COVER_DIR"]) / cover_name(book)
    path.unlink()
    path.mkdir()
    (path / "keep").write_bytes(b"x")

    response = client.delete(f"/books/{book['_id']}", headers=auth_headers)

    assert response.status_code == 204
    assert response.data == b""
    assert client.get(f"/books/{book['_id']}", headers=auth_headers).status_code == 404
    assert client.get(cover_path(book)).status_code == 404
    assert db.books.count_documents({}) == 0


def test_a_cover_store_that_cannot_be_written_is_503_and_stores_nothing(
    make_app, tmp_path, book_form
):
    blocked = tmp_path / "not-a-folder"
    blocked.write_bytes(b"a file where the covers folder should be")
    app = make_app(COVER_DIR=str(blocked))
    client = app.test_client()
    client.post(
        "/users/", json={"name": "Ada Lovelace", "email": "a@example.com", "password": "Xy-1zzzzzz"}
    )
    login = client.post("/users/login", json={"email": "a@example.com", "password": "Xy-1zzzzzz"})
    headers = {"Authorization": f"Bearer {login.json['data']['token']}"}

    response = client.post("/books/", headers=headers, data=book_form())

    assert response.status_code == 503
    assert response.json == {
        "message": "Covers cannot be stored right now, try again later",
        "data": None,
        "error": "Service Unavailable",
    }
    assert response.headers["Retry-After"].isdigit()
    with app.app_context():
        assert database.get_db().books.count_documents({}) == 0


def test_the_sweep_removes_old_temporary_files_and_unused_covers_only(app, book, db):
    folder = Path(app.config["COVER_DIR"])
    leftovers = {
        "old-temporary": folder / ".abc123.tmp",
        "young-temporary": folder / ".def456.tmp",
        "old-unused": folder / ("a" * 32 + ".jpg"),
        "young-unused": folder / ("b" * 32 + ".jpg"),
    }
    for path in leftovers.values():
        path.write_bytes(b"left by a crash")
    for name in ("old-temporary", "old-unused"):
        os.utime(leftovers[name], (OLD, OLD))
    used = folder / cover_name(book)
    os.utime(used, (OLD, OLD))

    result = app.test_cli_runner().invoke(args=["covers", "sweep"])

    assert result.exit_code == 0
    assert result.output == "1 temporary and 1 unused covers removed\n"
    assert cover_files(app) == {
        ".def456.tmp",
        "b" * 32 + ".jpg",
        cover_name(book),
    }


def test_start_up_removes_old_temporary_files(make_app, app):
    folder = Path(app.config["COVER_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    old, young = folder / ".dead.tmp", folder / ".live.tmp"
    old.write_bytes(b"x")
    young.write_bytes(b"x")
    os.utime(old, (OLD, OLD))

    make_app()

    assert not old.exists()
    assert young.exists()


@real_server_only
def test_the_sweep_removes_empty_and_unused_gridfs_blobs(make_app, book_form):
    app = make_app(COVER_STORAGE="gridfs")
    client = app.test_client()
    body = {"name": "Ada Lovelace", "email": "a@example.com", "password": "Xy-1zzzzzz"}
    client.post("/users/", json=body)
    login = client.post("/users/login", json={"email": "a@example.com", "password": "Xy-1zzzzzz"})
    headers = {"Authorization": f"Bearer {login.json['data']['token']}"}
    kept = client.post("/books/", headers=headers, data=book_form()).json["data"]
    with app.app_context():
        bucket = gridfs.GridFSBucket(database.get_db(), bucket_name="covers")
        bucket.upload_from_stream("c" * 32 + ".jpg", b"")
        bucket.upload_from_stream("d" * 32 + ".jpg", b"unused")

    # nx-27017 keeps GridFS's upload dates to itself: age the leftovers by lowering the bar.
    result = app.test_cli_runner().invoke(args=["covers", "sweep", "--min-age", "0"])

    assert result.output == "1 temporary and 1 unused covers removed\n"
    with app.app_context():
        bucket = gridfs.GridFSBucket(database.get_db(), bucket_name="covers")
        assert {stored.filename for stored in bucket.find({})} == {cover_name(kept)}
    with client.get(cover_path(kept)) as served:
        assert served.status_code == 200


def test_local_covers_with_a_shared_database_warn_at_start(make_app, caplog):
    with caplog.at_level(logging.WARNING):
        make_app()

    assert "COVER_STORAGE=local with a shared DATABASE_URL" in caplog.text
