"""Rate limits on sign-up and login: per account, per address, the account ceiling."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient

from store import database
from tests.api.rate_limit_checks import (
    ATTACKER,
    OWNER,
    RIGHT_LOGIN,
    assert_login_failed,
    assert_too_many_requests,
    counted,
    fail_login,
    limited_app,
    stored_counters,
)
from tests.helpers import PASSWORD, CommandLog, real_server_only, sign_up

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

    with app.app_context():
        # The second is over: move every window's end into the past rather than wait for it.
        database.get_db().rate_limits.update_many({}, {"$set": {"window_end": time.time() - 1}})
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


@real_server_only  # counts the wire commands a real client sends
def test_a_login_reserves_each_counter_in_one_step_and_a_success_refunds_them_at_once(make_app):
    log = CommandLog()
    app = limited_app(
        make_app,
        MONGO_CLIENT_CLASS=log.client,
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
