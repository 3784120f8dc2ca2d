"""The shapes of the API's answers: the envelope, users, books, sessions, tokens."""

from __future__ import annotations

from typing import Any

from api_docs.build import closed_object, envelope, ref
from validate import CATEGORIES, PER_PAGE_MAX


def token_properties() -> dict[str, Any]:
    """Return the properties of a new session's tokens (login and refresh answer them)."""
    return {
        "token": {"type": "string", "description": "The access token (a JWT)."},
        "refresh_token": {"type": "string", "description": "An opaque single-use refresh token."},
        "expires_in": {
            "type": "integer",
            "minimum": 1,
            "description": "The access token's lifetime in seconds.",
        },
    }


SCHEMAS: dict[str, Any] = {
    "Id": {
        "type": "string",
        "description": "A 24-hex-digit id.",
        "pattern": "^[0-9a-f]{24}$",
        "examples": ["665f1c2e8b3a4d5e6f708192"],
    },
    "Timestamp": {
        "type": "string",
        "format": "date-time",
        "description": "An ISO 8601 UTC time with milliseconds.",
        "examples": ["2026-06-01T12:00:00.000Z"],
    },
    "Category": {
        "type": "string",
        "description": "A book category, as stored.",
        "enum": list(CATEGORIES),
    },
    "User": {
        "type": "object",
        "description": "An account as clients see it (never a password or a hash).",
        "required": ["_id", "name", "email", "active"],
        "additionalProperties": False,
        "properties": {
            "_id": ref("schemas", "Id"),
            "name": {"type": "string", "examples": ["Ada Lovelace"]},
            "email": {"type": "string", "format": "email", "examples": ["ada@example.com"]},
            "active": {"type": "boolean"},
        },
    },
    "Book": closed_object(
        [
            "_id",
            "title",
            "description",
            "category",
            "image_url",
            "user_id",
            "created_at",
            "updated_at",
            "isbn",
        ],
        {
            "_id": ref("schemas", "Id"),
            "title": {"type": "string", "examples": ["Sketch of the Analytical Engine"]},
            "description": {"type": "string", "description": "Empty when none was given."},
            "category": ref("schemas", "Category"),
            "image_url": {
                "type": "string",
                "format": "uri",
                "description": "Absolute URL of the cover thumbnail (`GET /static/books/{name}`).",
            },
            "user_id": ref("schemas", "Id"),
            "isbn": {
                "type": ["string", "null"],
                "description": "The ISBN-13, digits only, or null when the book has none.",
                "pattern": "^[0-9]{13}$",
            },
            "created_at": ref("schemas", "Timestamp"),
            "updated_at": ref("schemas", "Timestamp"),
        },
    ),
    "Session": {
        "type": "object",
        "description": "One login of the caller.",
        "required": [
            "_id",
            "created_at",
            "last_used_at",
            "expires_at",
            "ip",
            "user_agent",
            "current",
        ],
        "additionalProperties": False,
        "properties": {
            "_id": ref("schemas", "Id"),
            "created_at": ref("schemas", "Timestamp"),
            "last_used_at": {
                "$ref": "#/components/schemas/Timestamp",
                "description": "The last login or refresh of this session.",
            },
            "expires_at": {
                "$ref": "#/components/schemas/Timestamp",
                "description": "When its refresh token expires unless it is used.",
            },
            "ip": {
                "type": "string",
                "description": "The client address of the last login or refresh.",
            },
            "user_agent": {
                "type": "string",
                "description": "The User-Agent of the last login or refresh.",
            },
            "current": {
                "type": "boolean",
                "description": "Whether this is the session of the token that asked.",
            },
        },
    },
    "TokenPair": closed_object(
        ["token", "refresh_token", "expires_in"],
        {
            **token_properties(),
        },
    ),
    "LoginData": {
        "type": "object",
        "description": "The user and the new session's tokens.",
        "required": ["_id", "name", "email", "active", "token", "refresh_token", "expires_in"],
        "additionalProperties": False,
        "properties": {
            "_id": ref("schemas", "Id"),
            "name": {"type": "string"},
            "email": {"type": "string", "format": "email"},
            "active": {"type": "boolean"},
            **token_properties(),
        },
    },
    "Pagination": closed_object(
        ["page", "per_page", "total", "pages"],
        {
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1, "maximum": PER_PAGE_MAX},
            "total": {"type": "integer", "minimum": 0, "description": "Books matching the query."},
            "pages": {"type": "integer", "minimum": 0, "description": "Pages of `per_page` books."},
        },
    ),
    "ValidationErrors": {
        "type": "object",
        "description": "Each failing field (or query parameter) with why it failed.",
        "minProperties": 1,
        "additionalProperties": {"type": "string"},
        "examples": [{"email": "email must be a valid address such as name@example.com"}],
    },
    "SuccessEnvelope": {
        "type": "object",
        "description": "Every success with a body.",
        "required": ["message", "data"],
        "properties": {
            "message": {"type": "string"},
            "data": {"type": ["object", "array", "null"]},
        },
    },
    "ErrorEnvelope": {
        "type": "object",
        "description": "Every failure.",
        "required": ["message", "data", "error"],
        "additionalProperties": False,
        "properties": {
            "message": {"type": "string"},
            "data": {"type": "null"},
            "error": {
                "anyOf": [
                    {
                        "type": "string",
                        "description": "A short reason such as `Unauthorized` or `Not Found`.",
                    },
                    ref("schemas", "ValidationErrors"),
                ]
            },
        },
    },
    "ValidationErrorEnvelope": {
        "description": "A validation failure.",
        "allOf": [
            ref("schemas", "ErrorEnvelope"),
            {
                "properties": {
                    "message": {"const": "Invalid data"},
                    "error": ref("schemas", "ValidationErrors"),
                }
            },
        ],
    },
    "UserEnvelope": envelope(ref("schemas", "User")),
    "LoginEnvelope": envelope(
        ref("schemas", "LoginData"), {"const": "Successfully fetched auth token"}
    ),
    "TokenEnvelope": envelope(
        ref("schemas", "TokenPair"), {"const": "Successfully refreshed auth token"}
    ),
    "SessionListEnvelope": envelope(
        {"type": "array", "items": ref("schemas", "Session")},
        {"const": "successfully retrieved sessions"},
    ),
    "BookEnvelope": envelope(ref("schemas", "Book")),
    "BookListEnvelope": closed_object(
        ["message", "data", "pagination"],
        {
            "message": {"const": "successfully retrieved all books"},
            "data": {"type": "array", "items": ref("schemas", "Book")},
            "pagination": ref("schemas", "Pagination"),
        },
    ),
    "NoDataEnvelope": {
        "type": "object",
        "description": "A success with nothing to answer but its message.",
        "required": ["message", "data"],
        "additionalProperties": False,
        "properties": {"message": {"type": "string"}, "data": {"type": "null"}},
    },
    "TwoFactorSetupEnvelope": envelope(
        closed_object(
            ["secret", "otpauth_uri", "qr_code"],
            {
                "secret": {
                    "type": "string",
                    "description": "The base32 TOTP secret, for apps that cannot scan.",
                },
                "otpauth_uri": {"type": "string", "pattern": "^otpauth://totp/"},
                "qr_code": {
                    "type": "string",
                    "pattern": "^data:image/svg\\+xml",
                    "description": "The URI as an SVG QR code.",
                },
            },
        ),
        {"const": "Scan the QR code, then confirm with a code from the app"},
    ),
    "RecoveryCodesEnvelope": envelope(
        closed_object(
            ["recovery_codes"],
            {
                "recovery_codes": {
                    "type": "array",
                    "description": "Single-use codes that stand in for the app's code; shown "
                    "only here.",
                    "minItems": 1,
                    "items": {"type": "string"},
                }
            },
        ),
        {"const": "Two-factor authentication enabled: keep these recovery codes somewhere safe"},
    ),
    "HealthEnvelope": envelope(
        closed_object(["status"], {"status": {"const": "ok"}}), {"const": "ok"}
    ),
    "ReadyEnvelope": envelope(
        closed_object(
            ["status", "database", "degraded"],
            {
                "status": {"const": "ready"},
                "database": {"const": "ok"},
                "degraded": {
                    "type": "array",
                    "description": "Housekeeping indexes the database refused; empty when all "
                    "exist.",
                    "items": {"type": "string"},
                },
            },
        ),
        {"const": "ready"},
    ),
}
