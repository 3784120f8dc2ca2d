"""Creating a book: the stored book, its cover and the answer."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from PIL import ExifTags, Image
from PIL.PngImagePlugin import PngInfo

from tests.api.books.checks import (
    BOOK_KEYS,
    COVER_URL_PREFIX,
    SERVER_FIELDS,
    UNKNOWN_ID,
    books_in,
    cover_name,
    cover_path,
    get_cover,
    post_book,
    served_image,
    signed_in,
    stored_books,
    string_values,
)
from tests.helpers import cover_files, image_bytes

# Create ------------------------------------------------------------------------------------------


def test_create_answers_201_with_the_book(client, user, auth_headers, book_form):
    response = client.post("/books/", headers=auth_headers, data=book_form())

    assert response.status_code == 201
    assert response.json["message"] == "successfully created a new book"
    data = response.json["data"]
    assert set(data) == BOOK_KEYS
    assert data["title"] == "Dune"
    assert data["description"] == "A desert planet"
    assert data["category"] == "science"
    assert data["user_id"] == user["_id"]
    assert isinstance(data["created_at"], str) and data["created_at"] == data["updated_at"]


def test_create_gives_a_24_hex_id_that_is_the_stored_id(client, auth_headers, book_form, db):
    data = post_book(client, auth_headers, book_form())

    assert len(data["_id"]) == 24 and all(c in "0123456789abcdef" for c in data["_id"])
    assert [str(doc["_id"]) for doc in stored_books(db)] == [data["_id"]]


def test_create_trims_the_title(client, auth_headers, book_form, db):
    data = post_book(client, auth_headers, book_form(title="   Dune  "))

    assert data["title"] == "Dune"
    assert stored_books(db)[0]["title"] == "Dune"


@pytest.mark.parametrize(
    ("sent", "canonical"),
    [
        ("Science", "science"),
        ("peotry", "poetry"),
        ("Poetry", "poetry"),
        ("PICTURE BOOK", "picture book"),
        ("politics", "politics"),
        ("  Horror ", "horror"),
    ],
)
def test_create_stores_the_canonical_lower_case_category(
    client, auth_headers, book_form, db, sent, canonical
):
    data = post_book(client, auth_headers, book_form(category=sent))

    assert data["category"] == canonical
    assert stored_books(db)[0]["category"] == canonical


def test_create_without_description_gives_an_empty_description(client, auth_headers, book_form, db):
    data = post_book(client, auth_headers, book_form(description=None))

    assert data["description"] == ""
    assert stored_books(db)[0]["description"] == ""


def test_create_accepts_a_200_character_title_and_5000_character_description(
    client, auth_headers, book_form
):
    form = book_form(title="t" * 200, description="d" * 5000)

    data = post_book(client, auth_headers, form)

    assert (len(data["title"]), len(data["description"])) == (200, 5000)


def test_create_image_url_is_absolute_on_the_request_host(client, auth_headers, book_form):
    data = post_book(client, auth_headers, book_form())

    assert data["image_url"].startswith(COVER_URL_PREFIX)


def test_create_image_url_serves_a_thumbnail_within_150x150(client, auth_headers, book_form):
    form = book_form(cover_image=(image_bytes("JPEG", (800, 400)), "cover.jpg"))
    data = post_book(client, auth_headers, form)

    image = served_image(client, data["image_url"])

    assert image.size == (150, 75)


def test_cover_is_served_with_an_etag_and_a_long_max_age(client, auth_headers, book_form):
    data = post_book(client, auth_headers, book_form())

    response = get_cover(client, cover_path(data["image_url"]))

    assert response.status_code == 200
    assert response.headers.get("ETag")
    assert "max-age" in response.headers.get("Cache-Control", "")


def test_cover_conditional_get_with_its_etag_answers_304(client, auth_headers, book_form):
    data = post_book(client, auth_headers, book_form())
    etag = get_cover(client, cover_path(data["image_url"])).headers["ETag"]

    response = get_cover(client, cover_path(data["image_url"]), headers={"If-None-Match": etag})

    assert response.status_code == 304
    assert response.data == b""


def test_create_writes_exactly_one_cover_file_named_in_image_url(
    app, client, auth_headers, book_form
):
    data = post_book(client, auth_headers, book_form())

    assert cover_files(app) == {cover_name(data["image_url"])}


# TRUSTED_HOSTS refuses a foreign Host outright (tests/api/test_hosts_and_files.py); with the
# check off ("*"), a hostile Host must still reach neither the database nor later answers.


def test_hostile_host_header_is_not_stored(make_app, book_form):
    application = make_app(TRUSTED_HOSTS="*")
    client, auth_headers = signed_in(application)
    response = client.post(
        "/books/", headers={**auth_headers, "Host": "evil.example"}, data=book_form()
    )
    assert response.status_code == 201

    stored = books_in(application)
    assert len(stored) == 1
    assert not [text for text in string_values(stored[0]) if "evil" in text.lower()]


def test_hostile_host_at_create_does_not_reach_later_requests(make_app, book_form):
    client, auth_headers = signed_in(make_app(TRUSTED_HOSTS="*"))
    created = client.post(
        "/books/", headers={**auth_headers, "Host": "evil.example"}, data=book_form()
    ).json["data"]

    response = client.get(f"/books/{created['_id']}", headers=auth_headers)

    assert response.status_code == 200
    assert response.json["data"]["image_url"].startswith(COVER_URL_PREFIX)


def test_public_url_builds_image_url_whatever_the_host_header(make_app, book_form):
    application = make_app(PUBLIC_URL="https://api.example.com", TRUSTED_HOSTS="*")
    test_client, headers = signed_in(application)
    hostile = {**headers, "Host": "evil.example"}

    created = test_client.post("/books/", headers=hostile, data=book_form())
    listed = test_client.get("/books/", headers=hostile)

    assert created.status_code == 201
    prefix = "https://api.example.com/static/books/"
    assert created.json["data"]["image_url"].startswith(prefix)
    assert [book["image_url"] for book in listed.json["data"]] == [
        created.json["data"]["image_url"]
    ]
    assert get_cover(test_client, cover_path(created.json["data"]["image_url"])).status_code == 200
    assert not [text for text in string_values(books_in(application)) if "evil" in text]


@pytest.mark.parametrize(("field", "value"), SERVER_FIELDS)
def test_create_ignores_client_sent_server_fields(
    client, user, auth_headers, book_form, db, field, value
):
    response = client.post("/books/", headers=auth_headers, data=book_form(**{field: value}))

    assert response.status_code == 201
    data = response.json["data"]
    assert set(data) == BOOK_KEYS
    assert data["_id"] != UNKNOWN_ID
    assert data["user_id"] == user["_id"]
    assert data["image_url"].startswith(COVER_URL_PREFIX)
    [stored] = stored_books(db)
    assert str(stored["_id"]) == data["_id"]
    assert stored["user_id"] == user["_id"]
    assert "role" not in stored and "active" not in stored
    assert value not in list(string_values(stored))


@pytest.mark.parametrize(
    ("image_format", "filename"),
    [("JPEG", "cover.jpg"), ("PNG", "cover.png"), ("GIF", "cover.gif"), ("WEBP", "cover.webp")],
)
def test_create_accepts_every_allowed_image_format(
    app, client, auth_headers, book_form, image_format, filename
):
    form = book_form(cover_image=(image_bytes(image_format, (400, 300)), filename))

    data = post_book(client, auth_headers, form)

    assert served_image(client, data["image_url"]).size == (150, 113)
    assert cover_files(app) == {cover_name(data["image_url"])}


def test_create_keeps_an_rgba_png_as_a_transparent_png(client, auth_headers, book_form):
    cover = image_bytes("PNG", (200, 200), "RGBA", (0, 128, 255, 100))

    data = post_book(client, auth_headers, book_form(cover_image=(cover, "cover.png")))

    image = served_image(client, data["image_url"])
    assert image.format == "PNG"
    assert image.mode == "RGBA"
    assert image.getpixel((75, 75))[3] == 100


def test_create_detects_the_format_from_the_bytes_not_the_name(client, auth_headers, book_form):
    cover = (image_bytes("PNG", (100, 100)), "cover.gif", "image/gif")

    data = post_book(client, auth_headers, book_form(cover_image=cover))

    assert served_image(client, data["image_url"]).size == (100, 100)


def test_create_applies_the_exif_orientation(client, auth_headers, book_form):
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6  # "rotate 90 degrees clockwise to display"
    cover = image_bytes("JPEG", (300, 150), exif=exif.tobytes())

    data = post_book(client, auth_headers, book_form(cover_image=(cover, "cover.jpg")))

    assert served_image(client, data["image_url"]).size == (75, 150)


@pytest.mark.parametrize("image_format", ["JPEG", "PNG"])
def test_create_strips_every_metadata_block(client, auth_headers, book_form, image_format):
    exif = Image.Exif()
    exif[ExifTags.Base.ImageDescription] = "secret-exif"
    exif[ExifTags.Base.Orientation] = 1
    options: dict[str, Any] = {"exif": exif.tobytes()}
    if image_format == "JPEG":
        options.update(comment=b"secret-comment", xmp=b"<x:xmpmeta>secret-xmp</x:xmpmeta>")
    else:
        text = PngInfo()
        text.add_text("Comment", "secret-comment")
        text.add_text("XML:com.adobe.xmp", "<x:xmpmeta>secret-xmp</x:xmpmeta>")
        options["pnginfo"] = text
    cover = image_bytes(image_format, (120, 90), **options)
    assert cover.getvalue().count(b"secret") == 3

    data = post_book(client, auth_headers, book_form(cover_image=(cover, "cover")))

    response = get_cover(client, cover_path(data["image_url"]))
    assert response.status_code == 200
    assert b"secret" not in response.data
    assert not Image.open(io.BytesIO(response.data)).getexif()


@pytest.mark.parametrize(
    ("image_format", "mode", "color", "served_mode"),
    [
        ("JPEG", "CMYK", (0, 255, 255, 0), "RGB"),
        ("JPEG", "L", 128, "RGB"),
        ("PNG", "LA", (128, 100), "RGBA"),
        ("PNG", "P", 3, "RGB"),
        ("PNG", "I;16", 40_000, "RGB"),
        ("PNG", "1", 1, "RGB"),
        ("WEBP", "RGBA", (0, 0, 255, 100), "RGBA"),
        ("GIF", "P", 5, "RGB"),
    ],
)
def test_create_normalises_every_colour_mode(
    client, auth_headers, book_form, image_format, mode, color, served_mode
):
    cover = image_bytes(image_format, (90, 60), mode, color)

    data = post_book(client, auth_headers, book_form(cover_image=(cover, "cover")))

    image = served_image(client, data["image_url"])
    assert (image.mode, image.size) == (served_mode, (90, 60))


def test_create_scales_a_16_bit_image_down_instead_of_clipping_it(client, auth_headers, book_form):
    cover = image_bytes("PNG", (60, 60), "I;16", 40_000)  # 40000 / 256 = 156 in 8 bits

    data = post_book(client, auth_headers, book_form(cover_image=(cover, "cover.png")))

    red, green, blue = served_image(client, data["image_url"]).getpixel((30, 30))
    assert all(abs(channel - 156) <= 3 for channel in (red, green, blue))


def test_create_keeps_a_transparent_palette_png_transparent(client, auth_headers, book_form):
    image = Image.new("P", (40, 40), 0)
    image.putpalette([255, 0, 0, 0, 0, 255])
    buffer = io.BytesIO()
    image.save(buffer, "PNG", transparency=0)
    buffer.seek(0)

    data = post_book(client, auth_headers, book_form(cover_image=(buffer, "cover.png")))

    served = served_image(client, data["image_url"])
    assert served.format == "PNG"
    assert served.getpixel((20, 20))[3] == 0


def test_create_takes_the_first_frame_of_an_animated_gif(client, auth_headers, book_form):
    frames = [Image.new("RGB", (80, 60), color) for color in ("red", "blue", "lime")]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=100)
    buffer.seek(0)

    data = post_book(client, auth_headers, book_form(cover_image=(buffer, "cover.gif")))

    red, green, blue = served_image(client, data["image_url"]).getpixel((40, 30))
    assert red > 200 and green < 60 and blue < 60


def test_create_gives_each_cover_a_new_random_server_chosen_name(
    app, client, auth_headers, book_form
):
    names = [
        cover_name(post_book(client, auth_headers, book_form(title=title))["image_url"])
        for title in ("Dune", "Emma")
    ]

    assert names[0] != names[1]
    assert all(re.fullmatch(r"[0-9a-f]{32}\.(jpg|png)", name) for name in names)
    assert "cover" not in "".join(names)
    assert cover_files(app) == set(names)
