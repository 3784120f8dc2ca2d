"""What the rate-limit tests share: apps with limits, failed logins and the 429 they earn."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyotp
from flask import Flask, Response
from flask.testing import FlaskClient

from store import database
from tests.helpers import PASSWORD, sign_up

CONFIRM = {"password": PASSWORD}

WRONG_PASSWORD = "Wrong-Horse-9"
LOGIN_FAILED = {
    "message": "Error fetching auth token!, invalid email or password",
    "data": None,
    "error": "Unauthorized",
}
ATTACKER = {"REMOTE_ADDR": "203.0.113.7"}
OTHER_ATTACKER = {"REMOTE_ADDR": "198.51.100.9"}
OWNER = {"REMOTE_ADDR": "192.0.2.44"}
RIGHT_LOGIN = {"email": "ada@example.com", "password": PASSWORD}
GENEROUS = "1000 per minute"


def limited_app(make_app: Callable[..., Flask], **limits: Any) -> Flask:
    """Return an app with rate limits on: generous everywhere except the limits given."""
    settings = {
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_LOGIN_PER_ACCOUNT": GENEROUS,
        "RATELIMIT_LOGIN_ACCOUNT_CEILING": GENEROUS,
        "RATELIMIT_OTP_PER_ACCOUNT": GENEROUS,
        "RATELIMIT_LOGIN_PER_ADDRESS": GENEROUS,
        "RATELIMIT_SIGNUP_PER_ADDRESS": GENEROUS,
        "RATELIMIT_REFRESH_PER_ADDRESS": GENEROUS,
        "RATELIMIT_PASSKEY_OPTIONS_PER_ADDRESS": GENEROUS,
    }
    return make_app(**{**settings, **limits})


def fail_login(
    client: FlaskClient, email: str = "ada@example.com", **request_options: Any
) -> Response:
    """Try to log in with a wrong password."""
    return client.post(
        "/users/login", json={"email": email, "password": WRONG_PASSWORD}, **request_options
    )


def assert_login_failed(response: Response) -> None:
    """Assert the one 401 answer of a refused login."""
    assert response.status_code == 401, response.json
    assert response.json == LOGIN_FAILED


def assert_too_many_requests(response: Response, window_seconds: int) -> None:
    """Assert a 429 envelope whose Retry-After and message name the same whole seconds."""
    assert response.status_code == 429, response.json
    assert response.mimetype == "application/json"
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= window_seconds
    unit = "second" if retry_after == 1 else "seconds"
    assert response.json == {
        "message": f"Too many requests, try again in {retry_after} {unit}",
        "data": None,
        "error": "Too Many Requests",
    }


def stored_counters(app: Flask) -> list[dict[str, Any]]:
    """Return the rate-limit counters stored in the app's database."""
    with app.app_context():
        return list(database.get_db().rate_limits.find())


def counted(counters: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return the counters that count something: a refunded reservation leaves one at zero."""
    return [counter for counter in counters if counter["count"] > 0]


def two_factor_user(client: FlaskClient) -> list[str]:
    """Sign up ada@example.com with two-factor on; return her recovery codes."""
    sign_up(client, "ada@example.com")
    token = client.post("/users/login", json=RIGHT_LOGIN).json["data"]["token"]
    headers = {"Authorization": f"Bearer {token}"}
    secret = client.post("/users/2fa/setup", headers=headers, json=CONFIRM).json["data"]["secret"]
    enabled = client.post(
        "/users/2fa/enable", headers=headers, json={**CONFIRM, "otp": pyotp.TOTP(secret).now()}
    )
    assert enabled.status_code == 200, enabled.json
    return enabled.json["data"]["recovery_codes"]
