"""The real app plus its floors, in the same gunicorn workers (`bench.floor_app:build_app()`).

- /bench/bare/book and /bench/bare/books answer the very JSON of GET /books/<id> and GET /books/
  with no auth and no database (floor a): the JSON is read once per worker from the file
  BENCH_FIXTURE names, which the benchmark writes from the real answers.
- /bench/minimal/books/<id> and /bench/minimal/books do only the reads that cannot be avoided, with
  the app's own client: the user and its session (ids taken unverified from X-Bench-User and
  X-Bench-Session), the book or the count and the page; then the same JSON (floor b).
- /bench/tutorial/books/<id> and /bench/tutorial/books are the tutorial's own design (floor c):
  one module-level client, `jwt.decode` of the bearer token on every request, `find_one` of the
  user by `_id`, then `find_one` of the book by `_id` or every book of the user, `jsonify`; no
  sessions, paging, security headers or logs beyond what the server adds to every answer.
- POST /bench/floor/cover takes the multipart body of POST /books/, keeps its `cover_image` file
  in memory and does only Pillow's own open, draft, thumbnail and save on it (the same
  `pillow_thumbnail` the upload benchmark runs in its own process), then answers a small JSON:
  the upload's same-server floor. No token, no database, no file written.

BENCH_BACKEND=mongomock builds the app on one in-process mongomock client instead of the embedded
default (serve it with WEB_CONCURRENCY=1: each worker has its own copy).
"""

from __future__ import annotations

import io
import json
import os
import time
from datetime import UTC, datetime
from typing import IO, Any

import jwt
from bson import ObjectId
from flask import Flask, Response, abort, current_app, jsonify, request
from PIL import Image
from pymongo import MongoClient
from pymongo.database import Database
from werkzeug.formparser import parse_form_data

import models
from app import create_app
from save_image import THUMBNAIL_SIZE
from store import database

# What the real routes read and answer (the version only becomes the ETag header).
BOOK_FIELDS = tuple(name for name in models.BOOK_FIELDS if name != "version")
PER_PAGE = 20
_fixture: dict[str, Any] = {}
# The tutorial's module-level client, made by the first request of each worker (a client must
# not cross gunicorn's fork), then kept for the life of the process as the tutorial's is.
_tutorial_client: Any = None


def build_app() -> Flask:
    """Return the production app with the floor routes added."""
    overrides: dict[str, Any] = {}
    if os.environ.get("BENCH_BACKEND") == "mongomock":
        import mongomock

        shared = mongomock.MongoClient("mongodb://mongomock.invalid/bench", tz_aware=True)
        overrides = {
            "DATABASE_URL": "mongodb://mongomock.invalid/bench",
            "MONGO_CLIENT_CLASS": lambda *_args, **_options: shared,
        }
    application = create_app(overrides)
    application.add_url_rule("/bench/bare/book", view_func=bare_book)
    application.add_url_rule("/bench/bare/books", view_func=bare_books)
    application.add_url_rule("/bench/minimal/books/<book_id>", view_func=minimal_book)
    application.add_url_rule("/bench/minimal/books", view_func=minimal_books)
    application.add_url_rule("/bench/tutorial/books/<book_id>", view_func=tutorial_book)
    application.add_url_rule("/bench/tutorial/books", view_func=tutorial_books)
    application.add_url_rule("/bench/floor/cover", view_func=cover_floor, methods=["POST"])
    return application


# Floor (a): the answer alone ---------------------------------------------------------------------


def fixture() -> dict[str, Any]:
    """Return the real answers the benchmark recorded (read once per worker)."""
    if not _fixture:
        with open(os.environ["BENCH_FIXTURE"], encoding="utf-8") as handle:
            _fixture.update(json.load(handle))
    return _fixture


def bare_book() -> Response:
    """Answer the JSON of GET /books/<id>, serialised now, touching nothing else."""
    return jsonify(fixture()["book"])


def bare_books() -> Response:
    """Answer the JSON of GET /books/, serialised now, touching nothing else."""
    return jsonify(fixture()["books"])


# Floor (b): the unavoidable reads ----------------------------------------------------------------


def session_user() -> dict[str, Any]:
    """Read the user and its session in one query; 401 unless active with the session open."""
    user_id = request.headers.get("X-Bench-User", "")
    session_id = request.headers.get("X-Bench-Session", "")
    user = database.get_db().users.find_one(
        {"_id": ObjectId(user_id)}, {"name": 1, "email": 1, "active": 1, "sessions": 1}
    )
    expires = ((user or {}).get("sessions") or {}).get(session_id) or 0
    if not user or not user.get("active") or expires <= time.time():
        abort(401)
    return user


def iso(moment: datetime) -> str:
    """Return a stored date as the API writes it."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def public(document: dict[str, Any]) -> dict[str, Any]:
    """Return a stored book as the API answers it."""
    book = {name: document.get(name) for name in BOOK_FIELDS if name != "cover"}
    book["_id"] = str(document["_id"])
    book["created_at"] = iso(document["created_at"])
    book["updated_at"] = iso(document["updated_at"])
    book["image_url"] = f"{request.host_url}static/books/{document['cover']}"
    return book


def minimal_book(book_id: str) -> Response:
    """Read the session's user and the book, answer the book."""
    user = session_user()
    document = database.get_db().books.find_one(
        {"_id": ObjectId(book_id), "user_id": str(user["_id"])}, dict.fromkeys(BOOK_FIELDS, 1)
    )
    if document is None:
        abort(404)
    return jsonify({"message": "successfully retrieved a book", "data": public(document)})


def minimal_books() -> Response:
    """Read the session's user, the shelf's size and its first page; answer the page."""
    user = session_user()
    books = database.get_db().books
    criteria = {"user_id": str(user["_id"])}
    total = database.count_matching(books, criteria)
    cursor = (
        books.find(criteria, dict.fromkeys(BOOK_FIELDS, 1))
        .sort([("created_at", 1), ("_id", 1)])
        .limit(PER_PAGE)
    )
    pagination = {"page": 1, "per_page": PER_PAGE, "total": total, "pages": -(-total // PER_PAGE)}
    return jsonify(
        {
            "message": "successfully retrieved all books",
            "data": [public(document) for document in cursor],
            "pagination": pagination,
        }
    )


# Floor (c): the tutorial's own design -------------------------------------------------------------


def tutorial_db() -> Database:
    """Return the database through the one module-level client, as the tutorial's models do."""
    global _tutorial_client
    if _tutorial_client is None:
        config = current_app.config
        client_class = config.get("MONGO_CLIENT_CLASS") or MongoClient
        _tutorial_client = client_class(config["DATABASE_URL"], tz_aware=True)
    return _tutorial_client.get_default_database()


def tutorial_user() -> dict[str, Any]:
    """The tutorial's token_required: decode the bearer token, read the active user by _id."""
    token = request.headers.get("Authorization", "").split(" ")[-1]
    try:
        data = jwt.decode(token, current_app.config["SECRET_KEY"], algorithms=["HS256"])
    except jwt.InvalidTokenError:
        abort(401)
    user = tutorial_db().users.find_one({"_id": ObjectId(data["sub"]), "active": True})
    if user is None:
        abort(401)
    user.pop("password_hash", None)
    return user


def tutorial_book(book_id: str) -> Response:
    """The tutorial's GET /books/<id>: the user, then the book by _id."""
    user = tutorial_user()
    document = tutorial_db().books.find_one({"_id": ObjectId(book_id)})
    if document is None or document["user_id"] != str(user["_id"]):
        abort(404)
    return jsonify({"message": "successfully retrieved a book", "data": public(document)})


def tutorial_books() -> Response:
    """The tutorial's GET /books/: the user, then every book of the user."""
    user = tutorial_user()
    documents = tutorial_db().books.find({"user_id": str(user["_id"])})
    return jsonify(
        {
            "message": "successfully retrieved all books",
            "data": [public(document) for document in documents],
        }
    )


# The upload's floor: receiving the body and Pillow's own thumbnail ------------------------------


def pillow_thumbnail(stream: IO[bytes]) -> bytes:
    """Make a 150x150 thumbnail with Pillow alone: open, draft, thumbnail, save."""
    image = Image.open(stream)
    if image.format == "JPEG":
        image.draft("RGB", (THUMBNAIL_SIZE[0] * 2, THUMBNAIL_SIZE[1] * 2))
    image.thumbnail(THUMBNAIL_SIZE, Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    if image.has_transparency_data:
        image.save(buffer, "PNG")
    else:
        # JPEG holds no palette: convert the 150x150 result, which costs next to nothing.
        (image if image.mode in ("RGB", "L") else image.convert("RGB")).save(
            buffer, "JPEG", quality=85
        )
    return buffer.getvalue()


def _in_memory(*_args: Any, **_kwargs: Any) -> IO[bytes]:
    """Keep an uploaded file in memory: the least a server can do to receive it."""
    return io.BytesIO()


def cover_floor() -> Response:
    """Receive the multipart body of POST /books/ and answer Pillow's thumbnail of its cover."""
    # Parsed here with Werkzeug's own parser and in-memory files, whatever the app's settings,
    # so that the floor does not move with them.
    _, _, files = parse_form_data(
        request.environ,
        stream_factory=_in_memory,
        max_content_length=current_app.config["MAX_CONTENT_LENGTH"],
    )
    upload = files.get("cover_image")
    if upload is None:
        abort(400)
    thumbnail = pillow_thumbnail(upload.stream)
    return jsonify({"message": "thumbnail made", "data": {"bytes": len(thumbnail)}})
