"""flask-openapi3 and spectree (pydantic v2): the three requests declared their way."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from flask import Flask, Response, make_response

import validate as rules
from bench.schema_trial.cases import BOOK_FORM, LIST_QUERY, SIGN_UP, email_tail_error
from request_schema.isbn import isbn_error
from request_schema.search import SEARCH_MAX_LENGTH, search_error

Models = dict[str, Any]


def rule(check: Callable[[Any], str | None]) -> Any:
    """Return an AfterValidator raising our message (no "Value error, " prefix) for a rule."""
    from pydantic import AfterValidator
    from pydantic_core import PydanticCustomError

    def validator(value: Any) -> Any:
        """Raise the rule's message if the value breaks it."""
        message = check(value)
        if message:
            raise PydanticCustomError("rule", message)
        return value

    return AfterValidator(validator)


def models(file_type: Any) -> Models:
    """Return the three models: pydantic's own constraints first, our rules after them.

    create_model, not class statements: the annotations are objects, not strings that pydantic
    would have to resolve in this function's namespace.
    """
    from typing import Annotated, Literal

    from pydantic import BeforeValidator, EmailStr, Field, create_model

    # Literal of runtime tuples: a type to pydantic, a value to a type checker. Case and spaces
    # are ignored and `peotry` read as `poetry` before the check, as validate.py does.
    category: Any = Annotated[
        Literal[(*rules.CATEGORIES, *rules.CATEGORY_ALIASES)],
        BeforeValidator(
            lambda value: rules.normalise_category(value) if isinstance(value, str) else value
        ),
    ]
    sort_order: Any = Literal[rules.SORT_ORDERS]
    email = Annotated[EmailStr, Field(max_length=rules.EMAIL_MAX_LENGTH), rule(email_tail_error)]
    sign_up = create_model(
        "SignUp",
        name=(
            Annotated[str, Field(max_length=rules.NAME_MAX_LENGTH), rule(rules.validate_name)],
            ...,
        ),
        email=(email, ...),
        password=(
            Annotated[
                str,
                Field(min_length=rules.PASSWORD_MIN_LENGTH, max_length=rules.PASSWORD_MAX_LENGTH),
                rule(rules.validate_password),
            ],
            ...,
        ),
    )
    book_form = create_model(
        "BookCreateForm",
        title=(
            Annotated[str, Field(max_length=rules.TITLE_MAX_LENGTH), rule(rules._title_error)],
            ...,
        ),
        description=(
            Annotated[
                str, Field(max_length=rules.DESCRIPTION_MAX_LENGTH), rule(rules._description_error)
            ]
            | None,
            None,
        ),
        category=(category, ...),
        isbn=(Annotated[str, rule(isbn_error)] | None, None),
        cover_image=(file_type, ...),
    )
    list_query = create_model(
        "BookListQuery",
        page=(int, Field(1, ge=1, le=999999999)),
        per_page=(int, Field(rules.PER_PAGE_DEFAULT, ge=1, le=rules.PER_PAGE_MAX)),
        category=(category | None, None),
        q=(
            Annotated[
                str,
                Field(min_length=1, max_length=SEARCH_MAX_LENGTH),
                rule(search_error),
            ]
            | None,
            None,
        ),
        sort=(sort_order, "created_at"),
    )
    return {SIGN_UP: sign_up, BOOK_FORM: book_form, LIST_QUERY: list_query}


def envelope(errors: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Return our failure envelope from pydantic's error list (the first message per field)."""
    fields: dict[str, str] = {}
    for error in errors:
        name = str(error["loc"][0]) if error["loc"] else "_schema"
        fields.setdefault(name, error["msg"])
    return {"message": "Invalid data", "data": None, "error": fields}


def timed_validators(built: Models) -> dict[str, Callable[[dict], Any]]:
    """Return validation alone for each kind: model_validate (errors caught by the timer)."""
    return {kind: model.model_validate for kind, model in built.items()}


# flask-openapi3 -----------------------------------------------------------------------------------


def openapi3_app() -> Flask:
    """Return a flask-openapi3 app with the three routes and a validation-error callback."""
    from flask_openapi3 import FileStorage, OpenAPI
    from pydantic import ValidationError

    def answer_error(error: ValidationError) -> Response:
        """flask-openapi3's hook: build the answer to a validation error."""
        return make_response(envelope(error.errors(include_context=False)), 400)

    app = OpenAPI(
        __name__,
        # The real API has one; without any, flask-openapi3 writes `securitySchemes: null`.
        security_schemes={"bearerAuth": {"type": "http", "scheme": "bearer"}},
        doc_ui=False,
        validation_error_status=400,
        validation_error_callback=answer_error,
    )
    built = models(FileStorage)

    def add_user(body: Any) -> tuple[dict[str, Any], int]:
        """Sign up."""
        return {"message": "Successfully created new user", "data": None}, 201

    def add_book(form: Any) -> tuple[dict[str, Any], int]:
        """Create a book."""
        return {"message": "successfully created a new book", "data": None}, 201

    def get_books(query: Any) -> dict[str, Any]:
        """List the shelf."""
        return {"message": "successfully retrieved all books", "data": []}

    # flask-openapi3 reads the models from the views' annotations: objects, not strings.
    add_user.__annotations__ = {"body": built[SIGN_UP]}
    add_book.__annotations__ = {"form": built[BOOK_FORM]}
    get_books.__annotations__ = {"query": built[LIST_QUERY]}
    bearer: list[dict[str, list[str]]] = [{"bearerAuth": []}]
    app.post("/users/", responses={201: None})(add_user)
    app.post("/books/", responses={201: None}, security=bearer)(add_book)
    app.get("/books/", responses={200: None}, security=bearer)(get_books)
    return app


def openapi3_spec(app: Flask) -> dict[str, Any]:
    """Return flask-openapi3's OpenAPI document."""
    spec: dict[str, Any] = app.api_doc  # type: ignore[attr-defined]
    return spec


def openapi3_validators() -> dict[str, Callable[[dict], Any]]:
    """Return flask-openapi3's validation alone."""
    from flask_openapi3 import FileStorage

    return timed_validators(models(FileStorage))


# spectree -----------------------------------------------------------------------------------------


def spectree_app() -> Flask:
    """Return a Flask app validated by spectree, its `before` hook rewriting error answers."""
    from flask import request
    from spectree import Response as Answers
    from spectree import SpecTree
    from spectree.model_adapter.pydantic_adapter import BaseFile

    def before(
        req: Any, response: Response | None, error: Any, instance: Any, *adapter: Any
    ) -> None:
        """spectree's hook: it may change the answer to a validation error before it is sent."""
        if error is not None and response is not None:
            response.set_data(json.dumps(envelope(error.errors(include_context=False))))

    app = Flask(__name__)
    api = SpecTree("flask", app=app, validation_error_status=400, before=before)
    built = models(BaseFile)

    @app.post("/users/")
    @api.validate(json=built[SIGN_UP], resp=Answers("HTTP_201"))
    def add_user() -> tuple[dict[str, Any], int]:
        """Sign up."""
        return {"message": "Successfully created new user", "data": None}, 201

    @app.post("/books/")
    @api.validate(form=built[BOOK_FORM], resp=Answers("HTTP_201"))
    def add_book() -> tuple[dict[str, Any], int]:
        """Create a book."""
        return {"message": "successfully created a new book", "data": None}, 201

    @app.get("/books/")
    @api.validate(query=built[LIST_QUERY], resp=Answers("HTTP_200"))
    def get_books() -> dict[str, Any]:
        """List the shelf."""
        assert request.context.query is not None  # type: ignore[attr-defined]
        return {"message": "successfully retrieved all books", "data": []}

    app.extensions["schema_trial_api"] = api
    return app


def spectree_spec(app: Flask) -> dict[str, Any]:
    """Return spectree's OpenAPI document."""
    with app.app_context():
        spec: dict[str, Any] = app.extensions["schema_trial_api"].spec
    return spec


def spectree_validators() -> dict[str, Callable[[dict], Any]]:
    """Return spectree's validation alone."""
    from spectree.model_adapter.pydantic_adapter import BaseFile

    return timed_validators(models(BaseFile))
