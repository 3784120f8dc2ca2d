"""Rate limits on two-factor codes, and the client address the limits count."""

from __future__ import annotations

import time

import pytest
from flask import Flask

from config import ConfigError, parse_trusted_proxies
from store import database
from tests.api.rate_limit_checks import (
    ATTACKER,
    OTHER_ATTACKER,
    OWNER,
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
from web.client_address import client_address
from web.ratelimit import init_rate_limits

# Two-factor logins -------------------------------------------------------------------------------


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
    app.config.update(
        TRUSTED_PROXIES=parse_trusted_proxies(trusted_proxies), RATELIMIT_ENABLED=False
    )
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
