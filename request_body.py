"""Reading JSON request bodies: 415 for another content type, 400 for a missing or bad body."""

from __future__ import annotations

from typing import Any

from flask import request

from responses import ApiError

JSON_TYPES = ("application/json",)


def json_body(missing_message: str = "Please provide user details") -> dict[str, Any]:
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
        raise ApiError(400, missing_message, "Bad request")
    return data
