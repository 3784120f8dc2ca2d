"""The decode budget: a small file must not make the server decode a huge image."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image

import save_image
from config import ConfigError, load_settings
from save_image import CoverError, decode_cost, make_thumbnail, pixel_bytes
from tests.helpers import cover_files, sign_up_and_log_in

# Small enough that test images of about a megapixel exceed it: cheap to build and to refuse.
BUDGET = 4 * 1024 * 1024
MiB = 2**20


def encoded(image: Image.Image, image_format: str, **options: Any) -> bytes:
    """Return the image encoded in image_format."""
    buffer = io.BytesIO()
    image.save(buffer, image_format, **options)
    return buffer.getvalue()


def opened(data: bytes) -> Image.Image:
    """Open encoded bytes without decoding their pixels."""
    return Image.open(io.BytesIO(data))


def rgba_webp(size: tuple[int, int]) -> bytes:
    """Return a flat RGBA lossless WebP: tiny on disk, huge once decoded."""
    return encoded(Image.new("RGBA", size, (10, 20, 30, 128)), "WEBP", lossless=True)


def rgba_png(size: tuple[int, int]) -> bytes:
    """Return a flat RGBA PNG (compresses to almost nothing)."""
    return encoded(Image.new("RGBA", size, (10, 20, 30, 128)), "PNG")


def sixteen_bit_png(size: tuple[int, int]) -> bytes:
    """Return a flat 16-bit greyscale PNG."""
    return encoded(Image.new("I;16", size, 30_000), "PNG")


def big_jpeg(size: tuple[int, int]) -> bytes:
    """Return a flat RGB JPEG."""
    return encoded(Image.new("RGB", size, "teal"), "JPEG")


def stored_books(app: Flask) -> list[dict[str, Any]]:
    """Return every book in the database."""
    from store.database import get_db

    with app.app_context():
        return list(get_db().books.find({}))


def form(data: bytes, filename: str, title: str = "Dune") -> dict[str, Any]:
    """Return a multipart book form with data as its cover."""
    return {
        "title": title,
        "description": "A desert planet",
        "category": "science",
        "cover_image": (io.BytesIO(data), filename),
    }


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    """Return the app with a small decode budget (the shared fixtures then use it)."""
    return make_app(COVER_MAX_DECODE_BYTES=BUDGET)


# --- the arithmetic ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "expected"),
    [("L", 1), ("P", 1), ("1", 1), ("I;16", 2), ("I", 4), ("F", 4)]
    + [(mode, 4) for mode in ("RGB", "RGBA", "CMYK", "LA", "YCbCr")],
)
def test_pixel_bytes_are_what_pillow_keeps_a_pixel_in(mode: str, expected: int) -> None:
    """Multi-band 8-bit modes are padded to 4 bytes; 16-bit bands count 2 bytes each."""
    assert pixel_bytes(mode) == expected


@pytest.mark.parametrize(
    ("data", "per_pixel"),
    [
        (encoded(Image.new("RGB", (40, 30)), "PNG"), 4),
        (rgba_png((40, 30)), 8),  # plus the premultiplied copy resizing makes
        (encoded(Image.new("L", (40, 30)), "PNG"), 5),  # plus the RGB conversion
        (encoded(Image.new("P", (40, 30)), "GIF"), 5),
        (encoded(Image.new("P", (40, 30)), "PNG", transparency=0), 9),
        (encoded(Image.new("LA", (40, 30)), "PNG"), 12),
        (sixteen_bit_png((40, 30)), 10),  # two "I" copies on the way to 8 bits
        (rgba_webp((40, 30)), 16),  # libwebp's canvas and the copy it hands Pillow
        (encoded(Image.new("RGB", (40, 30)), "WEBP", lossless=True), 16),
    ],
)
def test_decode_cost_counts_the_pipelines_copies(data: bytes, per_pixel: int) -> None:
    """The cost is the measured peak: decoded pixels plus the pipeline's copies of them."""
    assert decode_cost(opened(data)) == 40 * 30 * per_pixel


def test_a_jpeg_is_judged_at_its_drafted_size() -> None:
    """A 24-megapixel JPEG decodes at 1/8 scale for a thumbnail, and is judged at that size."""
    thumbnail = make_thumbnail(io.BytesIO(big_jpeg((6000, 4000))), 40_000_000, BUDGET)
    assert (thumbnail.extension, Image.open(io.BytesIO(thumbnail.data)).size) == ("jpg", (150, 100))


def test_over_budget_is_refused_before_decoding() -> None:
    """The 413 names the size and the memory it needs, and no pixel was decoded."""
    data = rgba_png((1024, 1024))
    with pytest.raises(CoverError) as caught:
        make_thumbnail(io.BytesIO(data), 40_000_000, BUDGET)
    assert caught.value.status == 413
    assert caught.value.message == (
        "cover image is too large to process: 1024x1024 pixels with transparency needs 8 MiB "
        "in memory, the limit is 4 MiB; upload a smaller image"
    )


def test_the_budget_setting_must_be_a_positive_whole_number() -> None:
    """COVER_MAX_DECODE_BYTES below 1 stops start-up with a one-line message."""
    assert load_settings()["COVER_MAX_DECODE_BYTES"] == 64 * MiB
    with pytest.raises(ConfigError, match="COVER_MAX_DECODE_BYTES must be at least 1"):
        load_settings({"COVER_MAX_DECODE_BYTES": 0})


# --- through the API ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "filename", "needs"),
    [
        (rgba_webp((1000, 1000)), "cover.webp", "1000x1000 pixels with transparency needs 16 MiB"),
        (rgba_png((1000, 1000)), "cover.png", "1000x1000 pixels with transparency needs 8 MiB"),
        (sixteen_bit_png((800, 800)), "cover.png", "800x800 pixels needs 7 MiB"),
    ],
)
def test_create_with_a_cover_over_budget_is_413_and_stores_nothing(
    app: Flask,
    client: FlaskClient,
    auth_headers: dict[str, str],
    data: bytes,
    filename: str,
    needs: str,
) -> None:
    """POST /books/ refuses it naming cover_image; no book and no cover file are left."""
    response = client.post("/books/", headers=auth_headers, data=form(data, filename))
    message = (
        f"cover image is too large to process: {needs} in memory, the limit is 4 MiB; "
        "upload a smaller image"
    )
    assert response.status_code == 413
    assert response.json == {"message": message, "data": None, "error": {"cover_image": message}}
    assert stored_books(app) == []
    assert cover_files(app) == set()


def test_replacing_a_cover_with_one_over_budget_is_413_and_changes_nothing(
    app: Flask, client: FlaskClient, auth_headers: dict[str, str], book: dict[str, Any]
) -> None:
    """PUT /books/<id> refuses it; the book and its cover file stay as they were."""
    before_books, before_files = stored_books(app), cover_files(app)
    response = client.put(
        f"/books/{book['_id']}", headers=auth_headers, data=form(rgba_png((1024, 1024)), "c.png")
    )
    assert response.status_code == 413
    assert response.json["data"] is None
    assert "8 MiB in memory" in response.json["error"]["cover_image"]
    assert stored_books(app) == before_books
    assert cover_files(app) == before_files


def test_a_big_jpeg_that_drafts_under_budget_is_accepted(
    app: Flask, client: FlaskClient, auth_headers: dict[str, str]
) -> None:
    """A 12-megapixel JPEG (48 MB if fully decoded) becomes a cover within a 4 MiB budget."""
    response = client.post(
        "/books/", headers=auth_headers, data=form(big_jpeg((4000, 3000)), "photo.jpg")
    )
    assert response.status_code == 201
    assert response.json["message"] == "successfully created a new book"
    assert len(stored_books(app)) == 1
    assert len(cover_files(app)) == 1


def test_the_default_budget_refuses_a_tiny_6000x6000_webp(
    make_app: Callable[..., Flask],
) -> None:
    """With the default 64 MiB, a 1.4 KB 36-megapixel RGBA WebP is refused, not decoded."""
    application = make_app()
    client = application.test_client()
    headers = sign_up_and_log_in(client, "ada@example.com")
    response = client.post("/books/", headers=headers, data=form(rgba_webp((6000, 6000)), "x.webp"))
    assert response.status_code == 413
    assert response.json["error"] == {
        "cover_image": "cover image is too large to process: 6000x6000 pixels with transparency "
        "needs 550 MiB in memory, the limit is 64 MiB; upload a smaller image"
    }
    assert stored_books(application) == []
    assert cover_files(application) == set()


def test_a_decode_waits_for_the_slot_then_answers_503(
    app: Flask,
    client: FlaskClient,
    auth_headers: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """While another decode holds the slot, an upload gets 503 + Retry-After, not a hang."""
    monkeypatch.setattr(save_image, "DECODE_WAIT_SECONDS", 0)
    data = encoded(Image.new("RGB", (100, 100), "teal"), "PNG")
    assert save_image._decodes.acquire(blocking=False)
    try:
        response = client.post("/books/", headers=auth_headers, data=form(data, "c.png"))
    finally:
        save_image._decodes.release()
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.json == {
        "message": "the server is busy processing other images, try again shortly",
        "data": None,
        "error": "Service Unavailable",
    }
    assert stored_books(app) == []
    assert cover_files(app) == set()
    retried = client.post("/books/", headers=auth_headers, data=form(data, "c.png"))
    assert retried.status_code == 201
    assert retried.json["message"] == "successfully created a new book"
