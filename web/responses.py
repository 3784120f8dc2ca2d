"""The two response builders every route uses, and the exception that carries an API error."""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from flask import Response, jsonify


class ApiError(Exception):
    """An error to answer with the failure envelope; raise it anywhere inside a request."""

    def __init__(
        self,
        status: int,
        message: str,
        error: str | Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.error = error
        self.headers = dict(headers or {})


def success_response(message: str, data: Any = None, status: int = 200, **extra: Any) -> Response:
    """Return the success envelope: {"message", "data"}, plus any key the contract names."""
    response = jsonify({"message": message, "data": data, **extra})
    response.status_code = status
    return response


def error_response(
    status: int,
    message: str,
    error: str | Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """Return the failure envelope; error defaults to the status's reason phrase."""
    response = jsonify(
        {"message": message, "data": None, "error": error or HTTPStatus(status).phrase}
    )
    response.status_code = status
    response.headers.update(headers or {})
    return response
