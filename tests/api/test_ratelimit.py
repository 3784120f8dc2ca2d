"""Rate limits: 429 envelope with Retry-After, what each limit counts, client addresses, storage."""

from __future__ import annotations

import hashlib
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyotp
import pytest
from flask import Flask, Response, request
from flask.testing import FlaskClient
from pymongo import MongoClient, monitoring

from app import create_app
from config import ConfigError
from store import database
from tests.helpers import PASSWORD, base_config, sign_up
from web.client_address import client_address
from web.ratelimit import init_rate_limits, limit_password_check
from web.responses import error_response, success_response

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


# Sign-up -----------------------------------------------------------------------------------------


def test_signup_over_the_address_limit_is_refused_and_creates_no_user(make_app):
    app = limited_app(make_app, RATELIMIT_SIGNUP_PER_ADDRESS="2 per minute")
    client = app.test_client()
    sign_up(client, "ada@example.com")
    sign_up(client, "grace@example.com", "Grace Hopper")

    response = client.post(
        "/users/", json={"name": "Alan Turing", "email": "alan@example.com", "password": PASSWORD}
    )

    assert_too_many_requests(response, 60)
    with app.app_context():
        assert database.get_db().users.find_one({"email": "alan@example.com"}) is None
        assert database.get_db().users.count_documents({}) == 2


def test_signup_limit_is_per_address(make_app):
    app = limited_app(make_app, RATELIMIT_SIGNUP_PER_ADDRESS="1 per minute")
    client = app.test_client()
    sign_up(client, "ada@example.com")

    response = client.post(
        "/users/",
        json={"name": "Grace Hopper", "email": "grace@example.com", "password": PASSWORD},
        environ_overrides=ATTACKER,
    )

    assert response.status_code == 201, response.json
    assert response.json["data"]["email"] == "grace@example.com"


# Login per account and per address ---------------------------------------------------------------


def test_failed_logins_over_the_account_limit_are_refused_from_that_address(make_app):
    app = limited_app(make_app, RATELIMIT_LOGIN_PER_ACCOUNT="3 per minute")
    client = app.test_client()
    sign_up(client, "ada@example.com")
    for _ in range(3):
        assert_login_failed(fail_login(client, environ_overrides=ATTACKER))

    # The right password, and the email spelt differently: still this account, from this address.
    response = client.post(
        "/users/login",
        json={"email": "  ADA@example.com", "password": PASSWORD},
        environ_overrides=ATTACKER,
    )

    assert_too_many_requests(response, 60)
    assert "token" not in response.json


def test_wrong_passwords_from_one_address_do_not_lock_out_the_owner(make_app):
    app = limited_app(make_app, RATELIMIT_LOGIN_PER_ACCOUNT="5 per minute;20 per hour")
    client = app.test_client()
    sign_up(client, "ada@example.com")
    attempts = [fail_login(client, environ_overrides=ATTACKER) for _ in range(10)]

    response = client.post("/users/login", json=RIGHT_LOGIN, environ_overrides=OWNER)

    for attempt in attempts[:5]:
        assert_login_failed(attempt)
    for attempt in attempts[5:]:
        assert_too_many_requests(attempt, 60)
    assert response.status_code == 200, response.json
    assert response.json["data"]["email"] == "ada@example.com"
    assert response.json["data"]["token"]


def test_owner_behind_a_trusted_proxy_is_not_locked_out_by_another_client(make_app):
    app = limited_app(
        make_app, RATELIMIT_LOGIN_PER_ACCOUNT="5 per minute", TRUSTED_PROXIES="10.0.0.0/8"
    )
    client = app.test_client()
    sign_up(client, "ada@example.com")
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    for _ in range(5):
        assert_login_failed(
            fail_login(client, environ_overrides=proxy, headers={"X-Forwarded-For": "203.0.113.7"})
        )

    attacker = fail_login(
        client, environ_overrides=proxy, headers={"X-Forwarded-For": "203.0.113.7"}
    )
    owner = client.post(
        "/users/login",
        json=RIGHT_LOGIN,
        environ_overrides=proxy,
        headers={"X-Forwarded-For": "192.0.2.44"},
    )

    assert_too_many_requests(attacker, 60)
    assert owner.status_code == 200, owner.json
    assert owner.json["data"]["token"]


def ceiling_reached(make_app: Callable[..., Flask]) -> tuple[Flask, FlaskClient]:
    """Return an app whose account ceiling (3 per hour) three addresses used up, and its client.

    The owner logged in from OWNER before the guessing began.
    """
    app = limited_app(make_app, RATELIMIT_LOGIN_ACCOUNT_CEILING="3 per hour")
    client = app.test_client()
    sign_up(client, "ada@example.com")
    first = client.post("/users/login", json=RIGHT_LOGIN, environ_overrides=OWNER)
    assert first.status_code == 200, first.json
    for number in range(3):
        assert_login_failed(
            fail_login(client, environ_overrides={"REMOTE_ADDR": f"203.0.113.{number}"})
        )
    return app, client


def sessions_of(app: Flask, email: str) -> int:
    """Return how many sessions the user with this email has."""
    with app.app_context():
        user = database.get_db().users.find_one({"email": email})
        return database.get_db().sessions.count_documents({"user_id": str(user["_id"])})


def test_account_ceiling_refuses_a_new_address_even_with_the_right_password(make_app):
    app, client = ceiling_reached(make_app)
    sessions = sessions_of(app, "ada@example.com")

    guess = fail_login(client, environ_overrides={"REMOTE_ADDR": "198.51.100.1"})
    right = client.post(
        "/users/login", json=RIGHT_LOGIN, environ_overrides={"REMOTE_ADDR": "198.51.100.2"}
    )

    assert_too_many_requests(guess, 3600)
    assert_too_many_requests(right, 3600)
    assert sessions_of(app, "ada@example.com") == sessions


def test_account_ceiling_lets_the_owner_log_in_from_a_known_address(make_app):
    app, client = ceiling_reached(make_app)
    sessions = sessions_of(app, "ada@example.com")

    response = client.post("/users/login", json=RIGHT_LOGIN, environ_overrides=OWNER)

    assert response.status_code == 200, response.json
    assert response.json["data"]["token"]
    assert sessions_of(app, "ada@example.com") == sessions + 1


def test_a_known_address_is_forgotten_after_the_refresh_token_lifetime(make_app):
    app, client = ceiling_reached(make_app)
    with app.app_context():
        # REFRESH_TOKEN_TTL is over: end the record's life rather than wait for it.
        database.get_db().rate_limits.update_many(
            {"_id": {"$regex": "^known-address/"}}, {"$set": {"window_end": time.time() - 1}}
        )

    response = client.post("/users/login", json=RIGHT_LOGIN, environ_overrides=OWNER)

    assert_too_many_requests(response, 3600)


def test_account_limit_leaves_other_accounts_alone(make_app):
    app = limited_app(make_app, RATELIMIT_LOGIN_PER_ACCOUNT="2 per minute")
    client = app.test_client()
    sign_up(client, "grace@example.com", "Grace Hopper")
    assert_login_failed(fail_login(client, "ada@example.com"))
    assert_login_failed(fail_login(client, "ada@example.com"))

    response = client.post(
        "/users/login", json={"email": "grace@example.com", "password": PASSWORD}
    )

    assert response.status_code == 200, response.json
    assert response.json["data"]["email"] == "grace@example.com"


def test_failed_logins_over_the_address_limit_are_refused_for_any_account(make_app):
    app = limited_app(make_app, RATELIMIT_LOGIN_PER_ADDRESS="3 per minute")
    client = app.test_client()
    for number in range(3):
        assert_login_failed(
            fail_login(client, f"user{number}@example.com", environ_overrides=ATTACKER)
        )

    response = fail_login(client, "someone-else@example.com", environ_overrides=ATTACKER)

    assert_too_many_requests(response, 60)
    assert_login_failed(fail_login(client, "someone-else@example.com"))


def test_successful_logins_are_not_counted(make_app):
    app = limited_app(
        make_app,
        RATELIMIT_LOGIN_PER_ACCOUNT="2 per minute",
        RATELIMIT_LOGIN_PER_ADDRESS="2 per minute",
    )
    client = app.test_client()
    sign_up(client, "ada@example.com")
    for _ in range(4):
        response = client.post(
            "/users/login", json={"email": "ada@example.com", "password": PASSWORD}
        )
        assert response.status_code == 200, response.json
        assert response.json["data"]["token"]

    assert_login_failed(fail_login(client))
    assert_login_failed(fail_login(client))
    assert_too_many_requests(fail_login(client), 60)


def test_refused_logins_are_not_counted_and_do_not_extend_the_lock(make_app):
    app = limited_app(make_app, RATELIMIT_LOGIN_PER_ACCOUNT="1 per minute")
    client = app.test_client()
    assert_login_failed(fail_login(client))
    for _ in range(3):
        assert_too_many_requests(fail_login(client), 60)

    counters = stored_counters(app)

    account = [counter for counter in counters if ":account/" in counter["_id"]]
    assert [counter["count"] for counter in account] == [1]
    assert "ada@example.com" not in str(counters)


def test_correct_password_works_again_after_the_window(make_app):
    app = limited_app(make_app, RATELIMIT_LOGIN_PER_ACCOUNT="2 per 1 second")
    client = app.test_client()
    sign_up(client, "ada@example.com")
    assert_login_failed(fail_login(client))
    assert_login_failed(fail_login(client))
    correct = {"email": "ada@example.com", "password": PASSWORD}
    assert_too_many_requests(client.post("/users/login", json=correct), 1)

    time.sleep(1.1)
    response = client.post("/users/login", json=correct)

    assert response.status_code == 200, response.json
    assert response.json["message"] == "Successfully fetched auth token"


def test_a_failure_after_the_window_ended_counts_in_a_new_window(make_app):
    app = limited_app(make_app, RATELIMIT_LOGIN_PER_ACCOUNT="2 per minute")
    client = app.test_client()
    assert_login_failed(fail_login(client))
    assert_login_failed(fail_login(client))
    with app.app_context():
        # The minute is over: move every window's end into the past rather than wait for it.
        database.get_db().rate_limits.update_many({}, {"$set": {"window_end": time.time() - 1}})

    responses = [fail_login(client) for _ in range(3)]

    assert_login_failed(responses[0])
    assert_login_failed(responses[1])
    assert_too_many_requests(responses[2], 60)
    account = [counter for counter in stored_counters(app) if ":account/" in counter["_id"]]
    assert [counter["count"] for counter in account] == [2]
    assert account[0]["window_end"] > time.time()


class CommandLog(monitoring.CommandListener):
    """The commands a client sent: (command name, collection)."""

    def __init__(self) -> None:
        self.commands: list[tuple[str, Any]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        """Record a command as it is sent."""
        self.commands.append((event.command_name, event.command.get(event.command_name)))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        """Nothing to record."""

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        """Nothing to record."""

    def on(self, collection: str) -> list[str]:
        """Return the names of the commands sent to one collection."""
        return [name for name, target in self.commands if target == collection]


@pytest.mark.parametrize("backend", ["nx-27017"], indirect=True)
def test_a_login_reserves_each_counter_in_one_step_and_a_success_refunds_them_at_once(make_app):
    log = CommandLog()
    app = limited_app(
        make_app,
        MONGO_CLIENT_CLASS=lambda *args, **options: MongoClient(
            *args, event_listeners=[log], **options
        ),
        RATELIMIT_LOGIN_PER_ACCOUNT="5 per minute;20 per hour",
        RATELIMIT_LOGIN_PER_ADDRESS="20 per minute;200 per hour",
    )
    client = app.test_client()
    sign_up(client, "ada@example.com")
    first = client.post("/users/login", json=RIGHT_LOGIN)
    log.commands.clear()

    success = client.post("/users/login", json=RIGHT_LOGIN)
    after_success = log.on("rate_limits")
    log.commands.clear()
    failures = [fail_login(client) for _ in range(2)]

    for response in (first, success):
        assert response.status_code == 200, response.json
        assert response.json["message"] == "Successfully fetched auth token"
    for failure in failures:
        assert_login_failed(failure)
    # The known address read once (when the ceiling's exemption is asked); per account and
    # address (2) and per address (2) each reserved by one atomic find-and-modify (the ceiling
    # skipped at a known address); then a success gives them back in one write.
    reservations = ["findAndModify"] * 4
    assert sorted(after_success[:-1]) == ["find", *reservations]
    assert after_success[-1] == "update"
    # A failure keeps its reservations: nothing to write after the answer.
    assert sorted(log.on("rate_limits")) == sorted(["find", *reservations] * 2)
    logins = [c for c in counted(stored_counters(app)) if "users.login:" in c["_id"]]
    assert [counter["count"] for counter in logins] == [2, 2, 2, 2]


def test_counter_keys_name_accounts_by_a_keyed_hash_not_a_plain_one(make_app):
    app = limited_app(make_app, RATELIMIT_LOGIN_PER_ACCOUNT="5 per minute")
    client = app.test_client()
    sign_up(client, "ada@example.com")
    assert client.post("/users/login", json=RIGHT_LOGIN).status_code == 200
    assert_login_failed(fail_login(client))

    keys = " ".join(counter["_id"] for counter in stored_counters(app))

    assert "users.login:account/" in keys and "known-address/" in keys
    assert hashlib.sha256(b"ada@example.com").hexdigest() not in keys
    assert "ada@example.com" not in keys


# Two-factor logins -------------------------------------------------------------------------------


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


def test_asking_for_the_code_is_not_a_failed_login(make_app):
    app = limited_app(
        make_app,
        RATELIMIT_LOGIN_PER_ACCOUNT="2 per minute",
        RATELIMIT_LOGIN_ACCOUNT_CEILING="2 per hour",
        RATELIMIT_LOGIN_PER_ADDRESS="2 per minute",
        RATELIMIT_OTP_PER_ACCOUNT="2 per minute",
    )
    client = app.test_client()
    codes = two_factor_user(client)

    asked = [client.post("/users/login", json=RIGHT_LOGIN) for _ in range(4)]
    response = client.post("/users/login", json={**RIGHT_LOGIN, "otp": codes[0]})

    for answer in asked:
        assert answer.status_code == 401, answer.json
        assert answer.json["error"] == "otp_required"
        assert "token" not in str(answer.json)
    assert response.status_code == 200, response.json
    assert response.json["data"]["token"]
    assert [c for c in counted(stored_counters(app)) if "users.login:" in c["_id"]] == []


def test_wrong_codes_are_limited_per_account_and_not_as_wrong_passwords(make_app):
    app = limited_app(
        make_app,
        RATELIMIT_LOGIN_PER_ACCOUNT="2 per minute",
        RATELIMIT_OTP_PER_ACCOUNT="2 per minute",
    )
    client = app.test_client()
    codes = two_factor_user(client)
    wrong = [
        client.post(
            "/users/login", json={**RIGHT_LOGIN, "otp": "000000"}, environ_overrides=address
        )
        for address in (ATTACKER, OTHER_ATTACKER)
    ]

    refused = client.post(
        "/users/login", json={**RIGHT_LOGIN, "otp": codes[0]}, environ_overrides=OWNER
    )

    for answer in wrong:
        assert answer.status_code == 401, answer.json
        assert answer.json["message"] == "Invalid two-factor authentication code"
    assert_too_many_requests(refused, 60)
    counters = [c for c in counted(stored_counters(app)) if "users.login:" in c["_id"]]
    assert [c["count"] for c in counters if ":otp/" in c["_id"]] == [2]
    assert [c for c in counters if ":otp/" not in c["_id"]] == []
    with app.app_context():
        # The minute is over: end the windows rather than wait. The refused code was not spent.
        database.get_db().rate_limits.update_many({}, {"$set": {"window_end": time.time() - 1}})
    response = client.post("/users/login", json={**RIGHT_LOGIN, "otp": codes[0]})
    assert response.status_code == 200, response.json
    assert response.json["data"]["token"]


@pytest.mark.parametrize(
    "body",
    [[1, 2], "ada@example.com", {"email": ["ada@example.com"], "password": WRONG_PASSWORD}],
)
def test_login_bodies_without_a_string_email_answer_400_and_count_nothing(make_app, body):
    app = limited_app(make_app, RATELIMIT_LOGIN_PER_ACCOUNT="1 per minute")
    client = app.test_client()

    responses = [client.post("/users/login", json=body) for _ in range(3)]

    assert [response.status_code for response in responses] == [400, 400, 400]
    assert all(response.json["data"] is None for response in responses)
    assert counted(stored_counters(app)) == []


# Client address ----------------------------------------------------------------------------------


def test_forged_forwarded_for_is_ignored_without_trusted_proxies(make_app):
    app = limited_app(make_app, RATELIMIT_LOGIN_PER_ADDRESS="2 per minute")
    client = app.test_client()
    assert_login_failed(
        fail_login(client, "a@example.com", headers={"X-Forwarded-For": "192.0.2.1"})
    )
    assert_login_failed(
        fail_login(client, "b@example.com", headers={"X-Forwarded-For": "192.0.2.2"})
    )

    response = fail_login(client, "c@example.com", headers={"X-Forwarded-For": "192.0.2.3"})

    assert_too_many_requests(response, 60)


def test_forwarded_for_is_honoured_from_a_trusted_proxy(make_app):
    app = limited_app(
        make_app,
        TRUSTED_PROXIES="127.0.0.1, 10.0.0.0/8",
        RATELIMIT_LOGIN_PER_ADDRESS="2 per minute",
    )
    client = app.test_client()
    via_proxies = {"X-Forwarded-For": "192.0.2.1, 10.1.2.3"}
    assert_login_failed(fail_login(client, "a@example.com", headers=via_proxies))
    assert_login_failed(fail_login(client, "b@example.com", headers=via_proxies))
    assert_too_many_requests(fail_login(client, "c@example.com", headers=via_proxies), 60)

    response = fail_login(client, "c@example.com", headers={"X-Forwarded-For": "192.0.2.2"})

    assert_login_failed(response)


def test_garbage_forwarded_for_from_a_trusted_proxy_counts_against_the_peer(make_app):
    app = limited_app(
        make_app, TRUSTED_PROXIES="127.0.0.1", RATELIMIT_LOGIN_PER_ADDRESS="2 per minute"
    )
    client = app.test_client()
    assert_login_failed(fail_login(client, "a@example.com", headers={"X-Forwarded-For": "junk"}))
    assert_login_failed(fail_login(client, "b@example.com", headers={"X-Forwarded-For": "1.2.3"}))

    response = fail_login(client, "c@example.com")

    assert_too_many_requests(response, 60)


def test_ipv6_clients_are_counted_per_64_block(make_app):
    app = limited_app(make_app, RATELIMIT_LOGIN_PER_ADDRESS="2 per minute")
    client = app.test_client()
    assert_login_failed(fail_login(client, environ_overrides={"REMOTE_ADDR": "2001:db8:1:2::1"}))
    assert_login_failed(fail_login(client, environ_overrides={"REMOTE_ADDR": "2001:db8:1:2::2"}))

    refused = fail_login(client, environ_overrides={"REMOTE_ADDR": "2001:db8:1:2:ffff::3"})
    elsewhere = fail_login(client, environ_overrides={"REMOTE_ADDR": "2001:db8:1:3::1"})

    assert_too_many_requests(refused, 60)
    assert_login_failed(elsewhere)


def address_app(trusted_proxies: str = "") -> Flask:
    """Return a bare app with only the rate-limit extension, to ask client_address()."""
    app = Flask(__name__)
    app.config.update(TRUSTED_PROXIES=trusted_proxies, RATELIMIT_ENABLED=False)
    init_rate_limits(app)
    return app


@pytest.mark.parametrize(
    ("trusted", "peer", "forwarded_for", "expected"),
    [
        ("", "203.0.113.7", None, "203.0.113.7"),
        ("", "203.0.113.7", "192.0.2.1", "203.0.113.7"),
        ("10.0.0.1", "203.0.113.7", "192.0.2.1", "203.0.113.7"),
        ("10.0.0.1", "10.0.0.1", None, "10.0.0.1"),
        ("10.0.0.1", "10.0.0.1", "192.0.2.1", "192.0.2.1"),
        ("10.0.0.0/8", "10.0.0.1", "198.51.100.1, 192.0.2.1, 10.9.9.9", "192.0.2.1"),
        ("10.0.0.0/8", "10.0.0.1", "10.2.2.2, 10.3.3.3", "10.2.2.2"),
        ("10.0.0.0/8", "10.0.0.1", "192.0.2.1, not-an-ip", "10.0.0.1"),
        ("10.0.0.0/8", "10.0.0.1", "192.0.2.1:443", "10.0.0.1"),
        ("10.0.0.0/8", "10.0.0.1", "", "10.0.0.1"),
        ("10.0.0.0/8", "::ffff:10.0.0.1", "192.0.2.1", "192.0.2.1"),
        ("::1", "::1", "2001:db8::7", "2001:db8::7"),
        ("fd00::/8", "fd00::1", "2001:0db8:0000::0007", "2001:db8::7"),
    ],
)
def test_client_address(trusted, peer, forwarded_for, expected):
    headers = {} if forwarded_for is None else {"X-Forwarded-For": forwarded_for}
    app = address_app(trusted)

    with app.test_request_context(headers=headers, environ_base={"REMOTE_ADDR": peer}):
        assert client_address() == expected


def test_client_address_reads_every_forwarded_for_header():
    app = address_app("10.0.0.0/8")
    headers = [("X-Forwarded-For", "198.51.100.1"), ("X-Forwarded-For", "192.0.2.1, 10.1.1.1")]

    with app.test_request_context(headers=headers, environ_base={"REMOTE_ADDR": "10.0.0.1"}):
        assert client_address() == "192.0.2.1"


def test_client_address_without_a_peer_is_unknown():
    app = address_app()

    with app.test_request_context(environ_base={"REMOTE_ADDR": ""}):
        assert client_address() == "unknown"


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("TRUSTED_PROXIES", "10.0.0.0/33"),
        ("TRUSTED_PROXIES", "proxy.internal"),
        ("RATELIMIT_LOGIN_PER_ACCOUNT", "lots"),
        ("RATELIMIT_PASSWORD_CHECK_PER_ACCOUNT", "5 per fortnight"),
        ("RATELIMIT_LOGIN_ACCOUNT_CEILING", "a hundred an hour"),
        ("RATELIMIT_OTP_PER_ACCOUNT", "5 per"),
    ],
)
def test_bad_settings_stop_start_up(make_app, setting, value):
    with pytest.raises(ConfigError) as refused:
        make_app(RATELIMIT_ENABLED=True, **{setting: value})

    assert str(refused.value).startswith(setting)
    assert "\n" not in str(refused.value)


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
