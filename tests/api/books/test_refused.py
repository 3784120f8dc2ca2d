"""Refused creates: bad fields and covers, taken titles, a failing database: nothing changes."""

from __future__ import annotations

import io
import struct
import zlib
from typing import Any

import pytest
from pymongo.errors import ServerSelectionTimeoutError

import models
from tests.api.books.checks import (
    ALLOWED_FORMAT_NAMES,
    COVER_REQUIRED,
    NOT_IMAGES,
    assert_failure,
    assert_json_failure,
    assert_validation_failure,
    books_in,
    cover_name,
    first_half,
    multipart,
    noisy_image,
    noisy_jpeg,
    post_book,
    signed_in,
    stored_books,
    valid_fields,
)
from tests.helpers import cover_files, image_bytes

# Refused creates ---------------------------------------------------------------------------------


def test_create_without_cover_is_400_cover_image_is_required(app, client, auth_headers, db):
    response = client.post(
        "/books/",
        headers=auth_headers,
        data={"title": "Dune", "description": "Spice", "category": "science"},
    )

    assert_failure(response, 400, *COVER_REQUIRED)
    assert stored_books(db) == []
    assert cover_files(app) == set()


def test_create_without_cover_and_with_invalid_fields_names_every_failing_field(
    app, client, auth_headers, db
):
    response = client.post(
        "/books/", headers=auth_headers, data={"title": "  ", "category": "novel"}
    )

    assert_validation_failure(response, {"title", "category", "cover_image"})
    assert stored_books(db) == []
    assert cover_files(app) == set()


def test_create_with_an_empty_unnamed_file_part_is_a_missing_cover(app, client, auth_headers, db):
    body, content_type = multipart([*valid_fields(), ("cover_image", "", b"")])

    response = client.post(
        "/books/", headers={**auth_headers, "Content-Type": content_type}, data=body
    )

    assert_failure(response, 400, *COVER_REQUIRED)
    assert stored_books(db) == []
    assert cover_files(app) == set()


def test_create_with_cover_image_as_a_text_field_is_a_missing_cover(app, client, auth_headers, db):
    body, content_type = multipart([*valid_fields(), ("cover_image", None, noisy_jpeg())])

    response = client.post(
        "/books/", headers={**auth_headers, "Content-Type": content_type}, data=body
    )

    assert_failure(response, 400, *COVER_REQUIRED)
    assert stored_books(db) == []
    assert cover_files(app) == set()


def test_create_with_an_empty_named_file_is_400(app, client, auth_headers, book_form, db):
    form = book_form(cover_image=(io.BytesIO(b""), "cover.jpg"))

    response = client.post("/books/", headers=auth_headers, data=form)

    assert response.status_code == 400
    assert response.json["data"] is None
    assert "empty" in response.json["message"]
    assert stored_books(db) == []
    assert cover_files(app) == set()


@pytest.mark.parametrize(
    ("fields", "failing"),
    [
        ({"title": None}, "title"),
        ({"title": ""}, "title"),
        ({"title": "   \t "}, "title"),
        ({"title": "t" * 201}, "title"),
        ({"category": None}, "category"),
        ({"category": "politicspicture book"}, "category"),
        ({"category": "novel"}, "category"),
        ({"category": ""}, "category"),
        ({"description": "d" * 5001}, "description"),
    ],
    ids=[
        "title-missing",
        "title-empty",
        "title-blank",
        "title-201-chars",
        "category-missing",
        "category-politicspicture-book",
        "category-novel",
        "category-empty",
        "description-5001-chars",
    ],
)
def test_create_with_an_invalid_field_is_400_naming_only_that_field(
    app, client, auth_headers, book_form, db, fields, failing
):
    response = client.post("/books/", headers=auth_headers, data=book_form(**fields))

    assert_validation_failure(response, {failing})
    assert stored_books(db) == []
    assert cover_files(app) == set()


@pytest.mark.parametrize("kind", NOT_IMAGES)
def test_create_with_a_non_image_named_cover_jpg_is_415_naming_the_allowed_formats(
    app, client, auth_headers, book_form, db, kind
):
    cover = (io.BytesIO(NOT_IMAGES[kind]), "cover.jpg", "image/jpeg")

    response = client.post("/books/", headers=auth_headers, data=book_form(cover_image=cover))

    assert response.status_code == 415
    assert response.json["data"] is None
    assert response.json["error"] == "Unsupported Media Type"
    assert all(name in response.json["message"] for name in ALLOWED_FORMAT_NAMES)
    assert stored_books(db) == []
    assert cover_files(app) == set()


@pytest.mark.parametrize(
    "content",
    [
        first_half(noisy_image("JPEG")),
        noisy_image("JPEG")[:-10],
        first_half(noisy_image("PNG")),
        first_half(noisy_image("GIF")),
        first_half(noisy_image("WEBP")),
        b"\x89PNG\r\n\x1a\n" + b"junk" * 20,
        b"\xff\xd8\xff" + b"junk" * 20,
    ],
    ids=["jpeg-half", "jpeg-no-end", "png-half", "gif-half", "webp-half", "png-junk", "jpeg-junk"],
)
def test_create_with_a_corrupt_or_truncated_image_is_400(
    app, client, auth_headers, book_form, db, content
):
    cover = (io.BytesIO(content), "cover.jpg")

    response = client.post("/books/", headers=auth_headers, data=book_form(cover_image=cover))

    assert response.status_code == 400
    assert response.json["data"] is None
    assert response.json["error"] == "Bad Request"
    assert "corrupt" in response.json["message"] or "truncated" in response.json["message"]
    assert stored_books(db) == []
    assert cover_files(app) == set()


def png_claiming(width: int, height: int) -> io.BytesIO:
    """Return a 1x1 PNG whose header is rewritten to claim width x height (CRC fixed up)."""
    data = bytearray(image_bytes("PNG", (1, 1)).getvalue())
    # Signature (8 bytes), then the IHDR chunk: length (4), type (4), data (13), CRC (4).
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return io.BytesIO(bytes(data))


@pytest.mark.parametrize(
    "make_bomb",
    [
        lambda: image_bytes("PNG", (10_000, 10_000), "1", 0, optimize=True),
        lambda: image_bytes("PNG", (7_000, 6_000), "1", 0, optimize=True),
        lambda: png_claiming(100_000, 100_000),
        lambda: png_claiming(1, 40_000_001),
    ],
    ids=["100-megapixels", "42-megapixels", "forged-10-gigapixels", "forged-one-pixel-wide"],
)
def test_create_with_a_pixel_bomb_is_400_about_the_size_limit(
    app, client, auth_headers, book_form, db, make_bomb
):
    bomb = make_bomb()
    assert len(bomb.getvalue()) < 100_000

    response = client.post(
        "/books/", headers=auth_headers, data=book_form(cover_image=(bomb, "cover.png"))
    )

    assert response.status_code == 400
    assert response.json["data"] is None
    assert response.json["error"] == "Bad Request"
    assert "pixels" in response.json["message"]
    assert stored_books(db) == []
    assert cover_files(app) == set()


def test_cover_max_pixels_setting_refuses_a_bigger_image(make_app, book_form):
    application = make_app(COVER_MAX_PIXELS=1000)
    test_client, headers = signed_in(application)
    form = book_form(cover_image=(image_bytes("PNG", (100, 100)), "cover.png"))

    response = test_client.post("/books/", headers=headers, data=form)

    assert response.status_code == 400
    assert response.json["data"] is None
    assert "pixels" in response.json["message"]
    assert books_in(application) == []
    assert cover_files(application) == set()


def test_create_over_the_configured_body_limit_is_413(make_app, book_form):
    application = make_app(MAX_CONTENT_LENGTH=10_000)
    test_client, headers = signed_in(application)
    form = book_form(cover_image=(io.BytesIO(b"\xff\xd8\xff" + b"x" * 50_000), "cover.jpg"))

    response = test_client.post("/books/", headers=headers, data=form)

    assert_json_failure(response, 413)
    assert books_in(application) == []
    assert cover_files(application) == set()


def test_create_over_the_default_5_mib_body_limit_is_413(app, client, auth_headers, db):
    # Encoded by hand: the test client would spool a body this big to an unclosed temp file.
    big = b"\xff\xd8\xff" + b"x" * (6 * 1024 * 1024)
    body, content_type = multipart([*valid_fields(), ("cover_image", "cover.jpg", big)])

    response = client.post(
        "/books/", headers={**auth_headers, "Content-Type": content_type}, data=body
    )

    assert_json_failure(response, 413)
    assert stored_books(db) == []
    assert cover_files(app) == set()


def test_create_with_a_json_body_is_415(app, client, auth_headers, db):
    response = client.post(
        "/books/",
        headers=auth_headers,
        json={"title": "Dune", "description": "Spice", "category": "science"},
    )

    assert_json_failure(response, 415)
    assert response.json["error"] == "Unsupported Media Type"
    assert stored_books(db) == []
    assert cover_files(app) == set()


def test_create_without_a_token_is_401(app, client, book_form, db):
    response = client.post("/books/", data=book_form())

    assert_failure(response, 401, "Authentication Token is missing!", "Unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert stored_books(db) == []
    assert cover_files(app) == set()


def test_create_with_an_invalid_token_is_401(app, client, book_form, db):
    headers = {"Authorization": "Bearer not.a.token"}

    response = client.post("/books/", headers=headers, data=book_form())

    assert_failure(response, 401, "Invalid Authentication token!", "Unauthorized")
    assert stored_books(db) == []
    assert cover_files(app) == set()


# Duplicate titles --------------------------------------------------------------------------------


@pytest.mark.parametrize("title", ["Dune", "DUNE", "dune", "  dune ", "Dune  "])
def test_create_with_a_title_already_on_my_shelf_is_409(
    app, client, auth_headers, book, book_form, db, title
):
    before, files = stored_books(db), cover_files(app)

    response = client.post("/books/", headers=auth_headers, data=book_form(title=title))

    assert_json_failure(response, 409)
    assert response.json["error"] == "Conflict"
    assert stored_books(db) == before
    assert len(before) == 1
    assert cover_files(app) == files == {cover_name(book["image_url"])}


def test_create_with_a_title_on_another_users_shelf_is_fine(
    app, client, book, other_headers, book_form, db
):
    data = post_book(client, other_headers, book_form(title="Dune"))

    assert data["title"] == "Dune"
    assert data["user_id"] != book["user_id"]
    assert len(stored_books(db)) == 2
    assert cover_files(app) == {cover_name(book["image_url"]), cover_name(data["image_url"])}


# Database failures -------------------------------------------------------------------------------


def fail_with_database_down(*args: Any, **kwargs: Any) -> Any:
    """Stand in for a model method while the database cannot be reached."""
    raise ServerSelectionTimeoutError("down")


def test_create_with_the_database_down_is_503_and_leaves_no_cover_file(
    app, client, auth_headers, book_form, db, monkeypatch
):
    monkeypatch.setattr(models.Books, "create", fail_with_database_down)

    response = client.post("/books/", headers=auth_headers, data=book_form())

    assert_json_failure(response, 503)
    assert response.headers.get("Retry-After")
    assert "down" not in response.get_data(as_text=True)
    assert stored_books(db) == []
    assert cover_files(app) == set()


def test_update_with_the_database_down_is_503_and_keeps_the_old_cover_only(
    app, client, auth_headers, book, book_form, db, monkeypatch
):
    before, files = stored_books(db), cover_files(app)
    monkeypatch.setattr(models.Books, "update", fail_with_database_down)

    response = client.put(
        f"/books/{book['_id']}",
        headers=auth_headers,
        data={"cover_image": (image_bytes("PNG", (90, 90)), "new.png")},
    )

    assert_json_failure(response, 503)
    assert response.headers.get("Retry-After")
    assert stored_books(db) == before
    assert cover_files(app) == files
