"""APIFlask and flask-smorest (marshmallow): the three requests declared their way."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask

import validate as rules
from bench.schema_trial.cases import BOOK_FORM, LIST_QUERY, SIGN_UP, email_tail_error
from request_schema.isbn import isbn_error
from request_schema.search import SEARCH_MAX_LENGTH, search_error

Schemas = dict[str, Any]


def rule(check: Callable[[Any], str | None]) -> Callable[[Any], None]:
    """Return a marshmallow validator raising our message for a rule it has no validator for."""
    from marshmallow import ValidationError

    def validator(value: Any) -> None:
        """Raise the rule's message if the value breaks it."""
        message = check(value)
        if message:
            raise ValidationError(message)

    return validator


def schemas(base: type, file_field: Callable[..., Any]) -> Schemas:
    """Return the three schemas: marshmallow's own validators first, our rules after them."""
    from marshmallow import EXCLUDE, fields
    from marshmallow.validate import Length, OneOf, Range

    class Lenient(base):
        """Unknown fields are ignored, as the contract says (marshmallow refuses them)."""

        class Meta:
            """from_dict's generated Meta inherits this one."""

            unknown = EXCLUDE

    class Category(fields.String):
        """A category read as validate.py reads it: case, spaces and `peotry` forgiven."""

        def _deserialize(self, value: Any, *args: Any, **kwargs: Any) -> str:
            """Return the canonical spelling of the string sent."""
            return rules.normalise_category(super()._deserialize(value, *args, **kwargs))

    categories = OneOf([*rules.CATEGORIES, *rules.CATEGORY_ALIASES])
    sign_up = Lenient.from_dict(
        {
            "name": fields.String(
                required=True,
                validate=[Length(max=rules.NAME_MAX_LENGTH), rule(rules.validate_name)],
            ),
            "email": fields.Email(
                required=True, validate=[Length(max=rules.EMAIL_MAX_LENGTH), rule(email_tail_error)]
            ),
            "password": fields.String(
                required=True,
                validate=[
                    Length(min=rules.PASSWORD_MIN_LENGTH, max=rules.PASSWORD_MAX_LENGTH),
                    rule(rules.validate_password),
                ],
            ),
        },
        name="SignUp",
    )
    book_fields = {
        "title": fields.String(
            required=True, validate=[Length(max=rules.TITLE_MAX_LENGTH), rule(rules._title_error)]
        ),
        "description": fields.String(
            validate=[Length(max=rules.DESCRIPTION_MAX_LENGTH), rule(rules._description_error)]
        ),
        "category": Category(required=True, validate=categories),
        "isbn": fields.String(validate=rule(isbn_error)),
    }
    book_form = Lenient.from_dict(book_fields, name="BookCreateForm")
    cover = Lenient.from_dict({"cover_image": file_field(required=True)}, name="BookCover")
    book_with_cover = Lenient.from_dict(
        {**book_fields, "cover_image": file_field(required=True)},
        name="BookCreateWithCover",
    )
    list_query = Lenient.from_dict(
        {
            "page": fields.Integer(load_default=1, validate=Range(min=1, max=999999999)),
            "per_page": fields.Integer(
                load_default=rules.PER_PAGE_DEFAULT, validate=Range(min=1, max=rules.PER_PAGE_MAX)
            ),
            "category": Category(validate=categories),
            "q": fields.String(validate=[Length(1, SEARCH_MAX_LENGTH), rule(search_error)]),
            "sort": fields.String(load_default="created_at", validate=OneOf(rules.SORT_ORDERS)),
        },
        name="BookListQuery",
    )
    return {
        SIGN_UP: sign_up,
        BOOK_FORM: book_form,
        "cover": cover,
        "book with cover": book_with_cover,
        LIST_QUERY: list_query,
    }


def envelope(messages: dict[str, Any]) -> dict[str, Any]:
    """Return our failure envelope from marshmallow's {location: {field: [messages]}}."""
    errors: dict[str, str] = {}
    for by_field in messages.values():
        for name, field_messages in by_field.items():
            errors.setdefault(name, field_messages[0])
    return {"message": "Invalid data", "data": None, "error": errors}


def timed_validators(built: Schemas, with_cover: str) -> dict[str, Callable[[dict], Any]]:
    """Return validation alone for each kind: Schema.load (errors caught by the timer)."""
    return {
        SIGN_UP: built[SIGN_UP]().load,
        BOOK_FORM: built[with_cover]().load,
        LIST_QUERY: built[LIST_QUERY]().load,
    }


# APIFlask -----------------------------------------------------------------------------------------


def apiflask_app() -> Flask:
    """Return an APIFlask app with the three routes and an error processor for our envelope."""
    from apiflask import APIFlask, HTTPError, Schema
    from apiflask.fields import File

    app = APIFlask(__name__, docs_path=None)
    app.config["VALIDATION_ERROR_STATUS_CODE"] = 400
    built = schemas(Schema, File)

    @app.error_processor
    def answer_error(error: HTTPError) -> tuple[dict[str, Any], int, Any]:
        """Wrap validation errors in our envelope, anything else in the failure envelope."""
        if error.status_code == 400 and isinstance(error.detail, dict) and error.detail:
            return envelope(error.detail), 400, error.headers
        body = {"message": error.message, "data": None, "error": error.message}
        return body, error.status_code, error.headers

    @app.post("/users/")
    @app.input(built[SIGN_UP], location="json")
    def add_user(json_data: dict[str, Any]) -> tuple[dict[str, Any], int]:
        """Sign up."""
        return {"message": "Successfully created new user", "data": None}, 201

    @app.post("/books/")
    @app.input(built["book with cover"], location="form_and_files")
    def add_book(form_and_files_data: dict[str, Any]) -> tuple[dict[str, Any], int]:
        """Create a book."""
        return {"message": "successfully created a new book", "data": None}, 201

    @app.get("/books/")
    @app.input(built[LIST_QUERY], location="query")
    def get_books(query_data: dict[str, Any]) -> dict[str, Any]:
        """List the shelf."""
        return {"message": "successfully retrieved all books", "data": []}

    app.extensions["schema_trial"] = built
    return app


def apiflask_spec(app: Flask) -> dict[str, Any]:
    """Return APIFlask's OpenAPI document."""
    spec: dict[str, Any] = app.spec  # type: ignore[attr-defined]
    return spec


def apiflask_validators() -> dict[str, Callable[[dict], Any]]:
    """Return APIFlask's validation alone (its Schema is marshmallow's)."""
    from apiflask import Schema
    from apiflask.fields import File

    return timed_validators(schemas(Schema, File), "book with cover")


# flask-smorest ------------------------------------------------------------------------------------


def smorest_app() -> Flask:
    """Return a flask-smorest app with the three routes and its error handler overridden."""
    from flask_smorest import Api, Blueprint
    from flask_smorest.fields import Upload
    from marshmallow import Schema
    from werkzeug.exceptions import HTTPException

    class EnvelopeApi(Api):
        """flask-smorest's documented hook: override handle_http_exception."""

        def handle_http_exception(self, error: HTTPException) -> tuple[dict[str, Any], int]:
            """Wrap validation errors in our envelope, anything else in the failure envelope."""
            data = getattr(error, "data", {})
            if error.code == 400 and "messages" in data:
                return envelope(data["messages"]), 400
            return {"message": error.name, "data": None, "error": error.name}, error.code or 500

    app = Flask(__name__)
    app.config.update(API_TITLE="trial", API_VERSION="1", OPENAPI_VERSION="3.1.0")
    api = EnvelopeApi(app)
    built = schemas(Schema, Upload)
    blueprint = Blueprint("books", __name__)

    @blueprint.route("/users/", methods=["POST"])
    @blueprint.arguments(built[SIGN_UP], location="json", error_status_code=400)
    def add_user(data: dict[str, Any]) -> tuple[dict[str, Any], int]:
        """Sign up."""
        return {"message": "Successfully created new user", "data": None}, 201

    @blueprint.route("/books/", methods=["POST"])
    @blueprint.arguments(built[BOOK_FORM], location="form", error_status_code=400)
    @blueprint.arguments(built["cover"], location="files", error_status_code=400)
    def add_book(form: dict[str, Any], files: dict[str, Any]) -> tuple[dict[str, Any], int]:
        """Create a book."""
        return {"message": "successfully created a new book", "data": None}, 201

    @blueprint.route("/books/", methods=["GET"])
    @blueprint.arguments(built[LIST_QUERY], location="query", error_status_code=400)
    def get_books(query: dict[str, Any]) -> dict[str, Any]:
        """List the shelf."""
        return {"message": "successfully retrieved all books", "data": []}

    api.register_blueprint(blueprint)
    app.extensions["schema_trial_api"] = api
    return app


def smorest_spec(app: Flask) -> dict[str, Any]:
    """Return flask-smorest's OpenAPI document."""
    spec: dict[str, Any] = app.extensions["schema_trial_api"].spec.to_dict()
    return spec


def smorest_validators() -> dict[str, Callable[[dict], Any]]:
    """Return flask-smorest's validation alone (plain marshmallow schemas)."""
    from flask_smorest.fields import Upload
    from marshmallow import Schema

    return timed_validators(schemas(Schema, Upload), "book with cover")
