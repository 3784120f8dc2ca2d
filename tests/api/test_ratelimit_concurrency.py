"""Limits hold under concurrency: each attempt is reserved atomically before it is checked."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
import requests
from flask import Flask
from pymongo import MongoClient

from store import database
from tests.api.rate_limit_checks import (
    LOGIN_FAILED,
    RIGHT_LOGIN,
    WRONG_PASSWORD,
    assert_login_failed,
    assert_too_many_requests,
    counted,
    fail_login,
    limited_app,
    stored_counters,
    two_factor_user,
)
from tests.helpers import PASSWORD, real_server_only, sign_up
from tests.live.server import LiveServer

T = TypeVar("T")

ATTEMPTS = 20
LIMIT = 5
SHARED_KEY = "a-secret-key-shared-by-every-instance-0123456789"
TOO_MANY = "Too Many Requests"


def all_at_once(count: int, attempt: Callable[[int], T]) -> list[T]:
    """Run attempt(0..count-1) in count threads released together; return their results."""
    start = threading.Barrier(count)

    def released(number: int) -> T:
        start.wait(timeout=60)
        return attempt(number)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(released, range(count)))


def statuses(answers: list[tuple[int, dict[str, Any]]]) -> Counter[int]:
    """Return how many answers had each status."""
    return Counter(status for status, _body in answers)


def assert_only_limited_beyond(answers: list[tuple[int, dict[str, Any]]], body: dict) -> None:
    """Assert exactly LIMIT answers were body's (checked) and the rest 429 (not checked)."""
    assert statuses(answers) == {body["status"]: LIMIT, 429: ATTEMPTS - LIMIT}, answers
    for status, answer in answers:
        if status == 429:
            assert answer["error"] == TOO_MANY and answer["data"] is None
            assert answer["message"].startswith("Too many requests, try again in ")
        else:
            assert answer == body["json"]


LOGIN_REFUSED = {"status": 401, "json": LOGIN_FAILED}


def account_counts(app: Flask) -> list[int]:
    """Return the counts of the per-account-and-address login counters that count something."""
    return [c["count"] for c in counted(stored_counters(app)) if ":account/" in c["_id"]]


# One and two apps in this process, on a real server ----------------------------------------------


@real_server_only
def test_concurrent_wrong_passwords_get_exactly_the_limit_of_401s(make_app):
    app = limited_app(make_app, RATELIMIT_LOGIN_PER_ACCOUNT=f"{LIMIT} per minute")
    sign_up(app.test_client(), "ada@example.com")

    def attempt(_number: int) -> tuple[int, dict[str, Any]]:
        response = fail_login(app.test_client())
        return response.status_code, response.json

    answers = all_at_once(ATTEMPTS, attempt)

    assert_only_limited_beyond(answers, LOGIN_REFUSED)
    assert account_counts(app) == [LIMIT]


@real_server_only
def test_concurrent_wrong_passwords_over_two_apps_on_one_database_get_the_limit_once(make_app):
    apps = [
        limited_app(make_app, RATELIMIT_LOGIN_PER_ACCOUNT=f"{LIMIT} per minute") for _ in range(2)
    ]
    sign_up(apps[0].test_client(), "ada@example.com")
    with apps[1].app_context():
        # Make the second app's client now: two threads making it at once would leak one.
        database.get_db()

    def attempt(number: int) -> tuple[int, dict[str, Any]]:
        response = fail_login(apps[number % 2].test_client())
        return response.status_code, response.json

    answers = all_at_once(ATTEMPTS, attempt)

    assert_only_limited_beyond(answers, LOGIN_REFUSED)
    assert account_counts(apps[1]) == [LIMIT]


@real_server_only
def test_concurrent_wrong_codes_get_exactly_the_limit_of_401s(make_app):
    app = limited_app(make_app, RATELIMIT_OTP_PER_ACCOUNT=f"{LIMIT} per minute")
    codes = two_factor_user(app.test_client())

    def attempt(_number: int) -> tuple[int, dict[str, Any]]:
        response = app.test_client().post("/users/login", json={**RIGHT_LOGIN, "otp": "000000"})
        return response.status_code, response.json

    answers = all_at_once(ATTEMPTS, attempt)

    wrong_code = {
        "message": "Invalid two-factor authentication code",
        "data": None,
        "error": "Unauthorized",
    }
    assert_only_limited_beyond(answers, {"status": 401, "json": wrong_code})
    otp = [c["count"] for c in counted(stored_counters(app)) if ":otp/" in c["_id"]]
    assert otp == [LIMIT]
    # Right password, wrong codes: no login counter counts anything.
    assert account_counts(app) == []
    assert_too_many_requests(
        app.test_client().post("/users/login", json={**RIGHT_LOGIN, "otp": codes[0]}), 60
    )


@real_server_only
def test_concurrent_wrong_current_passwords_get_exactly_the_limit_of_400s(make_app):
    app = limited_app(make_app, RATELIMIT_PASSWORD_CHECK_PER_ACCOUNT=f"{LIMIT} per minute")
    client = app.test_client()
    sign_up(client, "ada@example.com")
    token = client.post("/users/login", json=RIGHT_LOGIN).json["data"]["token"]
    headers = {"Authorization": f"Bearer {token}"}
    change = {"current_password": WRONG_PASSWORD, "new_password": "Brand-New-Horse-7"}
    with app.app_context():
        before = database.get_db().users.find_one({"email": "ada@example.com"})["password_hash"]

    def attempt(_number: int) -> tuple[int, dict[str, Any]]:
        response = app.test_client().put("/users/password", json=change, headers=headers)
        return response.status_code, response.json

    answers = all_at_once(ATTEMPTS, attempt)

    wrong = {
        "message": "Invalid data",
        "data": None,
        "error": {"current_password": "current password is incorrect"},
    }
    assert_only_limited_beyond(answers, {"status": 400, "json": wrong})
    checks = [c["count"] for c in counted(stored_counters(app)) if "/password-check/" in c["_id"]]
    assert checks == [LIMIT]
    with app.app_context():
        after = database.get_db().users.find_one({"email": "ada@example.com"})["password_hash"]
    assert after == before


# A right answer under the limit costs nothing (both stores) --------------------------------------


def test_a_right_password_after_wrong_ones_logs_in_and_spends_no_attempt(make_app):
    app = limited_app(make_app, RATELIMIT_LOGIN_PER_ACCOUNT=f"{LIMIT} per minute")
    client = app.test_client()
    sign_up(client, "ada@example.com")
    for _ in range(LIMIT - 1):
        assert_login_failed(fail_login(client))

    success = client.post("/users/login", json=RIGHT_LOGIN)

    assert success.status_code == 200, success.json
    assert success.json["message"] == "Successfully fetched auth token"
    assert success.json["data"]["token"]
    assert account_counts(app) == [LIMIT - 1]
    # The attempt it reserved came back: one more wrong password is still answered.
    assert_login_failed(fail_login(client))
    assert_too_many_requests(fail_login(client), 60)
    assert account_counts(app) == [LIMIT]


def test_a_right_code_after_wrong_ones_logs_in_and_spends_no_attempt(make_app):
    app = limited_app(make_app, RATELIMIT_OTP_PER_ACCOUNT="2 per minute")
    client = app.test_client()
    codes = two_factor_user(client)
    wrong = client.post("/users/login", json={**RIGHT_LOGIN, "otp": "000000"})

    success = client.post("/users/login", json={**RIGHT_LOGIN, "otp": codes[0]})
    last_try = client.post("/users/login", json={**RIGHT_LOGIN, "otp": "000000"})
    refused = client.post("/users/login", json={**RIGHT_LOGIN, "otp": codes[1]})

    assert wrong.status_code == 401, wrong.json
    assert wrong.json["message"] == "Invalid two-factor authentication code"
    assert success.status_code == 200, success.json
    assert success.json["data"]["token"]
    assert last_try.status_code == 401, last_try.json
    assert last_try.json["message"] == "Invalid two-factor authentication code"
    assert_too_many_requests(refused, 60)
    otp = [c["count"] for c in counted(stored_counters(app)) if ":otp/" in c["_id"]]
    assert otp == [2]


# Real servers: one instance (two worker processes), and two instances on one database ------------


@pytest.fixture(scope="module")
def instances(nx_server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    """Start two servers sharing the key and the database, limit 5 wrong passwords a minute."""
    name = f"limits_{uuid.uuid4().hex[:8]}"
    settings = {
        "SECRET_KEY": SHARED_KEY,
        "DATABASE_URL": f"{nx_server_url}/{name}",
        "RATELIMIT_ENABLED": "true",
        "RATELIMIT_LOGIN_PER_ACCOUNT": f"{LIMIT} per minute",
        "RATELIMIT_LOGIN_PER_ADDRESS": "1000 per minute",
    }
    servers = [
        LiveServer(Path(tmp_path_factory.mktemp(f"limits{number}")), **settings)
        for number in (1, 2)
    ]
    for server in servers:
        server.start()
    yield tuple(servers)
    for server in servers:
        server.stop()
    with MongoClient(nx_server_url, serverSelectionTimeoutMS=3000) as client:
        client.drop_database(name)


def wrong_logins_over(urls: list[str], email: str) -> list[tuple[int, dict[str, Any]]]:
    """Sign up email, then send ATTEMPTS wrong passwords at once, spread over the urls."""
    body = {"name": "Ada Lovelace", "email": email, "password": PASSWORD}
    assert requests.post(urls[0] + "/users/", json=body, timeout=30).status_code == 201
    wrong = {"email": email, "password": WRONG_PASSWORD}

    def attempt(number: int) -> tuple[int, dict[str, Any]]:
        url = urls[number % len(urls)]
        response = requests.post(url + "/users/login", json=wrong, timeout=60)
        return response.status_code, response.json()

    return all_at_once(ATTEMPTS, attempt)


@pytest.mark.integration
def test_concurrent_wrong_passwords_on_one_server_get_exactly_the_limit(instances):
    answers = wrong_logins_over([instances[0].url], "one@example.com")

    assert_only_limited_beyond(answers, LOGIN_REFUSED)


@pytest.mark.integration
def test_concurrent_wrong_passwords_over_two_servers_get_exactly_the_limit(instances):
    answers = wrong_logins_over([server.url for server in instances], "two@example.com")

    assert_only_limited_beyond(answers, LOGIN_REFUSED)
    right = {"email": "two@example.com", "password": PASSWORD}
    # Refused from this address for the rest of the minute, right password too, on either.
    for server in instances:
        response = requests.post(server.url + "/users/login", json=right, timeout=30)
        assert response.status_code == 429, response.text
        assert response.json()["error"] == TOO_MANY
