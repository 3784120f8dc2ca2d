"""Builders for the shapes the API description repeats: error answers, shared answers, envelopes."""

from __future__ import annotations

from typing import Any

# The status each shared answer (components/responses) stands under in an operation.
STATUS: dict[str, str] = {
    "EmailVerified": "200",
    "NotModified": "304",
    "BadUserRequest": "400",
    "BadBookRequest": "400",
    "BadAccountSecurityRequest": "400",
    "BookNotFound": "404",
    "EndpointNotFound": "404",
    "BookConflict": "409",
    "TwoFactorConflict": "409",
    "PayloadTooLarge": "413",
    "UnsupportedMediaType": "415",
    "UnsupportedCover": "415",
    "TooManyRequests": "429",
    "ServiceUnavailable": "503",
    "NotReady": "503",
}


def ref(kind: str, name: str) -> dict[str, str]:
    """Return a `$ref` to one component, e.g. `ref("schemas", "Book")`."""
    return {"$ref": f"#/components/{kind}/{name}"}


def refs(*names: str) -> dict[str, dict[str, str]]:
    """Return the shared answers named, each under its status: `**refs("PayloadTooLarge")`."""
    return {STATUS[name]: ref("responses", name) for name in names}


def failure(message: str, error_value: Any) -> dict[str, Any]:
    """Return an error envelope: the message, no data, the short reason or field messages."""
    return {"message": message, "data": None, "error": error_value}


def json_answer(
    description: str, media: dict[str, Any], headers: dict[str, Any] | None
) -> dict[str, Any]:
    """Return an answer with one JSON body (and headers, in the old YAML's key order)."""
    answer: dict[str, Any] = {"description": description}
    if headers is not None:
        answer["headers"] = headers
    return {**answer, "content": {"application/json": media}}


def error(
    description: str, message: str, error_value: Any, headers: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Return an error answer in the envelope with one example."""
    media = {"schema": ref("schemas", "ErrorEnvelope"), "example": failure(message, error_value)}
    return json_answer(description, media, headers)


def errors(
    description: str,
    examples: dict[str, tuple[str, str, Any]],
    headers: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Return an error answer in the envelope with examples: name -> (summary, message, error)."""
    named = {
        name: {"summary": summary, "value": failure(message, error_value)}
        for name, (summary, message, error_value) in examples.items()
    }
    media = {"schema": ref("schemas", "ErrorEnvelope"), "examples": named}
    return json_answer(description, media, headers)


def success(
    description: str,
    envelope: str,
    example: dict[str, Any],
    headers: dict[str, Any] | None = None,
    pinned: bool = False,
) -> dict[str, Any]:
    """Return a JSON success answer; `pinned` fixes the envelope's message to the example's."""
    schema: dict[str, Any] = ref("schemas", envelope)
    if pinned:
        const = {"properties": {"message": {"const": example["message"]}}}
        schema = {"allOf": [schema, const]}
    return json_answer(description, {"schema": schema, "example": example}, headers)


def json_body(example: dict[str, Any], required: bool = True) -> dict[str, Any]:
    """Return a JSON request body with its example (the schema is added from the route's)."""
    return {"required": required, "content": {"application/json": {"example": example}}}


def envelope(data: dict[str, Any], message: dict[str, Any] | None = None) -> dict[str, Any]:
    """Return the schema of a success envelope: the message (any string by default) and data."""
    return closed_object(
        ["message", "data"], {"message": message or {"type": "string"}, "data": data}
    )


def closed_object(required: list[str], properties: dict[str, Any]) -> dict[str, Any]:
    """Return the schema of an object with these properties, the required ones, and no others."""
    return {
        "type": "object",
        "required": required,
        "additionalProperties": False,
        "properties": properties,
    }


# The example user and book every answer that carries one shows.
USER: dict[str, Any] = {
    "_id": "665f1c2e8b3a4d5e6f708192",
    "name": "Ada Lovelace",
    "email": "ada@example.com",
    "active": True,
}
BOOK: dict[str, Any] = {
    "_id": "665f1c2e8b3a4d5e6f708194",
    "title": "Sketch of the Analytical Engine",
    "description": "Notes by the translator",
    "category": "science",
    "image_url": "https://api.example.com/static/books/3f2a9c1e5b7d4f6a8c0e2b4d6f8a0c1e.jpg",
    "user_id": "665f1c2e8b3a4d5e6f708192",
    "isbn": "9780441172719",
    "created_at": "2026-06-01T12:00:00.000Z",
    "updated_at": "2026-06-01T12:00:00.000Z",
}
ETAG: dict[str, Any] = {"ETag": ref("headers", "ETag")}


def user_example(**changes: Any) -> dict[str, Any]:
    """Return a fresh copy of the example user, with these fields changed or added."""
    return {**USER, **changes}


def book_example(**changes: Any) -> dict[str, Any]:
    """Return a fresh copy of the example book, with these fields changed or added."""
    return {**BOOK, **changes}


# What a rate-limited JSON write may answer besides its own errors.
LIMITED_JSON_WRITE = (
    "PayloadTooLarge",
    "UnsupportedMediaType",
    "TooManyRequests",
    "ServiceUnavailable",
)


def user_answer(
    description: str, message: str, user: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Return a success answering a user (the example one unless given) under this message."""
    example = {"message": message, "data": user or user_example()}
    return success(description, "UserEnvelope", example, pinned=True)


def invalid_query(description: str, error_value: dict[str, str]) -> dict[str, Any]:
    """Return the 400 of a route whose query failed validation (or whose Host is untrusted)."""
    schema = {"anyOf": [ref("schemas", "ValidationErrorEnvelope"), ref("schemas", "ErrorEnvelope")]}
    media = {"schema": schema, "example": failure("Invalid data", error_value)}
    return json_answer(description, media, None)


def path_parameter(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    """Return a (required) path parameter: its name in the route, what it names, its schema."""
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": schema,
    }
