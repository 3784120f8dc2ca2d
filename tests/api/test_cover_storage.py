"""Covers in GridFS: any instance serves any cover, nothing orphaned, and migration both ways."""

from __future__ import annotations

import io
import os
import re
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gridfs
import pytest
from PIL import Image
from pymongo import MongoClient

from app import create_app
from config import ConfigError
from save_image import Thumbnail, make_thumbnail
from store import cover_storage, database
from store.cover_storage import delete_cover, is_cover_name, save_cover
from tests.helpers import base_config, cover_files, image_bytes, sign_up_and_log_in

pytestmark = pytest.mark.integration


@pytest.fixture
def database_url(nx_server_url: str) -> Iterator[str]:
    """Yield a fresh database on the session's nx-27017 server (GridFS needs a server)."""
    name = f"covers_{uuid.uuid4().hex[:10]}"
    yield f"{nx_server_url}/{name}"
    with MongoClient(nx_server_url, serverSelectionTimeoutMS=3000) as client:
        client.drop_database(name)


@pytest.fixture
def make(database_url: str, tmp_path: Path) -> Iterator[Any]:
    """Return a factory of apps on one database, each with an instance folder of its own."""
    made = []

    def build(**overrides: Any):
        instance = tmp_path / f"instance-{len(made)}"
        application = create_app(
            {**base_config(instance), "DATABASE_URL": database_url, **overrides}
        )
        made.append(application)
        return application

    yield build
    for application in made:
        database.close_client(application)


def blobs(app: Any) -> set[str]:
    """Return the names of the covers stored in GridFS."""
    with app.app_context():
        bucket = gridfs.GridFSBucket(database.get_db(), bucket_name="covers")
        return {stored.filename for stored in bucket.find({})}


def create(client: Any, headers: dict[str, str], title: str = "Dune", **form: Any) -> Any:
    """POST a book with a JPEG cover."""
    data = {"title": title, "category": "science", "cover_image": (image_bytes(), "c.jpg"), **form}
    return client.post("/books/", headers=headers, data=data)


def cover_path(book: dict[str, Any]) -> str:
    """Return the path part of a book's image_url."""
    return "/" + book["image_url"].split("/", 3)[3]


def test_gridfs_covers_are_served_by_another_instance_and_never_touch_the_disk(make):
    first, second = make(COVER_STORAGE="gridfs"), make(COVER_STORAGE="gridfs")
    headers = sign_up_and_log_in(first.test_client(), "ada@example.com")

    book = create(first.test_client(), headers).json["data"]
    served = second.test_client().get(cover_path(book))

    assert served.status_code == 200
    assert served.mimetype == "image/jpeg"
    assert Image.open(io.BytesIO(served.data)).size == (150, 100)
    assert "immutable" in served.headers["Cache-Control"]
    assert cover_files(first) == cover_files(second) == set()
    assert blobs(first) == {book["image_url"].rsplit("/", 1)[1]}


def test_gridfs_cover_answers_304_to_a_matching_if_none_match(make):
    app = make(COVER_STORAGE="gridfs")
    client = app.test_client()
    book = create(client, sign_up_and_log_in(client, "ada@example.com")).json["data"]
    first = client.get(cover_path(book))

    again = client.get(cover_path(book), headers={"If-None-Match": first.headers["ETag"]})

    assert again.status_code == 304


def test_gridfs_replacing_and_deleting_remove_the_old_blob(make):
    app = make(COVER_STORAGE="gridfs")
    client = app.test_client()
    headers = sign_up_and_log_in(client, "ada@example.com")
    book = create(client, headers).json["data"]

    replaced = client.put(
        f"/books/{book['_id']}",
        headers=headers,
        data={"cover_image": (image_bytes("PNG", mode="RGBA", color=(0, 0, 255, 128)), "n.png")},
    ).json["data"]

    assert blobs(app) == {replaced["image_url"].rsplit("/", 1)[1]}
    assert client.get(cover_path(book)).status_code == 404
    assert client.delete(f"/books/{book['_id']}", headers=headers).status_code == 204
    assert blobs(app) == set()


def test_gridfs_refused_create_leaves_no_blob(make):
    app = make(COVER_STORAGE="gridfs")
    client = app.test_client()
    headers = sign_up_and_log_in(client, "ada@example.com")
    create(client, headers)

    duplicate = create(client, headers)

    assert duplicate.status_code == 409
    assert len(blobs(app)) == 1


def test_unknown_gridfs_cover_is_a_json_404(make):
    client = make(COVER_STORAGE="gridfs").test_client()

    response = client.get("/static/books/" + "0" * 32 + ".jpg")

    assert response.status_code == 404
    assert response.json["error"] == "Not Found"


def test_migration_to_gridfs_moves_every_cover_and_can_run_again(make):
    local = make()
    client = local.test_client()
    headers = sign_up_and_log_in(client, "ada@example.com")
    books = [create(client, headers, title).json["data"] for title in ("One", "Two", "Three")]
    names = {book["image_url"].rsplit("/", 1)[1] for book in books}

    first_run = local.test_cli_runner().invoke(args=["covers", "migrate", "--to", "gridfs"])
    second_run = local.test_cli_runner().invoke(args=["covers", "migrate", "--to", "gridfs"])

    assert first_run.exit_code == 0
    assert "3 moved, 0 already there, 0 missing" in first_run.output
    assert "0 moved, 3 already there" in second_run.output
    assert cover_files(local) == set()
    assert blobs(local) == names
    served = make(COVER_STORAGE="gridfs").test_client()
    assert all(served.get(cover_path(book)).status_code == 200 for book in books)


def test_migration_back_to_local_restores_the_files(make):
    app = make(COVER_STORAGE="gridfs")
    client = app.test_client()
    book = create(client, sign_up_and_log_in(client, "ada@example.com")).json["data"]
    name = book["image_url"].rsplit("/", 1)[1]

    result = app.test_cli_runner().invoke(args=["covers", "migrate", "--to", "local"])

    assert "1 moved" in result.output
    assert cover_files(app) == {name}
    assert blobs(app) == set()


def big_photo() -> bytes:
    """Return a noisy 1000x1000 JPEG of about 1 MB: over Werkzeug's 500 KB in-memory limit."""
    buffer = io.BytesIO()
    Image.effect_noise((1000, 1000), 64).convert("RGB").save(buffer, "JPEG", quality=95)
    assert buffer.tell() > 600_000
    return buffer.getvalue()


def book_form_body(cover: bytes) -> tuple[bytes, str]:
    """Return a multipart book form with a cover_image file, as bytes, and its content type.

    Encoded here: the test client would spool a body this big to a temporary file of its own.
    """
    boundary = uuid.uuid4().hex
    fields = "".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in {"title": "Dune", "category": "science"}.items()
    )
    head = (
        f'{fields}--{boundary}\r\nContent-Disposition: form-data; name="cover_image"; '
        'filename="big.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'
    )
    body = head.encode() + cover + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def test_a_big_upload_is_received_in_memory_not_spooled_to_a_temporary_file(make, monkeypatch):
    app = make()
    client = app.test_client()
    headers = sign_up_and_log_in(client, "ada@example.com")
    temporary_files = []
    real_temporary_file = tempfile.TemporaryFile

    def spying_temporary_file(*args: Any, **kwargs: Any) -> Any:
        temporary_files.append(kwargs)
        return real_temporary_file(*args, **kwargs)

    monkeypatch.setattr(tempfile, "TemporaryFile", spying_temporary_file)
    body, content_type = book_form_body(big_photo())

    response = client.post("/books/", headers={**headers, "Content-Type": content_type}, data=body)

    assert response.status_code == 201
    assert response.json["message"] == "successfully created a new book"
    name = response.json["data"]["image_url"].rsplit("/", 1)[1]
    assert cover_files(app) == {name}
    stored = (Path(app.config["COVER_DIR"]) / name).read_bytes()
    assert Image.open(io.BytesIO(stored)).size == (150, 150)
    assert temporary_files == []


def test_a_streamed_upload_over_the_body_limit_is_413_and_stores_nothing(make):
    app = make(MAX_CONTENT_LENGTH=200_000)
    client = app.test_client()
    headers = sign_up_and_log_in(client, "ada@example.com")
    body, content_type = book_form_body(big_photo())

    # No Content-Length: only the limit on the stream itself can stop it.
    response = client.post(
        "/books/",
        headers={**headers, "Content-Type": content_type, "Transfer-Encoding": "chunked"},
        input_stream=io.BytesIO(body),
        environ_overrides={"wsgi.input_terminated": True},
    )

    assert response.status_code == 413
    assert response.json == {
        "message": "Request body is larger than 200000 bytes",
        "data": None,
        "error": "Request Entity Too Large",
    }
    assert cover_files(app) == set()
    with app.app_context():
        assert database.get_db().books.count_documents({}) == 0


def test_unknown_cover_storage_stops_start_up(tmp_path):
    with pytest.raises(ConfigError, match="COVER_STORAGE must be one of: local, gridfs"):
        create_app({**base_config(tmp_path), "COVER_STORAGE": "s3"})


@pytest.fixture
def thumbnail() -> Thumbnail:
    """A real JPEG thumbnail."""
    return make_thumbnail(image_bytes("JPEG"), 40_000_000)


# --- save_cover ----------------------------------------------------------------------------


def test_save_cover_returns_a_random_cover_name(thumbnail: Thumbnail, tmp_path: Path) -> None:
    name = save_cover(thumbnail, tmp_path)
    assert re.fullmatch(r"[0-9a-f]{32}\.jpg", name)
    assert is_cover_name(name)


def test_save_cover_syncs_the_file_and_then_its_directory(
    thumbnail: Thumbnail, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[str] = []
    real_fsync = os.fsync

    def recording_fsync(descriptor: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{descriptor}"))
        real_fsync(descriptor)

    monkeypatch.setattr(os, "fsync", recording_fsync)

    name = save_cover(thumbnail, tmp_path)

    # The bytes first (under the temporary name), then the folder that now holds the cover's name.
    assert len(synced) == 2
    assert Path(synced[0]).parent == tmp_path and Path(synced[0]).name != name
    assert synced[1] == str(tmp_path)
    assert (tmp_path / name).read_bytes() == thumbnail.data


def test_save_cover_writes_exactly_the_thumbnail_bytes(
    thumbnail: Thumbnail, tmp_path: Path
) -> None:
    name = save_cover(thumbnail, tmp_path)
    assert (tmp_path / name).read_bytes() == thumbnail.data


def test_saved_cover_is_private_to_the_app(thumbnail: Thumbnail, tmp_path: Path) -> None:
    name = save_cover(thumbnail, tmp_path)
    assert (tmp_path / name).stat().st_mode & 0o777 == 0o600


def test_png_thumbnail_is_saved_with_a_png_name(tmp_path: Path) -> None:
    png = make_thumbnail(image_bytes("PNG", mode="RGBA", color=(255, 0, 0, 128)), 40_000_000)
    assert re.fullmatch(r"[0-9a-f]{32}\.png", save_cover(png, tmp_path))


def test_two_saves_get_different_names(thumbnail: Thumbnail, tmp_path: Path) -> None:
    first, second = save_cover(thumbnail, tmp_path), save_cover(thumbnail, tmp_path)
    assert first != second
    assert sorted(os.listdir(tmp_path)) == sorted([first, second])


def test_save_cover_creates_missing_directories(thumbnail: Thumbnail, tmp_path: Path) -> None:
    cover_dir = tmp_path / "instance" / "covers"
    name = save_cover(thumbnail, str(cover_dir))
    assert (cover_dir / name).read_bytes() == thumbnail.data


def test_save_cover_leaves_no_temporary_file(thumbnail: Thumbnail, tmp_path: Path) -> None:
    name = save_cover(thumbnail, tmp_path)
    assert os.listdir(tmp_path) == [name]


def test_failed_save_leaves_no_temporary_file(
    thumbnail: Thumbnail, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing_replace(source: str, destination: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(cover_storage.os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        save_cover(thumbnail, tmp_path)
    assert os.listdir(tmp_path) == []


def test_save_cover_refuses_an_extension_it_would_not_serve(tmp_path: Path) -> None:
    forged = Thumbnail(b"data", "../../x", "image/jpeg")
    with pytest.raises(ValueError, match="unexpected thumbnail extension"):
        save_cover(forged, tmp_path)
    assert list(tmp_path.rglob("*")) == []


# --- delete_cover --------------------------------------------------------------------------


def test_delete_cover_removes_the_file(thumbnail: Thumbnail, tmp_path: Path) -> None:
    name = save_cover(thumbnail, tmp_path)
    delete_cover(tmp_path, name)
    assert os.listdir(tmp_path) == []


def test_deleting_a_missing_cover_is_fine(tmp_path: Path) -> None:
    delete_cover(tmp_path, "0" * 32 + ".jpg")
    delete_cover(tmp_path / "never-created", "0" * 32 + ".png")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    ("name", "sentinel"),
    [
        ("../x", "x"),
        ("a/../../etc/passwd", "etc/passwd"),
        ("../" + "a" * 32 + ".jpg", "a" * 32 + ".jpg"),
        ("A" * 32 + ".JPG", "covers/" + "A" * 32 + ".JPG"),
    ],
)
def test_delete_cover_ignores_names_that_are_not_cover_names(
    name: str, sentinel: str, tmp_path: Path
) -> None:
    cover_dir = tmp_path / "covers"
    cover_dir.mkdir()
    target = tmp_path / sentinel
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(b"keep me")
    delete_cover(cover_dir, name)
    assert target.read_bytes() == b"keep me"


# --- is_cover_name -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("0123456789abcdef0123456789abcdef.jpg", True),
        ("0123456789abcdef0123456789abcdef.png", True),
        ("0123456789ABCDEF0123456789ABCDEF.jpg", False),
        ("0123456789abcdef0123456789abcde.jpg", False),
        ("0123456789abcdef0123456789abcdef0.jpg", False),
        ("0123456789abcdef0123456789abcdeg.jpg", False),
        ("0123456789abcdef0123456789abcdef.jpeg", False),
        ("0123456789abcdef0123456789abcdef.gif", False),
        ("0123456789abcdef0123456789abcdef.JPG", False),
        ("0123456789abcdef0123456789abcdef.jpg\n", False),
        ("0123456789abcdef0123456789abcdef", False),
        ("/0123456789abcdef0123456789abcdef.jpg", False),
        ("../0123456789abcdef0123456789abcdef.jpg", False),
        (".0123456789abcdef0123456789abcdef.tmp", False),
        ("..", False),
        ("", False),
    ],
)
def test_is_cover_name(name: str, expected: bool) -> None:
    assert is_cover_name(name) is expected
