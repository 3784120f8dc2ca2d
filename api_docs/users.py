"""The description of the user routes: sign-up, login, profile and disabling an account."""

from __future__ import annotations

from typing import Any

from api_docs.build import (
    LIMITED_JSON_WRITE,
    error,
    errors,
    json_body,
    ref,
    refs,
    success,
    user_answer,
    user_example,
)

OPERATIONS: dict[str, dict[str, Any]] = {
    "users.add_user": {
        "tags": ["users"],
        "operationId": "signUp",
        "summary": "Sign up",
        "description": "Creates an active account. The email is stored trimmed and "
        "lower-cased; one active account\n"
        "may use it. Fields other than `name`, `email` and "
        "`password` are ignored. Rate limited per\n"
        "client address.\n",
        "requestBody": json_body(
            {
                "name": "Ada Lovelace",
                "email": "ada@example.com",
                "password": "Analytical-Engine-1843",
            }
        ),
        "responses": {
            "201": user_answer("The account was created.", "Successfully created new user"),
            **refs("BadUserRequest"),
            "409": error(
                "An active account already uses this email.", "User already exists", "Conflict"
            ),
            **refs(*LIMITED_JSON_WRITE),
        },
    },
    "users.get_current_user": {
        "tags": ["users"],
        "operationId": "getProfile",
        "summary": "The caller's profile",
        "responses": {
            "200": user_answer("The caller's account.", "successfully retrieved user profile"),
            **refs("ServiceUnavailable"),
        },
    },
    "users.update_user": {
        "tags": ["users"],
        "operationId": "updateProfile",
        "summary": "Rename the caller",
        "description": "The name is the only field a user can change; other fields are ignored.",
        "requestBody": json_body({"name": "Augusta Ada King"}),
        "responses": {
            "200": user_answer(
                "The updated account.",
                "successfully updated account",
                user_example(name="Augusta Ada King"),
            ),
            **refs("BadUserRequest"),
            "404": error(
                "The account was disabled while this request ran.", "User not found", "Not Found"
            ),
            **refs("PayloadTooLarge", "UnsupportedMediaType", "ServiceUnavailable"),
        },
    },
    "users.disable_user": {
        "tags": ["users"],
        "operationId": "disableAccount",
        "summary": "Disable the caller's account",
        "description": "Every session ends at once; the books are kept and the "
        "email may sign up again. The\n"
        "tutorial's bare call (no body) works for a session "
        "that logged in less than\n"
        "`REAUTH_WINDOW` seconds ago (10 minutes by default; "
        "refreshing the tokens does not restart\n"
        "that clock). An older session must confirm with the "
        "current password, as JSON\n"
        '`{"password": "..."}`: without it 403 '
        "`reauthentication_required`. A password sent is\n"
        "always checked; wrong ones are rate limited per "
        "account. A refusal changes nothing.\n",
        "requestBody": json_body({"password": "Analytical-Engine-1843"}, required=False),
        "responses": {
            "204": {"description": "The account is disabled."},
            "400": error(
                "The password sent is wrong or "
                "not a string (`Invalid data` / "
                '`{"password": ...}`), or\n'
                "the body is malformed or not a "
                "JSON object.\n",
                "Invalid data",
                {"password": "password is incorrect"},
            ),
            "403": error(
                "The session logged in more than `REAUTH_WINDOW` seconds ago and sent no password.",
                "Confirm with your current password to disable this account",
                "reauthentication_required",
            ),
            **refs(*LIMITED_JSON_WRITE),
        },
    },
    "users.login": {
        "tags": ["users"],
        "operationId": "logIn",
        "summary": "Log in",
        "description": "Opens a session and answers the user with an access token and "
        "a refresh token. Only checks\n"
        "that both fields are non-empty strings: the password policy "
        "is never revealed here. An\n"
        "unknown email, a wrong password and a disabled account get "
        "one identical 401, in the same\n"
        "time. With two-factor authentication on, `otp` (the app's "
        "current 6-digit code or an unused\n"
        "recovery code) is needed too. When the server requires "
        "verified email addresses, an\n"
        "unverified account gets 403. Wrong passwords are rate limited "
        "per account and client\n"
        "address, per client address, and per account over all "
        "addresses (a ceiling that spares\n"
        "addresses the account logged in from recently); wrong codes "
        "per account. The\n"
        "`otp_required` answer to a right password counts against no "
        "limit.\n",
        "requestBody": json_body(
            {"email": "ada@example.com", "password": "Analytical-Engine-1843"}
        ),
        "responses": {
            "200": success(
                "Logged in.",
                "LoginEnvelope",
                {
                    "message": "Successfully fetched auth token",
                    "data": user_example(
                        token=(
                            "eyJhbGciOiJIUzI1NiIsImtpZCI6IjBhMWIyYzNkNGU1ZjZhN2IiLCJ0eXAi"
                            "OiJKV1QifQ.eyJzdWIiOiI2NjVmMWMyZThiM2E0ZDVlNmY3MDgxOTIifQ.c2"
                            "lnbmF0dXJl"
                        ),
                        refresh_token=(
                            "rt1.665f1c2e8b3a4d5e6f708193.0.Wm9vLWJhci1iYXotcXV4LWZvby1iY"
                            "XItYmF6LXF1eC0x"
                        ),
                        expires_in=900,
                    ),
                },
            ),
            **refs("BadUserRequest"),
            "401": errors(
                "Unknown email, wrong password or "
                "disabled account; or, with two-factor "
                "authentication\n"
                "on, no `otp` (`error` is "
                "`otp_required`) or a wrong one.\n",
                {
                    "credentials": (
                        "Wrong email or password",
                        "Error fetching auth token!, invalid email or password",
                        "Unauthorized",
                    ),
                    "otpRequired": (
                        "Two-factor code needed",
                        "A two-factor authentication code is required",
                        "otp_required",
                    ),
                    "otpInvalid": (
                        "Wrong two-factor code",
                        "Invalid two-factor authentication code",
                        "Unauthorized",
                    ),
                },
                headers={"WWW-Authenticate": ref("headers", "WWW-Authenticate")},
            ),
            "403": error(
                "The server requires verified email addresses and this one is not verified yet.",
                "Please confirm your email address first: use the link we emailed you",
                "email_not_verified",
            ),
            **refs(*LIMITED_JSON_WRITE),
        },
    },
}
