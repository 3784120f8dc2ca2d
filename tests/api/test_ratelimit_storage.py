"""The rate-limit counters' storage, and the shared budget of password checks."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

from flask import Flask, Response, request

from app import create_app
from store import database
from tests.api.rate_limit_checks import (
    CONFIRM,
    RIGHT_LOGIN,
    WRONG_PASSWORD,
    assert_login_failed,
    assert_too_many_requests,
    fail_login,
    limited_app,
    stored_counters,
)
from tests.helpers import PASSWORD, base_config, sign_up
from web.ratelimit import limit_password_check
from web.responses import error_response, success_response

# Storage -----------------------------------------------------------------------------------------


def test_counters_are_shared_by_apps_on_one_database(make_app):
    first = limited_app(make_app, RATELIMIT_LOGIN_PER_ACCOUNT="3 per minute").test_client()
    second = limited_app(make_app, RATELIMIT_LOGIN_PER_ACCOUNT="3 per minute").test_client()
    assert_login_failed(fail_login(first))
    assert_login_failed(fail_login(second))
    assert_login_failed(fail_login(first))

    response = fail_login(second)

    assert_too_many_requests(response, 60)


def test_disabled_limits_never_refuse_and_store_nothing(make_app):
    app = make_app(
        RATELIMIT_ENABLED=False,
        RATELIMIT_LOGIN_PER_ACCOUNT="1 per minute",
        RATELIMIT_LOGIN_PER_ADDRESS="1 per minute",
        RATELIMIT_SIGNUP_PER_ADDRESS="1 per minute",
    )
    client = app.test_client()
    sign_up(client, "ada@example.com")
    sign_up(client, "grace@example.com", "Grace Hopper")

    responses = [fail_login(client) for _ in range(5)]

    for response in responses:
        assert_login_failed(response)
    assert stored_counters(app) == []


def closed_port() -> int:
    """Return a loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_unreachable_database_answers_503_not_500(tmp_path: Path, caplog):
    app = create_app(
        {
            **base_config(tmp_path / "instance"),
            "DATABASE_URL": f"mongodb://127.0.0.1:{closed_port()}/rate_limit_test",
            "DB_TIMEOUT_MS": 100,
            "RATELIMIT_ENABLED": True,
        }
    )
    client = app.test_client()
    caplog.clear()
    try:
        login = fail_login(client)
        signup = client.post(
            "/users/", json={"name": "Ada Lovelace", "email": "a@example.com", "password": PASSWORD}
        )
    finally:
        database.close_client(app)

    for response in (login, signup):
        assert response.status_code == 503, response.json
        assert response.json["data"] is None
        assert response.headers["Retry-After"]
    # Fail open with one warning, then leave the dead storage alone instead of waiting on it.
    storage_warnings = [record for record in caplog.records if record.name == "ratelimit"]
    assert [record.levelname for record in storage_warnings] == ["WARNING"]
    assert "not limited" in storage_warnings[0].getMessage()
    assert not [record for record in caplog.records if record.name == "flask-limiter"]


# Password check ----------------------------------------------------------------------------------


def add_password_check_route(app: Flask) -> None:
    """Add a stand-in for PUT /users/password: the user id comes from the X-User header."""

    @limit_password_check
    def check_password(current_user: dict[str, Any]) -> Response:
        if request.get_json()["current_password"] != PASSWORD:
            return error_response(400, "Invalid data", {"current_password": "incorrect"})
        return success_response("successfully updated password", current_user)

    def route() -> Response:
        return check_password({"_id": request.headers["X-User"], "name": "Ada Lovelace"})

    app.add_url_rule("/password-check", "password_check", route, methods=["PUT"])


def test_wrong_current_passwords_are_limited_per_user(make_app):
    app = limited_app(make_app, RATELIMIT_PASSWORD_CHECK_PER_ACCOUNT="2 per minute")
    add_password_check_route(app)
    client = app.test_client()
    ada = {"X-User": "64b7f0000000000000000001"}
    wrong = {"current_password": WRONG_PASSWORD}
    for _ in range(2):
        assert client.put("/password-check", json=wrong, headers=ada).status_code == 400

    refused = client.put("/password-check", json={"current_password": PASSWORD}, headers=ada)
    other_user = client.put(
        "/password-check",
        json={"current_password": PASSWORD},
        headers={"X-User": "64b7f0000000000000000002"},
    )

    assert_too_many_requests(refused, 60)
    assert other_user.status_code == 200, other_user.json
    assert other_user.json["data"]["_id"] == "64b7f0000000000000000002"


def test_right_current_passwords_are_not_counted(make_app):
    app = limited_app(make_app, RATELIMIT_PASSWORD_CHECK_PER_ACCOUNT="1 per minute")
    add_password_check_route(app)
    client = app.test_client()
    ada = {"X-User": "64b7f0000000000000000001"}

    responses = [
        client.put("/password-check", json={"current_password": PASSWORD}, headers=ada)
        for _ in range(3)
    ]

    assert [response.status_code for response in responses] == [200, 200, 200]
    assert responses[-1].json["message"] == "successfully updated password"


def test_wrong_current_passwords_share_one_budget_across_routes(make_app):
    app = limited_app(make_app, RATELIMIT_PASSWORD_CHECK_PER_ACCOUNT="5 per minute")
    client = app.test_client()
    sign_up(client, "ada@example.com")
    token = client.post("/users/login", json=RIGHT_LOGIN).json["data"]["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.post("/users/2fa/setup", headers=headers, json=CONFIRM).status_code == 200
    change = {"current_password": WRONG_PASSWORD, "new_password": "Brand-New-Horse-7"}
    for _ in range(3):
        wrong_password = client.put("/users/password", json=change, headers=headers)
        assert wrong_password.status_code == 400, wrong_password.json
        assert set(wrong_password.json["error"]) == {"current_password"}
    for _ in range(2):
        wrong_code = client.post(
            "/users/2fa/enable", json={**CONFIRM, "otp": "000000"}, headers=headers
        )
        assert wrong_code.status_code == 400, wrong_code.json
        assert set(wrong_code.json["error"]) == {"otp"}

    at_first_route = client.put("/users/password", json=change, headers=headers)
    at_second_route = client.post("/users/2fa/enable", json={"otp": "000000"}, headers=headers)

    assert_too_many_requests(at_first_route, 60)
    assert_too_many_requests(at_second_route, 60)
    password_checks = [c for c in stored_counters(app) if "/password-check/" in c["_id"]]
    assert [c["count"] for c in password_checks] == [5]
    with app.app_context():
        user = database.get_db().users.find_one({"email": "ada@example.com"})
    assert not user.get("totp_enabled")
    assert client.post("/users/login", json=RIGHT_LOGIN).status_code == 200
