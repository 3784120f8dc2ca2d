"""The book routes: a user's shelf, cover uploads, and serving the cover thumbnails."""

from __future__ import annotations

import math
import re
from typing import Any, cast

import click
from flask import Blueprint, Response, current_app, request
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response as BaseResponse

from auth_middleware import token_required
from models import Books
from request_schema.isbn import normalise_isbn
from save_image import DECODE_RETRY_AFTER, CoverError, make_thumbnail
from store.cover_storage import answer_cover, cover_store, discard_unless_used
from store.database import get_db
from store.errors import ConcurrentUpdateError, DuplicateError, PreconditionFailedError
from store.idempotency import IdempotencyKeys, record_id, request_fingerprint, seconds_left
from store.shelf_index import rebuild
from store.shelf_search import BookQuery
from validate import (
    BOOK_CREATE,
    BOOK_LIST_QUERY,
    BOOK_UPDATE,
    PER_PAGE_DEFAULT,
    normalise_category,
)
from web.paging import page_links
from web.request_body import accepts, check, declared_schema, idempotency_key, unicode_errors
from web.responses import ApiError, success_response

books = Blueprint("books", __name__)

COVER_URL_PATH = "static/books/"
FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")
# The form's text fields, as validate.py declares them (the cover file comes apart).
BOOK_FORM_FIELDS = tuple(f.name for f in BOOK_CREATE.fields if f.schema.get("format") != "binary")
ETAG_PATTERN = re.compile(r"v([0-9]{1,12})")
HIDDEN_BOOK_FIELDS = ("cover", "version")


# Requests and answers ----------------------------------------------------------------------------


def form_body() -> tuple[dict[str, str], FileStorage | None]:
    """Return the multipart fields and the cover file (if any), or raise 415 for another type."""
    if request.content_length and request.mimetype not in FORM_TYPES:
        raise ApiError(415, "Content-Type must be multipart/form-data", "Unsupported Media Type")
    fields = {name: request.form[name] for name in BOOK_FORM_FIELDS if name in request.form}
    # Werkzeug decodes form bytes leniently today; a lone surrogate must still never reach
    # MongoDB or the disk, whatever a future decoder lets through.
    errors = unicode_errors(fields)
    if errors:
        raise ApiError(400, "Invalid data", errors)
    cover = request.files.get("cover_image")
    if cover is not None and not cover.filename:
        # Browsers and Postman send an empty, unnamed part when no file was chosen.
        cover = None
    return fields, cover


def cover_base() -> str:
    """Return the base of cover URLs: PUBLIC_URL, or else the request's host URL."""
    return current_app.config["PUBLIC_URL"] or request.host_url


def cover_url(cover: str, base: str | None = None) -> str:
    """Return the absolute URL of a stored cover (`base` from cover_base(), made if not given)."""
    return (base or cover_base()) + COVER_URL_PATH + cover


def public_book(book: dict[str, Any], base: str | None = None) -> dict[str, Any]:
    """Return a book as clients see it: the stored cover name becomes image_url."""
    # A copy less the hidden keys: cheaper than filtering every key, once a book on a page.
    public = book.copy()
    for key in HIDDEN_BOOK_FIELDS:
        public.pop(key, None)
    public["image_url"] = cover_url(book["cover"], base)
    return public


def etag(book: dict[str, Any]) -> str:
    """Return the book's entity tag: its version, which every update moves on."""
    return f"v{book.get('version') or 0}"


def book_response(message: str, book: dict[str, Any], status: int = 200) -> Response:
    """Answer one book, with its ETag."""
    response = success_response(message, public_book(book), status)
    response.set_etag(etag(book))
    return response


def book_not_found() -> ApiError:
    """Return the one answer for a book that is malformed, unknown or someone else's."""
    return ApiError(404, "Book not found", "Not Found")


def found(book: dict[str, Any] | None) -> dict[str, Any]:
    """Return the caller's book that a model call found, or answer 404 (book_not_found)."""
    if book is None:
        raise book_not_found()
    return book


def clean_book_fields(fields: dict[str, str]) -> dict[str, Any]:
    """Return validated book fields in their stored form (an empty isbn clears it)."""
    cleaned: dict[str, Any] = {}
    if "title" in fields:
        cleaned["title"] = " ".join(fields["title"].split())
    if "description" in fields:
        cleaned["description"] = fields["description"].strip()
    if "category" in fields:
        cleaned["category"] = normalise_category(fields["category"])
    if "isbn" in fields:
        cleaned["isbn"] = normalise_isbn(fields["isbn"]) if fields["isbn"].strip() else None
    return cleaned


def duplicate_answer(field: str) -> ApiError:
    """Return the 409 for a title or ISBN already on the caller's shelf."""
    return ApiError(409, f"A book with this {field} is already on your shelf", "Conflict")


def store_cover(upload: FileStorage) -> str:
    """Make and save the thumbnail of an upload, answering 400/413/415/503 for a bad image."""
    config = current_app.config
    try:
        thumbnail = make_thumbnail(
            upload.stream, config["COVER_MAX_PIXELS"], config["COVER_MAX_DECODE_BYTES"]
        )
    except CoverError as error:
        if error.status == 413:
            raise ApiError(413, error.message, {"cover_image": error.message}) from None
        if error.status == 503:
            retry = {"Retry-After": str(DECODE_RETRY_AFTER)}
            raise ApiError(503, error.message, "Service Unavailable", retry) from None
        reason = "Unsupported Media Type" if error.status == 415 else "Bad Request"
        raise ApiError(error.status, error.message, reason) from None
    return cover_store().save(thumbnail)


# Creating ----------------------------------------------------------------------------------------


@books.route("/books/", methods=["POST"])
@accepts(BOOK_CREATE)
@token_required
def add_book(current_user: dict[str, Any]) -> Response:
    """Put a new book with its cover on the caller's shelf (once per Idempotency-Key)."""
    key = idempotency_key()
    fields, upload = new_book_form()
    if key is None:
        return _create_book(current_user["_id"], fields, upload)
    return _create_book_once(current_user["_id"], key, fields, upload)


def new_book_form() -> tuple[dict[str, str], FileStorage]:
    """Return a new book's fields and cover, or 400: the route's schema, then the cover rule.

    The tutorial's own answer for a form that is fine but for a missing cover stays as it was.
    """
    fields, upload = form_body()
    errors = declared_schema().errors(fields)
    if upload is None and not errors:
        raise ApiError(400, "cover image is required", "Bad Request")
    if upload is None:
        errors["cover_image"] = "cover image is required"
    if errors or upload is None:
        raise ApiError(400, "Invalid data", errors)
    return fields, upload


def _create_book(
    user_id: str, fields: dict[str, str], upload: FileStorage, key_id: str | None = None
) -> Response:
    """Store the cover, then the book; a refused book leaves no cover file behind.

    key_id is the request's Idempotency-Key record id, stored with the book.
    """
    cover = store_cover(upload)
    book = None
    try:
        book = Books().create(user_id, clean_book_fields(fields), cover, key_id)
    except DuplicateError as error:
        # The title is taken by this very key's book: an earlier attempt did create it.
        earlier = Books().get_by_idempotency_key(user_id, key_id) if key_id else None
        if earlier is None:
            raise duplicate_answer(str(error)) from None
        return book_response("successfully created a new book", earlier, 201)
    finally:
        if book is None:
            discard_unless_used(cover)
    return book_response("successfully created a new book", book, 201)


def _create_book_once(
    user_id: str, key: str, fields: dict[str, str], upload: FileStorage
) -> Response:
    """Create the book unless this key already did: then answer what the first request did."""
    keys = IdempotencyKeys()
    fingerprint = request_fingerprint(fields, BOOK_FORM_FIELDS, upload.stream)
    earlier = keys.claim(user_id, key, fingerprint)
    if earlier is not None:
        replayed = _replay(keys, user_id, key, earlier, fingerprint)
        if replayed is not None:
            return replayed
    response = None
    try:
        response = _create_book(user_id, fields, upload, record_id(user_id, key))
    finally:
        if response is None:
            keys.release(user_id, key)
    keys.complete(user_id, key, cast(dict[str, Any], response.json)["data"]["_id"])
    return response


def _replay(
    keys: IdempotencyKeys, user_id: str, key: str, earlier: dict[str, Any], fingerprint: str
) -> Response | None:
    """Answer a repeated Idempotency-Key: the same book, or why the key cannot be reused.

    None when the earlier request died without creating anything: this one takes its place.
    """
    if earlier.get("fingerprint") != fingerprint:
        raise ApiError(
            422,
            "This Idempotency-Key was already used for a different request",
            "Unprocessable Entity",
        )
    if earlier.get("book_id") is None:
        # Its request may have died after the book's insert and before recording it here.
        book = Books().get_by_idempotency_key(user_id, record_id(user_id, key))
        if book is not None:
            keys.complete(user_id, key, book["_id"])
            return book_response("successfully created a new book", book, 201)
        if keys.take_over(user_id, key, fingerprint):
            return None
        raise ApiError(
            409,
            "A request with this Idempotency-Key is still in progress",
            "Conflict",
            {"Retry-After": str(seconds_left(earlier))},
        )
    book = Books().get_for_user(earlier["book_id"], user_id)
    if book is None:
        raise ApiError(409, "The book this Idempotency-Key created was deleted since", "Conflict")
    return book_response("successfully created a new book", book, 201)


# Reading -----------------------------------------------------------------------------------------


@books.route("/books/", methods=["GET"])
@accepts(BOOK_LIST_QUERY)
@token_required
def get_books(current_user: dict[str, Any]) -> Response:
    """Return one page of the caller's shelf, filtered, searched and sorted as asked."""
    check(request.args)
    query = _book_query(request.args)
    page, total = Books().list_for_user(current_user["_id"], query)
    pages = math.ceil(total / query.per_page)
    pagination = {"page": query.page, "per_page": query.per_page, "total": total, "pages": pages}
    # The request's host URL is worked out once for the page, not once a book.
    base = cover_base()
    response = success_response(
        "successfully retrieved all books",
        [public_book(book, base) for book in page],
        pagination=pagination,
    )
    response.headers["X-Total-Count"] = str(total)
    response.headers["Link"] = page_links(query.page, pages)
    return response


def _book_query(args: Any) -> BookQuery:
    """Build the shelf query from validated parameters."""
    if not args:
        # The tutorial's plain GET /books/: every parameter at its default, none looked up.
        return BookQuery(per_page=PER_PAGE_DEFAULT)
    category = args.get("category")
    search = args.get("q")
    return BookQuery(
        category=normalise_category(category) if category else None,
        search=search.strip() if search else None,
        sort=args.get("sort", "created_at"),
        page=int(args.get("page", 1)),
        per_page=int(args.get("per_page", PER_PAGE_DEFAULT)),
    )


@books.route("/books/<book_id>", methods=["GET"])
@token_required
def get_book(current_user: dict[str, Any], book_id: str) -> Response:
    """Return one of the caller's books (304 if the client's copy is current)."""
    book = found(Books().get_for_user(book_id, current_user["_id"]))
    if request.if_none_match.contains(etag(book)):
        response = Response(status=304)
        response.set_etag(etag(book))
        return response
    return book_response("successfully retrieved a book", book)


# Changing ----------------------------------------------------------------------------------------


@books.route("/books/<book_id>", methods=["PUT"])
@accepts(BOOK_UPDATE)
@token_required
def update_book(current_user: dict[str, Any], book_id: str) -> Response:
    """Change any of a book's fields and, with a new cover_image file, replace its cover."""
    book_store = Books()
    book = found(book_store.get_for_user(book_id, current_user["_id"]))
    expected_version = _expected_version(book)
    fields, upload = form_body()
    check(fields)
    changes = clean_book_fields(fields)
    if upload is not None:
        changes["cover"] = store_cover(upload)
    if not changes:
        return book_response("successfully updated a book", book)
    return _apply_book_update(book_store, book_id, current_user["_id"], changes, expected_version)


def _expected_version(book: dict[str, Any]) -> int | None:
    """Return the version an If-Match header demands, or None; 412 if it is already stale."""
    if "If-Match" not in request.headers or request.if_match.star_tag:
        # "*" matches any current version (RFC 9110, section 13.1.1).
        return None
    # Werkzeug yields None for an empty tag (If-Match: ""): it matches no version.
    tags = (tag for tag in request.if_match.as_set() if isinstance(tag, str))
    versions = [ETAG_PATTERN.fullmatch(tag) for tag in tags]
    current = book.get("version") or 0
    if not any(match and int(match[1]) == current for match in versions):
        raise precondition_failed()
    return current


def precondition_failed() -> ApiError:
    """Return the 412 for an update based on a stale copy of the book."""
    return ApiError(412, "The book was changed since you read it", "Precondition Failed")


def _apply_book_update(
    book_store: Books,
    book_id: str,
    user_id: str,
    changes: dict[str, Any],
    expected_version: int | None,
) -> Response:
    """Write the changes; remove whichever cover file is no longer used, whatever happens."""
    new_cover = changes.get("cover")
    update = None
    try:
        update = book_store.update(book_id, user_id, changes, expected_version)
    except DuplicateError as error:
        raise duplicate_answer(str(error)) from None
    except PreconditionFailedError:
        raise precondition_failed() from None
    except ConcurrentUpdateError:
        raise ApiError(409, "The book changed while it was being updated, try again") from None
    finally:
        if new_cover and update is None:
            discard_unless_used(new_cover)
    if update is None:
        raise book_not_found()
    if new_cover and update.previous_cover != new_cover:
        cover_store().delete(update.previous_cover)
    return book_response("successfully updated a book", update.book)


@books.route("/books/<book_id>", methods=["DELETE"])
@token_required
def delete_book(current_user: dict[str, Any], book_id: str) -> Response:
    """Delete one of the caller's books and its cover file."""
    book = found(Books().delete(book_id, current_user["_id"]))
    cover_store().delete(book["cover"])
    return Response(status=204)


@books.route("/static/books/<name>", methods=["GET"])
def serve_cover(name: str) -> BaseResponse:
    """Serve a stored cover thumbnail with long-lived caching and an ETag."""
    return answer_cover(name)


@books.cli.command("reindex")
def reindex_command() -> None:
    """Recompute every shelf's book counts and search terms from the books."""
    count = rebuild(get_db())
    click.echo(f"reindexed {count} books")
