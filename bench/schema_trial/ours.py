"""The API's own way: validate.py's schemas, @accepts and the route code, in a tiny Flask app."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, Response, request

from api_docs.document import build_document
from app import handle_api_error, handle_http_exception
from auth_middleware import REQUIRES_TOKEN
from bench.schema_trial.cases import BOOK_FORM, LIST_QUERY, SIGN_UP
from routes.books import new_book_form
from validate import BOOK_CREATE, BOOK_LIST_QUERY
from validate import SIGN_UP as SIGN_UP_SCHEMA
from web.request_body import accepts, check, valid_json
from web.responses import ApiError, success_response


def _created(message: str) -> Response:
    """Answer a write that passed validation (the routes would now write to the database)."""
    return success_response(message, None, 201)


def _add_book() -> Response:
    """Check the book form with routes.books.add_book's own check, cover rule included."""
    new_book_form()
    return _created("successfully created a new book")


def _get_books() -> Response:
    """Check the shelf's query as routes.books.get_books does."""
    check(request.args)
    return success_response("successfully retrieved all books", [])


def _add_user() -> Response:
    """Check the sign-up body as routes.users.add_user does."""
    valid_json()
    return _created("Successfully created new user")


def build_app() -> Flask:
    """Return a Flask app with the three routes, under the real endpoints' names."""
    app = Flask(__name__)
    users = Blueprint("users", __name__)
    books = Blueprint("books", __name__)
    # The real views' names, so that api_docs finds their prose.
    add_user = accepts(SIGN_UP_SCHEMA)(_add_user)
    add_book = accepts(BOOK_CREATE)(_add_book)
    get_books = accepts(BOOK_LIST_QUERY)(_get_books)
    for view in (add_book, get_books):
        # The real views need a token; the mark is only read by the document here.
        setattr(view, REQUIRES_TOKEN, True)
    users.add_url_rule("/users/", "add_user", add_user, methods=["POST"])
    books.add_url_rule("/books/", "add_book", add_book, methods=["POST"])
    books.add_url_rule("/books/", "get_books", get_books, methods=["GET"])
    app.register_blueprint(users)
    app.register_blueprint(books)
    app.register_error_handler(ApiError, handle_api_error)
    app.register_error_handler(400, handle_http_exception)
    return app


def spec(app: Flask) -> dict[str, Any]:
    """Return the app's OpenAPI document, built as /openapi.json is."""
    return build_document(app)


def validators() -> dict[str, Callable[[dict[str, Any]], Any]]:
    """Return validation alone for each kind: the schema's errors() on a dict."""
    return {
        SIGN_UP: SIGN_UP_SCHEMA.errors,
        # The file is checked by the route, not the schema: the fields alone.
        BOOK_FORM: BOOK_CREATE.errors,
        LIST_QUERY: BOOK_LIST_QUERY.errors,
    }
