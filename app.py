"""The application factory and every route of the book-library API."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, request, send_from_directory
from pymongo.errors import ConnectionFailure
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import HTTPException, NotFound

import database
from auth_middleware import issue_access_token, token_required
from config import instance_secret_key, load_settings
from embedded_server import embedded_database_url
from models import Books, DuplicateError, User
from responses import ApiError, error_response, success_response
from save_image import CoverError, delete_cover, is_cover_name, make_thumbnail, save_cover
from validate import (
    normalise_category,
    normalise_email,
    normalise_name,
    validate_book,
    validate_login,
    validate_profile,
    validate_user,
)

logger = logging.getLogger(__name__)

api = Blueprint("api", __name__)

COVER_URL_PATH = "static/books/"
COVER_CACHE_SECONDS = 365 * 24 * 60 * 60
JSON_TYPES = ("application/json",)
FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,128}")


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app from the environment, .env and explicit overrides."""
    settings = load_settings(config)
    app = Flask(__name__, instance_path=settings["INSTANCE_PATH"])
    app.config.update(settings)
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = instance_secret_key(app.instance_path)
    if not app.config["DATABASE_URL"]:
        app.config["DATABASE_URL"] = embedded_database_url(app.instance_path)
    app.config.setdefault("COVER_DIR", str(Path(app.instance_path) / "covers"))
    database.init_app(app)
    register_error_handlers(app)
    app.before_request(assign_request_id)
    app.after_request(add_request_id_header)
    app.after_request(answer_options_with_no_content)
    app.register_blueprint(api)
    return app


# Errors ------------------------------------------------------------------------------------------


def register_error_handlers(app: Flask) -> None:
    """Answer every error, expected or not, with the JSON failure envelope."""
    app.register_error_handler(ApiError, handle_api_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(ConnectionFailure, handle_database_unavailable)
    app.register_error_handler(Exception, handle_unexpected_error)


def handle_api_error(error: ApiError) -> Response:
    """Turn an ApiError into its envelope."""
    return error_response(error.status, error.message, error.error, error.headers)


HTTP_MESSAGES = {
    404: "Endpoint Not Found",
    405: "Method Not Allowed",
    413: "Request body is too large",
    415: "Unsupported Media Type",
}


def handle_http_exception(error: HTTPException) -> Response:
    """Turn a Werkzeug HTTP error (404, 405, 413 ...) into the envelope, keeping its headers."""
    status = error.code or 500
    message = HTTP_MESSAGES.get(status, error.name)
    if status == 413:
        message = f"Request body is larger than {current_app.config['MAX_CONTENT_LENGTH']} bytes"
    headers = {}
    if status == 405 and getattr(error, "valid_methods", None):
        headers["Allow"] = ", ".join(error.valid_methods)
    return error_response(status, message, None, headers)


def handle_database_unavailable(error: ConnectionFailure) -> Response:
    """Answer 503 when the database cannot be reached, so clients know to retry."""
    logger.error("request %s: database unavailable: %s", g.get("request_id"), type(error).__name__)
    return error_response(
        503, "The service is temporarily unavailable, try again shortly", None, {"Retry-After": "5"}
    )


def handle_unexpected_error(error: Exception) -> Response:
    """Log a bug with its request id and answer a generic 500."""
    logger.exception("request %s: unhandled error", g.get("request_id"), exc_info=error)
    return error_response(500, "Something went wrong", "Internal Server Error")


def assign_request_id() -> None:
    """Keep the client's X-Request-ID if it is sane, else make one, for logs and the response."""
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if REQUEST_ID_PATTERN.fullmatch(incoming) else uuid.uuid4().hex


def add_request_id_header(response: Response) -> Response:
    """Echo the request id so a client can quote it."""
    response.headers["X-Request-ID"] = g.get("request_id", "")
    return response


def answer_options_with_no_content(response: Response) -> Response:
    """Turn Flask's automatic OPTIONS answer (200, empty text/html) into a 204 with Allow."""
    if request.method == "OPTIONS" and response.status_code == 200 and not response.data:
        response.status_code = 204
        del response.headers["Content-Type"]
    return response


# Request bodies ----------------------------------------------------------------------------------


def json_body() -> dict[str, Any]:
    """Return the request's JSON object, or raise 415 (not JSON) or 400 (missing or malformed)."""
    has_body = bool(request.content_length) or bool(request.get_data(cache=True))
    if has_body and request.mimetype not in JSON_TYPES and not request.mimetype.endswith("+json"):
        raise ApiError(415, "Content-Type must be application/json", "Unsupported Media Type")
    try:
        data = request.get_json(silent=True) if has_body else None
    except RecursionError:
        # Pathologically nested JSON: as unreadable as malformed JSON, not a server error.
        data = None
    if not data or not isinstance(data, dict):
        raise ApiError(400, "Please provide user details", "Bad request")
    return data


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


# Users -------------------------------------------------------------------------------------------


@api.route("/")
def hello() -> Response:
    """Answer the tutorial's greeting as plain text."""
    return Response("Hello World!", mimetype="text/plain")


@api.route("/users/", methods=["POST"])
def add_user() -> Response:
    """Sign up: create an active user."""
    data = json_body()
    errors = validate_user(data)
    if errors:
        raise ApiError(400, "Invalid data", errors)
    try:
        user = User().create(
            normalise_name(data["name"]), normalise_email(data["email"]), data["password"]
        )
    except DuplicateError:
        raise ApiError(409, "User already exists", "Conflict") from None
    return success_response("Successfully created new user", user, 201)


@api.route("/users/login", methods=["POST"])
def login() -> Response:
    """Log in with email and password; answer the user with an access token."""
    data = json_body()
    errors = validate_login(data)
    if errors:
        raise ApiError(400, "Invalid data", errors)
    user = User().login(normalise_email(data["email"]), data["password"])
    if user is None:
        raise ApiError(
            401,
            "Error fetching auth token!, invalid email or password",
            "Unauthorized",
            {"WWW-Authenticate": "Bearer"},
        )
    user["token"] = issue_access_token(user["_id"])
    return success_response("Successfully fetched auth token", user)


@api.route("/users/", methods=["GET"])
@token_required
def get_current_user(current_user: dict[str, Any]) -> Response:
    """Return the caller's profile."""
    return success_response("successfully retrieved user profile", current_user)


@api.route("/users/", methods=["PUT"])
@token_required
def update_user(current_user: dict[str, Any]) -> Response:
    """Change the caller's name (the only field a user can change)."""
    data = json_body()
    errors = validate_profile(data)
    if errors:
        raise ApiError(400, "Invalid data", errors)
    user = User().update(current_user["_id"], normalise_name(data["name"]))
    if user is None:
        raise ApiError(404, "User not found", "Not Found")
    return success_response("successfully updated account", user)


@api.route("/users/", methods=["DELETE"])
@token_required
def disable_user(current_user: dict[str, Any]) -> Response:
    """Disable the caller's account; its tokens stop working at once."""
    User().disable_account(current_user["_id"])
    return Response(status=204)


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


@api.route("/books/", methods=["POST"])
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


@api.route("/books/", methods=["GET"])
@token_required
def get_books(current_user: dict[str, Any]) -> Response:
    """Return every book on the caller's shelf."""
    books = Books().get_by_user_id(current_user["_id"])
    return success_response("successfully retrieved all books", [public_book(b) for b in books])


@api.route("/books/<book_id>", methods=["GET"])
@token_required
def get_book(current_user: dict[str, Any], book_id: str) -> Response:
    """Return one of the caller's books."""
    book = Books().get_for_user(book_id, current_user["_id"])
    if book is None:
        raise book_not_found()
    return success_response("successfully retrieved a book", public_book(book))


@api.route("/books/<book_id>", methods=["PUT"])
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
    finally:
        if new_cover and update is None:
            delete_cover(cover_dir, new_cover)
    if update is None:
        raise book_not_found()
    if new_cover and update.previous_cover != new_cover:
        delete_cover(cover_dir, update.previous_cover)
    return success_response("successfully updated a book", public_book(update.book))


@api.route("/books/<book_id>", methods=["DELETE"])
@token_required
def delete_book(current_user: dict[str, Any], book_id: str) -> Response:
    """Delete one of the caller's books and its cover file."""
    book = Books().delete(book_id, current_user["_id"])
    if book is None:
        raise book_not_found()
    delete_cover(current_app.config["COVER_DIR"], book["cover"])
    return Response(status=204)


@api.route("/static/books/<name>", methods=["GET"])
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
