"""What the book tests share: expected shapes, failure checks, covers and forms built in memory."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlsplit

from flask import Flask
from flask.testing import FlaskClient
from PIL import Image

from store import database
from tests.helpers import sign_up_and_log_in

# What the contract says a book answers, written out here rather than read from the spec.
BOOK_KEYS = set(
    "_id title description category isbn image_url user_id created_at updated_at".split()
)
COVER_URL_PREFIX = "http://localhost/static/books/"
NOT_FOUND = ("Book not found", "Not Found")
COVER_REQUIRED = ("cover image is required", "Bad Request")
UNKNOWN_ID = "0123456789abcdef01234567"
MALFORMED_IDS = [
    "123",
    "zzzzzzzzzzzzzzzzzzzzzzzz",
    UNKNOWN_ID,
    quote('{"$ne":null}', safe=""),
]
# Fields a client may not set on a book (the server's, or none of a book's), with values to try.
SERVER_FIELDS = [
    ("_id", UNKNOWN_ID),
    ("user_id", UNKNOWN_ID),
    ("image_url", "http://evil.example/static/books/x.jpg"),
    ("active", "false"),
    ("role", "admin"),
]
ALLOWED_FORMAT_NAMES = ("JPEG", "PNG", "GIF", "WebP")
NOT_IMAGES = {
    "text": b"hello, this is plain text and not an image at all\n",
    "svg": b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect/></svg>',
    "html": b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>",
    "pdf": b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n",
}


def stored_books(db: Any) -> list[dict[str, Any]]:
    """Return every stored book document, in insertion order, to compare before and after."""
    return list(db.books.find({}).sort("_id", 1))


def cover_path(image_url: str) -> str:
    """Return the path part of an image_url, to GET it through the test client."""
    return urlsplit(image_url).path


def cover_name(image_url: str) -> str:
    """Return the stored file name an image_url points at."""
    return cover_path(image_url).rsplit("/", 1)[1]


def assert_failure(response: Any, status: int, message: str, error: Any) -> None:
    """Assert the failure envelope with an exact message and error."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json
    assert response.json == {"message": message, "data": None, "error": error}


def assert_json_failure(response: Any, status: int) -> None:
    """Assert a failure envelope whose wording the contract leaves open."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json
    body = response.json
    assert set(body) == {"message", "data", "error"}
    assert body["data"] is None
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["error"], str) and body["error"]


def assert_validation_failure(response: Any, fields: set[str]) -> None:
    """Assert a 400 "Invalid data" whose error object names exactly these fields."""
    assert response.status_code == 400, response.get_data(as_text=True)
    body = response.json
    assert body["message"] == "Invalid data"
    assert body["data"] is None
    assert set(body["error"]) == fields
    assert all(isinstance(text, str) and text for text in body["error"].values())


def string_values(value: Any) -> Iterator[str]:
    """Yield every string inside a stored document, however deeply nested."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from string_values(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from string_values(item)


def get_cover(client: FlaskClient, path: str, **kwargs: Any) -> Any:
    """GET a cover path and close the response at once (a served file stays open until then)."""
    response = client.get(path, **kwargs)
    response.get_data()
    response.close()
    return response


def served_image(client: FlaskClient, image_url: str) -> Image.Image:
    """GET a cover, assert it is served as an image, and return it decoded."""
    response = get_cover(client, cover_path(image_url))
    assert response.status_code == 200
    assert response.mimetype in {"image/jpeg", "image/png"}
    image = Image.open(io.BytesIO(response.data))
    image.load()
    assert image.format == {"image/jpeg": "JPEG", "image/png": "PNG"}[response.mimetype]
    return image


def noisy_image(image_format: str = "JPEG", size: tuple[int, int] = (300, 200)) -> bytes:
    """Return an image with real entropy, so cutting it short really loses pixel data."""
    buffer = io.BytesIO()
    Image.effect_noise(size, 80).convert("RGB").save(buffer, image_format)
    return buffer.getvalue()


def noisy_jpeg() -> bytes:
    """Return a noisy JPEG."""
    return noisy_image("JPEG")


def first_half(data: bytes) -> bytes:
    """Return the first half of some bytes."""
    return data[: len(data) // 2]


def multipart(parts: list[tuple[str, str | None, bytes]]) -> tuple[bytes, str]:
    """Encode (name, filename or None, content) parts by hand, for parts a client would send."""
    boundary = "testboundary7MA4YWxkTrZu0gW"
    chunks = []
    for name, filename, content in parts:
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        head = f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
        if filename is not None:
            head += "Content-Type: application/octet-stream\r\n"
        chunks.append(head.encode() + b"\r\n" + content + b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


def valid_fields() -> list[tuple[str, str | None, bytes]]:
    """Return the text parts of a valid book, with no cover part."""
    return [
        ("title", None, b"Dune"),
        ("description", None, b"Spice"),
        ("category", None, b"science"),
    ]


def post_book(client: FlaskClient, headers: dict[str, str], form: dict[str, Any]) -> Any:
    """Create a book and assert it was created."""
    response = client.post("/books/", headers=headers, data=form)
    assert response.status_code == 201, response.json
    return response.json["data"]


def signed_in(application: Flask, email: str = "ada@example.com") -> tuple[FlaskClient, dict]:
    """Return a client of the app and the Authorization header of a new user there."""
    test_client = application.test_client()
    return test_client, sign_up_and_log_in(test_client, email)


def books_in(application: Flask) -> list[dict[str, Any]]:
    """Return the stored books of an app built by make_app."""
    with application.app_context():
        return stored_books(database.get_db())
