"""The introduction, and the parameters, headers, examples and security scheme routes share."""

from __future__ import annotations

from typing import Any

from api_docs.build import book_example, path_parameter, user_example

INFO: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "Book-library API",
        "version": "1.0.0",
        "summary": "Users sign up, log in with a JWT and keep a shelf of books with cover "
        "thumbnails.",
        "description": "The API of the tutorial *How To Authenticate Flask API Using JWT*, "
        "built to production quality.\n"
        "The application generates this document from its routes and the request "
        "schemas it validates\n"
        "with (so limits and enums here are the ones enforced); it feeds the "
        "interactive documentation\n"
        "at `/docs`, and the test suite fuzzes the running server with it.\n"
        "\n"
        "## Authentication\n"
        "\n"
        "Sign up (`POST /users/`), log in (`POST /users/login`) and send the "
        "`token` you get back as\n"
        "`Authorization: Bearer <token>` (the scheme is case-insensitive; "
        "tokens in the query string are\n"
        "ignored). In this page, press **Authorize** and paste the token "
        "alone, without `Bearer`.\n"
        "Access tokens expire after `expires_in` seconds (15 minutes by "
        "default); trade the\n"
        "`refresh_token` for a new pair at `POST /users/token/refresh`. A "
        "missing token answers 401\n"
        "`Authentication Token is missing!`; any bad token (malformed, "
        "tampered, expired, revoked, or its\n"
        "user gone or disabled) answers 401 `Invalid Authentication token!`. "
        "Every 401 carries\n"
        '`WWW-Authenticate: Bearer` (with `error="invalid_token"` when a '
        "token was sent).\n"
        "\n"
        "## Envelope\n"
        "\n"
        "Every response except `GET /` (plain text), a 204 or 304 (no body), "
        "served covers and the\n"
        "documentation assets is a JSON object:\n"
        "\n"
        '- success: `{"message": string, "data": object | array | null}`, '
        "plus `pagination` on the book\n"
        "  list and nowhere else;\n"
        '- failure: `{"message": string, "data": null, "error": string | '
        "object}`. `error` is a short\n"
        '  reason (`"Unauthorized"`, `"Not Found"`, `"Conflict"` ...) or, '
        "when validation failed\n"
        '  (`"message": "Invalid data"`), an object naming each failing field '
        "with its message.\n"
        "\n"
        "No error ever shows an HTML page, a traceback or an exception text. "
        "An unknown route answers 404\n"
        "and a known route with the wrong method 405 with an `Allow` header, "
        "both in the envelope; an\n"
        "unexpected error answers a generic 500 in the envelope, logged with "
        "the request id.\n"
        "\n"
        "## Headers on every response\n"
        "\n"
        "- `X-Request-ID`: the client's own if it is 1 to 128 characters of "
        "`A-Z a-z 0-9 . _ -`, else a\n"
        "  new one; quote it when reporting a problem.\n"
        "- `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer`, "
        "`X-Frame-Options: DENY`,\n"
        "  `Content-Security-Policy: default-src 'none'; frame-ancestors "
        "'none'` (the documentation pages\n"
        "  have their own policy) and `Cache-Control: no-store` (covers and "
        "documentation assets have\n"
        "  their own caching).\n"
        "- With `CORS_ORIGINS` set, for a listed `Origin`: "
        "`Access-Control-Allow-Origin` and\n"
        "  `Access-Control-Expose-Headers`, and `Vary: Origin` on every "
        "answer; preflights allow `GET`,\n"
        "  `HEAD`, `POST`, `PUT` and `DELETE` with `Authorization`, "
        "`Content-Type`, `If-Match`,\n"
        "  `If-None-Match`, `Idempotency-Key` and `X-Request-ID`.\n"
        "\n"
        "`OPTIONS` on any route answers 204 with `Allow`.\n"
        "\n"
        "## Limits\n"
        "\n"
        "Sign-up, failed logins, refreshes and wrong current passwords are "
        "rate limited: beyond a limit\n"
        "the answer is 429 with `Retry-After` (seconds). Each attempt is "
        "reserved before its password or\n"
        "code is checked, so concurrent attempts get no more answers than the "
        "limit; a right one gives its\n"
        "place back. A request body over the size limit (5 MiB by\n"
        "default) answers 413, a body of a content type the route does not "
        "take 415. When the database\n"
        "cannot be reached the answer is 503 with `Retry-After`.\n",
        "license": {"name": "MIT", "identifier": "MIT"},
    },
    "tags": [
        {"name": "users", "description": "Sign-up, login, tokens and the caller's profile."},
        {"name": "sessions", "description": "One session per login; list them and end them."},
        {
            "name": "account security",
            "description": "Two-factor authentication, password reset by email and email "
            "verification.",
        },
        {
            "name": "passkeys",
            "description": "Passkeys (WebAuthn): register, list and remove them, and log in "
            "with one instead of a password.",
        },
        {"name": "books", "description": "The caller's shelf of books and their cover images."},
        {
            "name": "covers",
            "description": "Cover thumbnails, served without authentication at each book's "
            "`image_url`.",
        },
        {"name": "service", "description": "The greeting, health and readiness probes."},
        {
            "name": "documentation",
            "description": "This document and the Swagger UI page that shows it.",
        },
        {
            "name": "web app",
            "description": "The browser front end, a single page served by the API itself.",
        },
    ],
}

PARAMETERS: dict[str, Any] = {
    "BookId": path_parameter(
        "book_id",
        "The book's `_id`. A malformed id, an unknown one and another "
        "user's book all answer the\n"
        "same 404.\n",
        {"type": "string", "examples": ["665f1c2e8b3a4d5e6f708194"]},
    ),
    "SessionId": path_parameter(
        "session_id",
        "The session's `_id`, as listed by `GET /users/sessions`.",
        {"type": "string", "examples": ["665f1c2e8b3a4d5e6f708193"]},
    ),
    "IfNoneMatch": {
        "name": "If-None-Match",
        "in": "header",
        "required": False,
        "description": "An `ETag` this client already has; 304 with no body while it "
        "is still current.",
        "schema": {"type": "string", "examples": ['"v3"']},
    },
    "IfMatch": {
        "name": "If-Match",
        "in": "header",
        "required": False,
        "description": 'The `ETag` of the version this client read (e.g. `"v3"`); 412 if '
        "the book changed since.\n"
        "`*` matches any version.\n",
        "schema": {"type": "string", "examples": ['"v3"']},
    },
    "IdempotencyKey": {
        "name": "Idempotency-Key",
        "in": "header",
        "required": False,
        "description": "A client-chosen key (1 to 255 visible ASCII characters, "
        "e.g. a UUID) that makes retrying\n"
        "this request safe.\n",
        "schema": {
            "type": "string",
            "pattern": "^[\\x21-\\x7E]{1,255}$",
            "examples": ["4f9d2c1a-8b7e-4d3c-9a1b-2c3d4e5f6a7b"],
        },
    },
}

HEADERS: dict[str, Any] = {
    "WWW-Authenticate": {
        "description": '`Bearer`, or `Bearer error="invalid_token"` when a token was sent.',
        "required": True,
        "schema": {"type": "string", "pattern": "^Bearer"},
    },
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "required": True,
        "schema": {"type": "integer", "minimum": 1},
    },
    "ETag": {
        "description": "The version of the representation, for `If-None-Match` and `If-Match`.",
        "required": True,
        "schema": {"type": "string"},
    },
    "X-Total-Count": {
        "description": "How many books match, on every page.",
        "required": True,
        "schema": {"type": "integer", "minimum": 0},
    },
    "Link": {
        "description": "RFC 8288 links to the `first`, `prev`, `next` and `last` pages that "
        "exist, e.g.\n"
        '`<https://api.example.com/books/?page=2&per_page=20>; rel="next"`.\n',
        "required": False,
        "schema": {"type": "string"},
    },
    "Allow": {
        "description": "The methods the route takes.",
        "required": True,
        "schema": {"type": "string"},
    },
}

SECURITY_SCHEMES: dict[str, Any] = {
    "bearerAuth": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "The `token` from `POST /users/login` or `POST "
        "/users/token/refresh`, sent as\n"
        "`Authorization: Bearer <token>`.\n",
    }
}

EXAMPLES: dict[str, Any] = {
    "User": {
        "summary": "An account",
        "value": user_example(),
    },
    "Book": {
        "summary": "A book",
        "value": book_example(),
    },
}
