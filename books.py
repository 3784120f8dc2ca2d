"""The book routes: a user's shelf, cover uploads, and serving the cover thumbnails."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, request, send_from_directory
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import NotFound

from auth_middleware import token_required
from models import Books, ConcurrentUpdateError, DuplicateError
from responses import ApiError, success_response
from save_image import CoverError, delete_cover, is_cover_name, make_thumbnail, save_cover
from validate import normalise_category, validate_book

books = Blueprint("books", __name__)

COVER_URL_PATH = "static/books/"
COVER_CACHE_SECONDS = 365 * 24 * 60 * 60
FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


def form_body() -> tuple[dict[str, str], FileStorage | None]:
    """Return the multipart fields and the cover file (if any), or raise 415 for another type."""
    if request.content_length and request.mimetype not in FORM_TYPES:
        raise ApiError(415, "Content-Type must be multipart/form-data", "Unsupported Media Type")
    fields = {
        name: request.form[name]
        for name in ("title", "description", "category")
        if name in request.form
    }
    cover = request.files.get("cover_image")
    if cover is not None and not cover.filename:
        # Browsers and Postman send an empty, unnamed part when no file was chosen.
        cover = None
    return fields, cover


# Books -------------------------------------------------------------------------------------------


def cover_url(cover: str) -> str:
    """Return the absolute URL of a stored cover, from PUBLIC_URL or else the request."""
    base = current_app.config["PUBLIC_URL"] or request.host_url
    return base + COVER_URL_PATH + cover


def public_book(book: dict[str, Any]) -> dict[str, Any]:
    """Return a book as clients see it: the stored cover name becomes image_url."""
    fields = {key: value for key, value in book.items() if key != "cover"}
    return {**fields, "image_url": cover_url(book["cover"])}


def book_not_found() -> ApiError:
    """Return the one answer for a book that is malformed, unknown or someone else's."""
    return ApiError(404, "Book not found", "Not Found")


def clean_book_fields(fields: dict[str, str]) -> dict[str, str]:
    """Return validated book fields in their stored form."""
    cleaned = {}
    if "title" in fields:
        cleaned["title"] = " ".join(fields["title"].split())
    if "description" in fields:
        cleaned["description"] = fields["description"].strip()
    if "category" in fields:
        cleaned["category"] = normalise_category(fields["category"])
    return cleaned


def store_cover(upload: FileStorage) -> str:
    """Make and save the thumbnail of an upload, answering 400/415 for a bad image."""
    try:
        thumbnail = make_thumbnail(upload.stream, current_app.config["COVER_MAX_PIXELS"])
    except CoverError as error:
        reason = "Unsupported Media Type" if error.status == 415 else "Bad Request"
        raise ApiError(error.status, error.message, reason) from None
    return save_cover(thumbnail, current_app.config["COVER_DIR"])


@books.route("/books/", methods=["POST"])
@token_required
def add_book(current_user: dict[str, Any]) -> Response:
    """Put a new book with its cover on the caller's shelf."""
    fields, upload = form_body()
    errors = validate_book(fields)
    if upload is None:
        if not errors:
            raise ApiError(400, "cover image is required", "Bad Request")
        errors["cover_image"] = "cover image is required"
    if errors:
        raise ApiError(400, "Invalid data", errors)
    cover = store_cover(upload)
    stored = False
    try:
        book = Books().create(user_id=current_user["_id"], cover=cover, **_book_defaults(fields))
        stored = True
    except DuplicateError:
        raise ApiError(409, "A book with this title is already on your shelf", "Conflict") from None
    finally:
        if not stored:
            delete_cover(current_app.config["COVER_DIR"], cover)
    return success_response("successfully created a new book", public_book(book), 201)


def _book_defaults(fields: dict[str, str]) -> dict[str, str]:
    """Return the cleaned fields of a new book with an empty description if none was sent."""
    return {"description": "", **clean_book_fields(fields)}


@books.route("/books/", methods=["GET"])
@token_required
def get_books(current_user: dict[str, Any]) -> Response:
    """Return every book on the caller's shelf."""
    books = Books().get_by_user_id(current_user["_id"])
    return success_response("successfully retrieved all books", [public_book(b) for b in books])


@books.route("/books/<book_id>", methods=["GET"])
@token_required
def get_book(current_user: dict[str, Any], book_id: str) -> Response:
    """Return one of the caller's books."""
    book = Books().get_for_user(book_id, current_user["_id"])
    if book is None:
        raise book_not_found()
    return success_response("successfully retrieved a book", public_book(book))


@books.route("/books/<book_id>", methods=["PUT"])
@token_required
def update_book(current_user: dict[str, Any], book_id: str) -> Response:
    """Change any of a book's fields and, with a new cover_image file, replace its cover."""
    books = Books()
    book = books.get_for_user(book_id, current_user["_id"])
    if book is None:
        raise book_not_found()
    fields, upload = form_body()
    errors = validate_book(fields, partial=True)
    if errors:
        raise ApiError(400, "Invalid data", errors)
    changes = clean_book_fields(fields)
    if upload is not None:
        changes["cover"] = store_cover(upload)
    if not changes:
        return success_response("successfully updated a book", public_book(book))
    return _apply_book_update(books, book_id, current_user["_id"], changes)


def _apply_book_update(
    books: Books, book_id: str, user_id: str, changes: dict[str, str]
) -> Response:
    """Write the changes; remove whichever cover file is no longer used, whatever happens."""
    cover_dir = current_app.config["COVER_DIR"]
    new_cover = changes.get("cover")
    update = None
    try:
        update = books.update(book_id, user_id, changes)
    except DuplicateError:
        raise ApiError(409, "A book with this title is already on your shelf", "Conflict") from None
    except ConcurrentUpdateError:
        raise ApiError(409, "The book changed while it was being updated, try again") from None
    finally:
        if new_cover and update is None:
            delete_cover(cover_dir, new_cover)
    if update is None:
        raise book_not_found()
    if new_cover and update.previous_cover != new_cover:
        delete_cover(cover_dir, update.previous_cover)
    return success_response("successfully updated a book", public_book(update.book))


@books.route("/books/<book_id>", methods=["DELETE"])
@token_required
def delete_book(current_user: dict[str, Any], book_id: str) -> Response:
    """Delete one of the caller's books and its cover file."""
    book = Books().delete(book_id, current_user["_id"])
    if book is None:
        raise book_not_found()
    delete_cover(current_app.config["COVER_DIR"], book["cover"])
    return Response(status=204)


@books.route("/static/books/<name>", methods=["GET"])
def serve_cover(name: str) -> Response:
    """Serve a stored cover thumbnail with long-lived caching and an ETag."""
    if not is_cover_name(name):
        raise NotFound()
    response = send_from_directory(
        current_app.config["COVER_DIR"], name, max_age=COVER_CACHE_SECONDS
    )
    response.cache_control.public = True
    response.cache_control.immutable = True
    return response
