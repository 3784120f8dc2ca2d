"""The answers many routes share: errors in the envelope, 204, 304."""

from __future__ import annotations

from typing import Any

from api_docs.build import ETAG, error, errors, ref, success

RESPONSES: dict[str, Any] = {
    "NoContent": {"description": "Done; no body."},
    "NotModified": {
        "description": "The client's copy (named by `If-None-Match`) is still current; no body.",
        "headers": ETAG,
    },
    "BadUserRequest": errors(
        "The body is missing, malformed or not a JSON object "
        "(`Please provide user details` /\n"
        "`Bad request`), or validation failed (`Invalid data` / an "
        "object naming each failing field).\n",
        {
            "invalid": (
                "Validation failed",
                "Invalid data",
                {"email": "email must be a valid address such as name@example.com"},
            ),
            "missing": ("No JSON object", "Please provide user details", "Bad request"),
        },
    ),
    "BadBookRequest": errors(
        "Validation failed (`Invalid data` / an object naming each "
        "failing field, `isbn` included),\n"
        "there is no `cover_image` on create, the `Idempotency-Key` "
        "is malformed, or the cover is\n"
        "empty, corrupt or over the pixel limit.\n",
        {
            "invalid": (
                "Validation failed",
                "Invalid data",
                {
                    "category": "category must be one of: romance, poetry, politics, picture "
                    "book, science, fantasy, horror, thriller"
                },
            ),
            "noCover": ("No cover on create", "cover image is required", "Bad Request"),
            "corrupt": ("A corrupt cover", "cover image is corrupt or truncated", "Bad Request"),
        },
    ),
    "Unauthorized": errors(
        "No token (`Authentication Token is missing!`), or a bad one: "
        "malformed, tampered, expired,\n"
        "revoked, or its user gone or disabled (`Invalid "
        "Authentication token!`).\n",
        {
            "missing": ("No token", "Authentication Token is missing!", "Unauthorized"),
            "invalid": ("A bad token", "Invalid Authentication token!", "Unauthorized"),
        },
        headers={"WWW-Authenticate": ref("headers", "WWW-Authenticate")},
    ),
    "BadAccountSecurityRequest": errors(
        "The body is missing, malformed or not a JSON "
        "object, or a field is invalid or wrong\n"
        "(`Invalid data` / an object naming it: `otp`, "
        "`password`, `email`, `new_password`, "
        "`token`).\n",
        {
            "invalid": (
                "A field is invalid or wrong",
                "Invalid data",
                {"token": "this link is invalid, was already used or has expired"},
            ),
            "missing": ("No JSON object", "Please provide your email address", "Bad request"),
        },
    ),
    "TwoFactorConflict": error(
        "Two-factor authentication is already on (set-up, "
        "enable), not on (disable), or its set-up\n"
        "was not started or changed meanwhile.\n",
        "Two-factor authentication is already enabled",
        "Conflict",
    ),
    "EmailVerified": success(
        "The email address is verified.",
        "NoDataEnvelope",
        {
            "message": "Your email address is verified: you can log in",
            "data": None,
        },
    ),
    "BookNotFound": error(
        "The id is malformed, unknown, or another user's book.", "Book not found", "Not Found"
    ),
    "EndpointNotFound": error("Nothing is served at this URL.", "Endpoint Not Found", "Not Found"),
    "BookConflict": error(
        "The caller already has a book with this title (ignoring case "
        "and spaces) or this ISBN; or a\n"
        "request with the same `Idempotency-Key` is still running "
        "(then with `Retry-After`), or the\n"
        "book it created was deleted since.\n",
        "A book with this title is already on your shelf",
        "Conflict",
        headers={
            "Retry-After": {
                "description": "Seconds to wait before retrying, "
                "when the same `Idempotency-Key` "
                "is still in use.",
                "required": False,
                "schema": {"type": "integer", "minimum": 1},
            }
        },
    ),
    "MethodNotAllowed": error(
        "The route exists but not with this method (any route, any undocumented method).",
        "Method Not Allowed",
        "Method Not Allowed",
        headers={"Allow": ref("headers", "Allow")},
    ),
    "PayloadTooLarge": error(
        "The request body is over the size limit (5 MiB by "
        "default), or the cover image would need more than "
        "`COVER_MAX_DECODE_BYTES` (64 MiB by default) of memory to "
        "decode; `error.cover_image` then says how much.",
        "Request body is larger than 5242880 bytes",
        "Request Entity Too Large",
    ),
    "UnsupportedMediaType": error(
        "The body's content type is not `application/json`.",
        "Content-Type must be application/json",
        "Unsupported Media Type",
    ),
    "UnsupportedCover": error(
        "The body is not a form (`Content-Type must be "
        "multipart/form-data`), or the cover is not a\n"
        "JPEG, PNG, GIF or WebP image.\n",
        "cover image must be a JPEG, PNG, GIF or WebP image",
        "Unsupported Media Type",
    ),
    "TooManyRequests": error(
        "Too many attempts; try again after `Retry-After` seconds.",
        "Too many requests, try again in 42 seconds",
        "Too Many Requests",
        headers={"Retry-After": ref("headers", "Retry-After")},
    ),
    "ServiceUnavailable": error(
        "The database cannot be reached; try again after `Retry-After` seconds.",
        "The service is temporarily unavailable, try again shortly",
        "Service Unavailable",
        headers={"Retry-After": ref("headers", "Retry-After")},
    ),
    "NotReady": error(
        "The database does not answer, or refused an essential index (the "
        "message names it); this instance should get no traffic for now.",
        "database unreachable",
        "Service Unavailable",
        headers={"Retry-After": ref("headers", "Retry-After")},
    ),
    "InternalServerError": error(
        "An unexpected error (a bug); it is logged with the request id.",
        "Something went wrong",
        "Internal Server Error",
    ),
}
