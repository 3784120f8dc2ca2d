"""Passkeys (WebAuthn) end to end, against a software authenticator written for the tests."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pyotp
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask
from flask.testing import FlaskClient

from store import database
from tests.api.passkey_authenticator import SoftwareAuthenticator, b64url
from tests.api.rate_limit_checks import ATTACKER, assert_too_many_requests, limited_app
from tests.helpers import PASSWORD, log_in, sign_up, sign_up_and_log_in

REGISTER_OPTIONS = "/users/passkeys/register/options"
LOGIN_OPTIONS = "/users/login/passkey/options"
LOGIN = "/users/login/passkey"
REFUSED = {"message": "Passkey not recognised", "data": None, "error": "Unauthorized"}


def register(
    client: FlaskClient,
    headers: dict[str, str],
    authenticator: SoftwareAuthenticator | None = None,
    **body: Any,
) -> tuple[SoftwareAuthenticator, Any]:
    """Register a passkey of a (new) software authenticator; return it and the answer."""
    authenticator = authenticator or SoftwareAuthenticator()
    options = client.post(REGISTER_OPTIONS, headers=headers, json={"password": PASSWORD})
    assert options.status_code == 200, options.json
    credential = authenticator.register(options.json["data"])
    response = client.post(
        "/users/passkeys", headers=headers, json={"credential": credential, **body}
    )
    return authenticator, response


def registered(client: FlaskClient, headers: dict[str, str], **bend: Any) -> SoftwareAuthenticator:
    """Return an authenticator whose passkey is registered to the headers' user."""
    authenticator, response = register(client, headers, SoftwareAuthenticator(**bend))
    assert response.status_code == 201, response.json
    return authenticator


def login_options(client: FlaskClient, email: str | None = None) -> dict[str, Any]:
    """Return the request options of a new passkey login (with an email, if given)."""
    response = client.post(LOGIN_OPTIONS, json={} if email is None else {"email": email})
    assert response.status_code == 200, response.json
    return response.json["data"]


def log_in_with(
    client: FlaskClient, authenticator: SoftwareAuthenticator, email: str | None = None, **bend: Any
) -> Any:
    """Log in with the authenticator's passkey; bend changes its assertion (origin, key ...)."""
    credential = authenticator.assert_login(login_options(client, email), **bend)
    return client.post(LOGIN, json={"credential": credential})


def bearer(response: Any) -> dict[str, str]:
    """Return the Authorization header of a login's answer."""
    return {"Authorization": f"Bearer {response.json['data']['token']}"}


def passkey_records(db: Any) -> list[dict[str, Any]]:
    """Return the stored credentials."""
    return list(db.passkeys.find())


def sessions_of(db: Any, user: dict[str, Any]) -> int:
    """Return how many sessions were opened for the user."""
    return db.sessions.count_documents({"user_id": user["_id"]})


# Registration and login --------------------------------------------------------------------------


def test_registered_passkey_logs_in_with_working_tokens_and_a_listed_session(
    client, user, auth_headers, db
):
    authenticator, added = register(client, auth_headers, name="  Laptop  ")

    assert added.status_code == 201, added.json
    assert added.json["message"] == "Passkey registered"
    passkey = added.json["data"]
    assert set(passkey) == {"_id", "name", "created_at", "last_used_at"}
    assert passkey["name"] == "Laptop" and passkey["last_used_at"] is None
    response = log_in_with(client, authenticator)

    assert response.status_code == 200, response.json
    assert response.json["message"] == "Successfully fetched auth token"
    data = response.json["data"]
    assert set(data) == {"_id", "name", "email", "active", "token", "refresh_token", "expires_in"}
    assert data["_id"] == user["_id"] and data["email"] == "ada@example.com"
    books = client.get("/books/", headers=bearer(response))
    assert books.status_code == 200 and books.json["data"] == []
    listed = client.get("/users/sessions", headers=bearer(response)).json["data"]
    assert len(listed) == 2 and [s["current"] for s in listed].count(True) == 1
    passkeys = client.get("/users/passkeys", headers=auth_headers).json
    assert passkeys["message"] == "successfully retrieved passkeys"
    assert [p["_id"] for p in passkeys["data"]] == [passkey["_id"]]
    assert passkeys["data"][0]["last_used_at"] is not None
    assert passkey_records(db)[0]["sign_count"] == 1
    assert db.passkey_challenges.count_documents({}) == 0


def test_registration_options_exclude_existing_passkeys_and_prefer_discoverable(
    client, user, auth_headers
):
    authenticator = registered(client, auth_headers)

    response = client.post(REGISTER_OPTIONS, headers=auth_headers, json={"password": PASSWORD})

    assert response.status_code == 200, response.json
    options = response.json["data"]
    assert options["rp"] == {"id": "localhost", "name": "Book Library"}
    assert options["user"]["name"] == "ada@example.com"
    assert options["authenticatorSelection"]["residentKey"] == "preferred"
    assert options["authenticatorSelection"]["userVerification"] == "preferred"
    assert [c["id"] for c in options["excludeCredentials"]] == [b64url(authenticator.credential_id)]
    assert {"type": "public-key", "alg": -7} in options["pubKeyCredParams"]
    assert options["timeout"] > 0


def test_default_names_count_the_users_passkeys(client, user, auth_headers):
    registered(client, auth_headers)
    _, second = register(client, auth_headers)

    assert second.status_code == 201, second.json
    assert second.json["data"]["name"] == "Passkey 2"


def test_login_options_list_a_users_passkeys_and_reveal_nothing_for_an_unknown_email(
    client, user, auth_headers, db
):
    authenticator = registered(client, auth_headers)

    known = login_options(client, " ADA@example.com")
    unknown = login_options(client, "nobody@example.com")

    assert [c["id"] for c in known["allowCredentials"]] == [b64url(authenticator.credential_id)]
    assert unknown["allowCredentials"] == []
    fields = {"challenge", "rpId", "allowCredentials", "userVerification", "timeout"}
    assert set(unknown) == set(known) == fields
    assert unknown["rpId"] == "localhost" and unknown["userVerification"] == "preferred"
    assert known["challenge"] != unknown["challenge"]
    assert db.passkey_challenges.count_documents({"user_id": user["_id"]}) == 1
    assert db.passkey_challenges.count_documents({}) == 2


def test_registration_needs_the_current_password(client, user, auth_headers, db):
    response = client.post(REGISTER_OPTIONS, headers=auth_headers, json={"password": "Wrong-1a!"})

    assert response.status_code == 400, response.json
    assert response.json == {
        "message": "Invalid data",
        "data": None,
        "error": {"password": "password is incorrect"},
    }
    assert db.passkey_challenges.count_documents({}) == 0


# Refused responses -------------------------------------------------------------------------------


def test_a_replayed_login_challenge_is_refused(client, user, auth_headers, db):
    authenticator = registered(client, auth_headers)
    credential = authenticator.assert_login(login_options(client))
    first = client.post(LOGIN, json={"credential": credential})
    assert first.status_code == 200, first.json
    sessions = sessions_of(db, user)

    again = client.post(LOGIN, json={"credential": credential})

    assert again.status_code == 401, again.json
    assert again.json == REFUSED
    assert again.headers["WWW-Authenticate"] == "Bearer"
    assert sessions_of(db, user) == sessions


def test_an_expired_challenge_is_refused(client, user, auth_headers, db):
    authenticator = registered(client, auth_headers)
    credential = authenticator.assert_login(login_options(client))
    past = datetime.now(UTC) - timedelta(seconds=1)
    db.passkey_challenges.update_many({}, {"$set": {"expires_at": past}})
    sessions = sessions_of(db, user)

    response = client.post(LOGIN, json={"credential": credential})

    assert response.status_code == 401, response.json
    assert response.json == REFUSED
    assert sessions_of(db, user) == sessions
    assert passkey_records(db)[0]["sign_count"] == 0
    assert passkey_records(db)[0]["last_used_at"] is None


@pytest.mark.parametrize(
    "bend",
    [
        {"origin": "https://evil.example.com"},
        {"origin": "http://localhost:5001"},
        {"rp_id": "evil.example.com"},
        {"key": ec.generate_private_key(ec.SECP256R1())},
    ],
    ids=["another-origin", "another-port", "another-rp-id", "wrong-signature"],
)
def test_a_login_response_failing_a_check_is_refused(client, user, auth_headers, db, bend):
    authenticator = registered(client, auth_headers)
    sessions = sessions_of(db, user)

    response = log_in_with(client, authenticator, **bend)

    assert response.status_code == 401, response.json
    assert response.json == REFUSED
    assert sessions_of(db, user) == sessions
    stored = passkey_records(db)[0]
    assert stored["sign_count"] == 0 and stored["last_used_at"] is None
    assert db.passkey_challenges.count_documents({}) == 0


@pytest.mark.parametrize(
    "bend", [{"origin": "https://evil.example.com"}, {"rp_id": "evil.example.com"}]
)
def test_a_registration_for_another_origin_or_relying_party_stores_nothing(
    client, user, auth_headers, db, bend
):
    options = client.post(REGISTER_OPTIONS, headers=auth_headers, json={"password": PASSWORD})
    credential = SoftwareAuthenticator().register(options.json["data"], **bend)

    response = client.post("/users/passkeys", headers=auth_headers, json={"credential": credential})

    assert response.status_code == 401, response.json
    assert response.json == REFUSED
    assert passkey_records(db) == []
    assert db.passkey_challenges.count_documents({}) == 0


def test_a_counter_going_backwards_is_refused_and_logged(client, user, auth_headers, db, caplog):
    authenticator = registered(client, auth_headers)
    assert log_in_with(client, authenticator, count=5).status_code == 200
    sessions = sessions_of(db, user)

    with caplog.at_level(logging.WARNING, logger="auth.passkeys"):
        response = log_in_with(client, authenticator, count=3)

    assert response.status_code == 401, response.json
    assert response.json == REFUSED
    assert passkey_records(db)[0]["sign_count"] == 5
    assert sessions_of(db, user) == sessions
    warnings = [r.getMessage() for r in caplog.records if r.name == "auth.passkeys"]
    assert len(warnings) == 1 and "counter went backwards" in warnings[0]


def test_a_forged_response_with_a_low_counter_is_not_logged_as_a_clone(
    client, user, auth_headers, caplog
):
    authenticator = registered(client, auth_headers)
    assert log_in_with(client, authenticator, count=5).status_code == 200

    with caplog.at_level(logging.WARNING, logger="auth.passkeys"):
        forged = ec.generate_private_key(ec.SECP256R1())
        response = log_in_with(client, authenticator, count=3, key=forged)

    assert response.status_code == 401 and response.json == REFUSED
    assert [r for r in caplog.records if r.name == "auth.passkeys"] == []


def test_another_users_credential_cannot_answer_a_login_bound_to_a_user(
    client, user, auth_headers, other_headers, db
):
    registered(client, other_headers)
    adas = registered(client, auth_headers)
    sessions = sessions_of(db, user)

    # Options for Grace (her passkey listed), answered by Ada's authenticator.
    response = log_in_with(client, adas, "grace@example.com")

    assert response.status_code == 401, response.json
    assert response.json == REFUSED
    assert sessions_of(db, user) == sessions


def test_a_credential_registered_by_one_user_cannot_be_registered_again(
    client, user, auth_headers, other_headers, db
):
    adas = registered(client, auth_headers)

    # The same credential id, with another key: Grace claiming Ada's credential.
    claimed = SoftwareAuthenticator(credential_id=adas.credential_id)
    _, response = register(client, other_headers, claimed)

    assert response.status_code == 401, response.json
    assert response.json == REFUSED
    stored = passkey_records(db)
    assert len(stored) == 1 and stored[0]["user_id"] == user["_id"]
    assert client.get("/users/passkeys", headers=other_headers).json["data"] == []


def test_a_registration_answering_another_users_challenge_is_refused(
    client, user, auth_headers, other_headers, db
):
    options = client.post(REGISTER_OPTIONS, headers=auth_headers, json={"password": PASSWORD})
    credential = SoftwareAuthenticator().register(options.json["data"])

    response = client.post(
        "/users/passkeys", headers=other_headers, json={"credential": credential}
    )

    assert response.status_code == 401, response.json
    assert response.json == REFUSED
    assert passkey_records(db) == []
    # Ada's ceremony is untouched: hers to finish.
    assert db.passkey_challenges.count_documents({"user_id": user["_id"]}) == 1


def test_a_user_handle_of_another_user_is_refused(client, user, auth_headers, other_headers, db):
    adas = registered(client, auth_headers)
    grace = registered(client, other_headers)
    adas.user_handle = grace.user_handle

    response = log_in_with(client, adas)

    assert response.status_code == 401, response.json
    assert response.json == REFUSED


# Deleting ----------------------------------------------------------------------------------------


def test_a_deleted_passkey_no_longer_logs_in(client, user, auth_headers, db):
    authenticator = registered(client, auth_headers)
    passkey_id = client.get("/users/passkeys", headers=auth_headers).json["data"][0]["_id"]

    deleted = client.delete(f"/users/passkeys/{passkey_id}", headers=auth_headers)

    assert deleted.status_code == 204 and deleted.data == b""
    listed = client.get("/users/passkeys", headers=auth_headers)
    assert listed.status_code == 200 and listed.json["data"] == []
    response = log_in_with(client, authenticator)
    assert response.status_code == 401 and response.json == REFUSED
    assert passkey_records(db) == []


@pytest.mark.parametrize("passkey_id", ["665f1c2e8b3a4d5e6f708192", "not-an-id", "others"])
def test_deleting_an_unknown_malformed_or_other_users_passkey_is_404(
    client, user, auth_headers, other_headers, db, passkey_id
):
    registered(client, other_headers)
    if passkey_id == "others":
        passkey_id = str(passkey_records(db)[0]["_id"])

    response = client.delete(f"/users/passkeys/{passkey_id}", headers=auth_headers)

    assert response.status_code == 404, response.json
    assert response.json == {"message": "Passkey not found", "data": None, "error": "Not Found"}
    assert len(passkey_records(db)) == 1


def test_disabling_the_account_removes_its_passkeys_and_challenges(client, user, auth_headers, db):
    registered(client, auth_headers)
    login_options(client, "ada@example.com")
    client.post(REGISTER_OPTIONS, headers=auth_headers, json={"password": PASSWORD})
    assert db.passkey_challenges.count_documents({"user_id": user["_id"]}) == 2

    response = client.delete("/users/", headers=auth_headers, json={"password": PASSWORD})

    assert response.status_code == 204, response.json
    assert passkey_records(db) == []
    assert db.passkey_challenges.count_documents({"user_id": user["_id"]}) == 0


# Two factors -------------------------------------------------------------------------------------


def enable_totp(client: FlaskClient, headers: dict[str, str]) -> pyotp.TOTP:
    """Turn two-factor authentication on for the headers' user; return its TOTP."""
    setup = client.post("/users/2fa/setup", headers=headers, json={"password": PASSWORD})
    totp = pyotp.TOTP(setup.json["data"]["secret"])
    enabled = client.post(
        "/users/2fa/enable", headers=headers, json={"password": PASSWORD, "otp": totp.now()}
    )
    assert enabled.status_code == 200, enabled.json
    return totp


def test_a_user_verifying_passkey_is_two_factors(client, user, auth_headers, db):
    authenticator = registered(client, auth_headers)
    enable_totp(client, auth_headers)
    refused_password = client.post(
        "/users/login", json={"email": "ada@example.com", "password": PASSWORD}
    )
    assert refused_password.json["error"] == "otp_required"

    response = log_in_with(client, authenticator)

    assert response.status_code == 200, response.json
    assert response.json["data"]["_id"] == user["_id"]
    assert client.get("/books/", headers=bearer(response)).status_code == 200


def test_a_passkey_without_user_verification_is_refused_when_two_factor_is_on(
    client, user, auth_headers, db
):
    authenticator = registered(client, auth_headers, user_verified=False)
    enable_totp(client, auth_headers)
    sessions = sessions_of(db, user)

    response = log_in_with(client, authenticator)

    assert response.status_code == 401, response.json
    assert response.json == REFUSED
    assert sessions_of(db, user) == sessions
    assert passkey_records(db)[0]["sign_count"] == 0


def test_a_passkey_without_user_verification_logs_in_without_two_factor(client, user, auth_headers):
    authenticator = registered(client, auth_headers, user_verified=False)

    response = log_in_with(client, authenticator)

    assert response.status_code == 200, response.json
    assert response.json["data"]["email"] == "ada@example.com"


def test_an_unverified_email_is_refused_when_verification_is_required(make_app):
    app = make_app(REQUIRE_EMAIL_VERIFICATION=True)
    client = app.test_client()
    sign_up(client, "ada@example.com")
    with app.app_context():
        database.get_db().users.update_one({}, {"$set": {"email_verified": True}})
        headers = {"Authorization": f"Bearer {log_in(client, 'ada@example.com')}"}
        authenticator = registered(client, headers)
        database.get_db().users.update_one({}, {"$set": {"email_verified": False}})

        response = log_in_with(client, authenticator)

        assert response.status_code == 403, response.json
        assert response.json == {
            "message": "Please confirm your email address first: use the link we emailed you",
            "data": None,
            "error": "email_not_verified",
        }
        assert database.get_db().passkeys.find_one()["sign_count"] == 0


# Rate limits, malformed bodies, races ------------------------------------------------------------


def test_failed_passkey_logins_are_rate_limited_per_address(make_app):
    app = limited_app(make_app, RATELIMIT_LOGIN_PER_ADDRESS="2 per minute")
    client = app.test_client()
    headers = sign_up_and_log_in(client, "ada@example.com")
    authenticator = registered(client, headers)
    forged = ec.generate_private_key(ec.SECP256R1())
    for _ in range(2):
        options = login_options(client)
        credential = authenticator.assert_login(options, key=forged)
        failed = client.post(LOGIN, json={"credential": credential}, environ_overrides=ATTACKER)
        assert failed.status_code == 401 and failed.json == REFUSED

    credential = authenticator.assert_login(login_options(client))
    response = client.post(LOGIN, json={"credential": credential}, environ_overrides=ATTACKER)

    assert_too_many_requests(response, 60)
    with app.app_context():
        db = database.get_db()
        assert db.passkeys.find_one()["sign_count"] == 0
        assert db.passkey_challenges.count_documents({}) == 1
    # Another address is not held back by these failures.
    assert client.post(LOGIN, json={"credential": credential}).status_code == 200


def test_begun_passkey_logins_are_rate_limited_per_address(make_app):
    app = limited_app(make_app, RATELIMIT_PASSKEY_OPTIONS_PER_ADDRESS="3 per minute")
    client = app.test_client()
    for _ in range(3):
        answer = client.post(LOGIN_OPTIONS, json={}, environ_overrides=ATTACKER)
        assert answer.status_code == 200 and answer.json["data"]["challenge"]

    response = client.post(LOGIN_OPTIONS, json={}, environ_overrides=ATTACKER)

    assert_too_many_requests(response, 60)
    with app.app_context():
        assert database.get_db().passkey_challenges.count_documents({}) == 3
    # Another address is not held back.
    assert client.post(LOGIN_OPTIONS, json={}).status_code == 200


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (None, "credential must be a WebAuthn AuthenticationResponseJSON object"),
        ({"credential": "abc"}, "credential must be a WebAuthn AuthenticationResponseJSON object"),
        ({"credential": []}, "credential must be a WebAuthn AuthenticationResponseJSON object"),
        (
            {"credential": {"id": "x"}},
            "credential must be a WebAuthn AuthenticationResponseJSON object",
        ),
        ({"other": 1}, "credential must be a WebAuthn AuthenticationResponseJSON object"),
    ],
    ids=["no-body", "string", "array", "missing-fields", "no-credential"],
)
def test_a_malformed_login_body_is_400_naming_credential(client, user, db, body, message):
    login_options(client)

    response = client.post(LOGIN, json=body) if body is not None else client.post(LOGIN)

    assert response.status_code == 400, response.json
    assert response.json == {
        "message": "Invalid data",
        "data": None,
        "error": {"credential": message},
    }
    assert db.passkey_challenges.count_documents({}) == 1
    assert sessions_of(db, user) == 0


def test_a_credential_with_bad_base64_is_400_and_spends_nothing(client, user, auth_headers, db):
    authenticator = registered(client, auth_headers)
    credential = authenticator.assert_login(login_options(client))
    credential["response"]["signature"] = 42

    response = client.post(LOGIN, json={"credential": credential})

    assert response.status_code == 400, response.json
    assert list(response.json["error"]) == ["credential"]
    assert db.passkey_challenges.count_documents({}) == 1


@pytest.mark.parametrize(
    ("extra", "error"),
    [
        ({"name": "   "}, {"name": "name must be a string of 1 to 64 characters"}),
        ({"name": "x" * 65}, {"name": "name must be a string of 1 to 64 characters"}),
        ({"name": 7}, {"name": "name must be a string of 1 to 64 characters"}),
        (
            {"credential": "abc"},
            {"credential": "credential must be a WebAuthn RegistrationResponseJSON object"},
        ),
    ],
)
def test_a_malformed_registration_is_400_and_stores_nothing(
    client, user, auth_headers, db, extra, error
):
    options = client.post(REGISTER_OPTIONS, headers=auth_headers, json={"password": PASSWORD})
    credential = SoftwareAuthenticator().register(options.json["data"])

    body = {"credential": credential, **extra}
    response = client.post("/users/passkeys", headers=auth_headers, json=body)

    assert response.status_code == 400, response.json
    assert response.json == {"message": "Invalid data", "data": None, "error": error}
    assert passkey_records(db) == []
    assert db.passkey_challenges.count_documents({}) == 1


def test_login_options_refuse_an_email_that_is_not_a_string(client, db):
    response = client.post(LOGIN_OPTIONS, json={"email": ["ada@example.com"]})

    assert response.status_code == 400, response.json
    assert response.json == {
        "message": "Invalid data",
        "data": None,
        "error": {"email": "email must be a string"},
    }
    assert db.passkey_challenges.count_documents({}) == 0


def test_two_concurrent_finishes_of_one_challenge_log_in_once(app: Flask, user, auth_headers, db):
    client = app.test_client()
    authenticator = registered(client, auth_headers)
    credential = authenticator.assert_login(login_options(client))
    sessions = sessions_of(db, user)
    start = threading.Barrier(2)

    def finish(_: int) -> tuple[int, dict[str, Any]]:
        start.wait(timeout=30)
        response = app.test_client().post(LOGIN, json={"credential": credential})
        return response.status_code, response.json

    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = sorted(pool.map(finish, range(2)), key=lambda answer: answer[0])

    assert [status for status, _ in answers] == [200, 401]
    assert answers[0][1]["message"] == "Successfully fetched auth token"
    assert answers[1][1] == REFUSED
    assert sessions_of(db, user) == sessions + 1
