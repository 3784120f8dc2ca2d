"""The description of the session routes: refresh, logout, sessions, the password."""

from __future__ import annotations

from typing import Any

from api_docs.build import (
    LIMITED_JSON_WRITE,
    error,
    errors,
    invalid_query,
    json_body,
    ref,
    refs,
    success,
    user_answer,
)

OPERATIONS: dict[str, dict[str, Any]] = {
    "users.refresh_token": {
        "tags": ["users"],
        "operationId": "refreshToken",
        "summary": "Trade a refresh token for a new token pair",
        "description": "The refresh token is spent: keep the new one. Sending "
        "the same refresh token again within\n"
        "a short grace period (30 seconds by default) answers "
        "the very same pair, so a lost answer\n"
        "can be retried; a spent token coming back later "
        "revokes the whole session. Rate limited\n"
        "per client address.\n",
        "requestBody": json_body(
            {
                "refresh_token": (
                    "rt1.665f1c2e8b3a4d5e6f708193.0.Wm9vLWJhci1iYXotcXV4LWZvby1iYXItYmF6LXF1eC0x"
                )
            }
        ),
        "responses": {
            "200": success(
                "A new access and refresh token pair.",
                "TokenEnvelope",
                {
                    "message": "Successfully refreshed auth token",
                    "data": {
                        "token": (
                            "eyJhbGciOiJIUzI1NiIsImtpZCI6IjBhMWIyYzNkNGU1ZjZhN2IiLCJ0eXAi"
                            "OiJKV1QifQ.eyJzdWIiOiI2NjVmMWMyZThiM2E0ZDVlNmY3MDgxOTIifQ.c2"
                            "lnbmF0dXJl"
                        ),
                        "refresh_token": (
                            "rt1.665f1c2e8b3a4d5e6f708193.1.YmFyLWJhei1xdXgtZm9vLWJhci1iY"
                            "XotcXV4LWZvby0y"
                        ),
                        "expires_in": 900,
                    },
                },
            ),
            "400": errors(
                "The body is missing, is not a JSON object, or has no string `refresh_token`.",
                {
                    "missing": ("No JSON object", "Please provide a refresh_token", "Bad request"),
                    "invalid": (
                        "refresh_token is not a string",
                        "Invalid data",
                        {"refresh_token": "refresh_token must be a string"},
                    ),
                },
            ),
            "401": error(
                "The refresh token is malformed, expired, revoked, or spent and reused.",
                "Invalid refresh token",
                "Unauthorized",
                headers={"WWW-Authenticate": ref("headers", "WWW-Authenticate")},
            ),
            **refs(*LIMITED_JSON_WRITE),
        },
    },
    "users.logout": {
        "tags": ["sessions"],
        "operationId": "logOut",
        "summary": "End the current session",
        "description": "This session's access and refresh tokens stop working at once.",
        "responses": {
            "204": {"description": "Logged out."},
            **refs("ServiceUnavailable"),
        },
    },
    "users.list_sessions": {
        "tags": ["sessions"],
        "operationId": "listSessions",
        "summary": "The caller's open sessions",
        "description": "Newest first; `current` marks the session of the token that asked.",
        "responses": {
            "200": success(
                "The open sessions.",
                "SessionListEnvelope",
                {
                    "message": "successfully retrieved sessions",
                    "data": [
                        {
                            "_id": "665f1c2e8b3a4d5e6f708193",
                            "created_at": "2026-06-01T12:00:00.000Z",
                            "last_used_at": "2026-06-01T12:00:00.000Z",
                            "expires_at": "2026-07-01T12:00:00.000Z",
                            "ip": "127.0.0.1",
                            "user_agent": "curl/8.5.0",
                            "current": True,
                        }
                    ],
                },
            ),
            **refs("ServiceUnavailable"),
        },
    },
    "users.revoke_session": {
        "tags": ["sessions"],
        "operationId": "revokeSession",
        "summary": "End one of the caller's sessions",
        "description": "Any open session of the caller, this one included.",
        "parameters": [ref("parameters", "SessionId")],
        "responses": {
            "204": {"description": "The session is ended."},
            "404": error(
                "No open session of the caller has this id.", "Session not found", "Not Found"
            ),
            **refs("ServiceUnavailable"),
        },
    },
    "users.revoke_sessions": {
        "tags": ["sessions"],
        "operationId": "revokeSessions",
        "summary": "End every other session",
        "description": "Signs out every other device; with `all=true`, this session too.",
        "responses": {
            "204": {"description": "The sessions are ended."},
            "400": invalid_query(
                "`all` is neither `true` nor "
                "`false` (or the `Host` header "
                "is not a trusted host: "
                "`Unknown Host header`).",
                {"all": "all must be true or false"},
            ),
            **refs("ServiceUnavailable"),
        },
    },
    "users.change_password": {
        "tags": ["users"],
        "operationId": "changePassword",
        "summary": "Change the caller's password",
        "description": "Every other session ends; this one stays. Wrong "
        "current passwords are rate limited per\n"
        "account, in one budget shared with the two-factor "
        "routes.\n",
        "requestBody": json_body(
            {
                "current_password": "Analytical-Engine-1843",
                "new_password": "Difference-Engine-1822",
            }
        ),
        "responses": {
            "200": user_answer("The password is changed.", "successfully updated password"),
            "400": errors(
                "The body is missing or not a "
                "JSON object, a field is "
                "invalid, or "
                "`current_password` is\n"
                "wrong.\n",
                {
                    "wrongPassword": (
                        "Wrong current password",
                        "Invalid data",
                        {"current_password": "current password is incorrect"},
                    ),
                    "missing": ("No JSON object", "Please provide user details", "Bad request"),
                },
            ),
            **refs(*LIMITED_JSON_WRITE),
        },
    },
}
