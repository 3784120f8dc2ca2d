"""Reading requests: bodies by their declared schemas (415 for another content type, 400 for a bad
body), and the Idempotency-Key header."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from flask import current_app, request

from request_schema.fields import Schema
from web.responses import ApiError

JSON_TYPES = ("application/json",)
SCHEMA_ATTRIBUTE = "request_schema"
View = TypeVar("View", bound=Callable[..., Any])
# RFC draft "The Idempotency-Key HTTP Header Field": here 1 to 255 visible ASCII characters.
IDEMPOTENCY_KEY_PATTERN = re.compile(r"[\x21-\x7e]{1,255}")


def accepts(schema: Schema) -> Callable[[View], View]:
    """Declare a view's body, form or query schema: it checks them, /openapi.json shows it."""

    def declare(view: View) -> View:
        """Attach the schema to the view (functools.wraps carries it to outer decorators)."""
        setattr(view, SCHEMA_ATTRIBUTE, schema)
        return view

    return declare


def declared_schema() -> Schema:
    """Return the schema the current request's view declared with @accepts."""
    view = current_app.view_functions[str(request.endpoint)]
    schema: Schema = getattr(view, SCHEMA_ATTRIBUTE)
    return schema


def check(data: Mapping[str, Any]) -> None:
    """Raise 400 Invalid data naming each field of data the declared schema refuses."""
    errors = declared_schema().errors(data)
    if errors:
        raise ApiError(400, "Invalid data", errors)


def valid_json(missing_message: str = "Please provide user details") -> dict[str, Any]:
    """Return the request's JSON object once the declared schema accepts it (else 400/415)."""
    data = json_body(missing_message)
    check(data)
    return data


def is_unicode_text(value: Any) -> bool:
    """Tell whether every string in a JSON value (keys too, recursively) is encodable Unicode."""
    # JSON lets "\ud800" escape a lone surrogate, which no UTF-8 encoder (MongoDB, hashing,
    # logging) accepts: refused here once rather than crashing wherever it is first encoded.
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return False
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return True


def unicode_errors(data: dict[str, Any]) -> dict[str, str]:
    """Return an error for each top-level field whose name or value holds a lone surrogate."""
    return {
        # The field's name may itself be invalid: name it in a form that can be encoded.
        _printable_field(field): f"{_printable_field(field)} must be valid Unicode text"
        for field, value in data.items()
        if not is_unicode_text(field) or not is_unicode_text(value)
    }


def _printable_field(field: str) -> str:
    """Return a field name with lone surrogates escaped so the error body can be encoded."""
    return field.encode("utf-8", "backslashreplace").decode("utf-8")


def has_body() -> bool:
    """Tell whether the request carries a body (a length, or chunked bytes)."""
    return bool(request.content_length) or bool(request.get_data(cache=True))


def json_body(
    missing_message: str = "Please provide user details", *, default: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Return the request's JSON object, or raise 415 (not JSON) or 400 (missing or malformed).

    With a default, a missing or unreadable body, or one that is not an object, is the default
    instead of the 400 (the route's schema then names the missing fields).
    """
    sent = has_body()
    if sent and request.mimetype not in JSON_TYPES and not request.mimetype.endswith("+json"):
        raise ApiError(415, "Content-Type must be application/json", "Unsupported Media Type")
    try:
        data = request.get_json(silent=True) if sent else None
    except RecursionError:
        # Pathologically nested JSON: as unreadable as malformed JSON, not a server error.
        data = None
    if not data or not isinstance(data, dict):
        if default is not None:
            return default
        raise ApiError(400, missing_message, "Bad request")
    errors = unicode_errors(data)
    if errors:
        raise ApiError(400, "Invalid data", errors)
    return data


def idempotency_key() -> str | None:
    """Return the request's Idempotency-Key header, or None; 400 if it is malformed."""
    key = request.headers.get("Idempotency-Key")
    if key is not None and not IDEMPOTENCY_KEY_PATTERN.fullmatch(key):
        raise ApiError(
            400,
            "Invalid data",
            {"Idempotency-Key": "Idempotency-Key must be 1 to 255 visible ASCII characters"},
        )
    return key
