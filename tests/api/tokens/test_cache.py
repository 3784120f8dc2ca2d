"""The cache of verified access tokens: what it skips, and what it never skips."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from bson import ObjectId
from flask.testing import FlaskClient
from jwt.utils import base64url_decode, base64url_encode

import auth_middleware
from auth_middleware import token_cache
from tests.api.tokens.checks import (
    OTHER_KEY,
    assert_invalid_token,
    assert_profile,
    bearer,
    forge,
    with_claims_changed,
)
from tests.helpers import PASSWORD, TEST_SECRET_KEY, log_in

# The cache of verified tokens ---------------------------------------------------------------------


def unverified_claims(token: str) -> dict[str, Any]:
    """Return a token's claims, read without PyJWT (which the decodes fixture counts)."""
    return json.loads(base64url_decode(token.split(".")[1]))


def with_signature_byte_flipped(token: str, index: int) -> str:
    """Return the token with one byte of its decoded signature changed."""
    header, payload, signature = token.split(".")
    raw = bytearray(base64url_decode(signature))
    raw[index] ^= 0x01
    return f"{header}.{payload}.{base64url_encode(bytes(raw)).decode()}"


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Return the tokens PyJWT verifies in full from now on, in order."""
    verified: list[str] = []
    real_decode = jwt.decode

    def counting_decode(token: str, *args: Any, **kwargs: Any) -> Any:
        verified.append(token)
        return real_decode(token, *args, **kwargs)

    monkeypatch.setattr(jwt, "decode", counting_decode)
    return verified


@pytest.fixture
def set_clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[float], None]:
    """Return a function that sets the time token lifetimes are checked against."""

    def set_to(moment: float) -> None:
        monkeypatch.setattr(auth_middleware, "clock", lambda: moment)

    return set_to


def test_a_token_seen_before_is_not_verified_again(
    client: FlaskClient, user: dict[str, Any], decodes: list[str]
) -> None:
    token = log_in(client, user["email"])

    responses = [client.get("/users/", headers=bearer(token)) for _ in range(3)]

    for response in responses:
        assert_profile(response, user)
    assert decodes == [token]


LEEWAY = 5  # TOKEN_LEEWAY_SECONDS's default


@pytest.mark.parametrize("after_expiry", [0, 0.5, 3600], ids=["at-exp", "half-second", "hour"])
def test_a_cached_token_is_refused_once_it_expires(
    client: FlaskClient,
    user: dict[str, Any],
    set_clock: Callable[[float], None],
    after_expiry: float,
) -> None:
    token = log_in(client, user["email"])
    expires = unverified_claims(token)["exp"]
    assert_profile(client.get("/users/", headers=bearer(token)), user)
    set_clock(expires + LEEWAY - 1)
    assert_profile(client.get("/users/", headers=bearer(token)), user)

    set_clock(expires + LEEWAY + after_expiry)

    assert_invalid_token(client.get("/users/", headers=bearer(token)))


def test_a_cached_token_is_refused_when_the_clock_is_before_its_issue(
    client: FlaskClient, user: dict[str, Any], set_clock: Callable[[float], None]
) -> None:
    token = log_in(client, user["email"])
    assert_profile(client.get("/users/", headers=bearer(token)), user)

    # PyJWT refuses a token issued in the future; a clock stepped back must not change that.
    set_clock(unverified_claims(token)["iat"] - LEEWAY - 1)

    assert_invalid_token(client.get("/users/", headers=bearer(token)))


@pytest.mark.parametrize("ahead", [0.5, 2, LEEWAY - 1])
def test_a_token_from_an_instance_slightly_ahead_is_accepted(
    client: FlaskClient, user: dict[str, Any], user_id: str, ahead: float
) -> None:
    issued = time.time() + ahead
    token = forge(user_id, iat=int(issued + 0.999), nbf=int(issued + 0.999))

    assert_profile(client.get("/users/", headers=bearer(token)), user)


def test_a_token_from_an_instance_ahead_by_more_than_the_leeway_is_refused(
    client: FlaskClient, user_id: str
) -> None:
    issued = int(time.time()) + LEEWAY + 30
    token = forge(user_id, iat=issued, nbf=issued, exp=issued + 900)

    assert_invalid_token(client.get("/users/", headers=bearer(token)))


def test_a_token_just_past_its_expiry_is_accepted_within_the_leeway(
    client: FlaskClient, user: dict[str, Any], user_id: str
) -> None:
    now = int(time.time())
    token = forge(user_id, iat=now - 900, nbf=now - 900, exp=now - 1)

    assert_profile(client.get("/users/", headers=bearer(token)), user)


def test_the_leeway_is_a_setting(make_app: Callable[..., Any], user_id: str) -> None:
    strict = make_app(TOKEN_LEEWAY_SECONDS=0).test_client()
    now = int(time.time())
    token = forge(user_id, iat=now - 900, nbf=now - 900, exp=now - 1)

    assert_invalid_token(strict.get("/users/", headers=bearer(token)))


def revoke_by_logout(client: FlaskClient, db: Any, token: str, other: str) -> None:
    """End the token's session by logging out with it."""
    assert client.post("/users/logout", headers=bearer(token)).status_code == 204


def revoke_from_another_session(client: FlaskClient, db: Any, token: str, other: str) -> None:
    """End the token's session from another session of the same user."""
    sid = unverified_claims(token)["sid"]
    response = client.delete(f"/users/sessions/{sid}", headers=bearer(other))
    assert response.status_code == 204


def revoke_by_password_change(client: FlaskClient, db: Any, token: str, other: str) -> None:
    """End every other session by changing the password from another session."""
    body = {"current_password": PASSWORD, "new_password": "Brand-New-Horse-7"}
    assert client.put("/users/password", json=body, headers=bearer(other)).status_code == 200


def revoke_by_deleting_the_user(client: FlaskClient, db: Any, token: str, other: str) -> None:
    """Remove the user from the database behind the app's back."""
    user_id = unverified_claims(token)["sub"]
    assert db.users.delete_one({"_id": ObjectId(user_id)}).deleted_count == 1


REVOCATIONS = {
    "logout": revoke_by_logout,
    "revoked-from-another-session": revoke_from_another_session,
    "password-changed-elsewhere": revoke_by_password_change,
    "user-deleted": revoke_by_deleting_the_user,
}


@pytest.mark.parametrize("revoke", REVOCATIONS.values(), ids=REVOCATIONS.keys())
def test_a_cached_token_of_an_ended_session_is_refused(
    client: FlaskClient, db: Any, user: dict[str, Any], revoke: Callable[..., None]
) -> None:
    token = log_in(client, user["email"])
    other = log_in(client, user["email"])
    assert_profile(client.get("/users/", headers=bearer(token)), user)

    revoke(client, db, token, other)

    assert_invalid_token(client.get("/users/", headers=bearer(token)))
    assert_invalid_token(client.get("/books/", headers=bearer(token)))


def test_the_cache_never_holds_more_tokens_than_its_size(
    app: Any,
    client: FlaskClient,
    user: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    decodes: list[str],
) -> None:
    monkeypatch.setattr(auth_middleware, "ACCESS_TOKEN_CACHE_SIZE", 2)
    tokens = [log_in(client, user["email"]) for _ in range(4)]

    for token in tokens:
        assert_profile(client.get("/users/", headers=bearer(token)), user)
        with app.app_context():
            assert len(token_cache()) <= 2

    # The oldest fell out and is verified again; the newest is still held.
    assert_profile(client.get("/users/", headers=bearer(tokens[0])), user)
    assert_profile(client.get("/users/", headers=bearer(tokens[0])), user)
    assert decodes == [*tokens, tokens[0]]
    with app.app_context():
        assert len(token_cache()) == 2


@pytest.mark.parametrize("index", [0, 13, 31])
def test_a_token_with_one_flipped_signature_byte_is_refused(
    client: FlaskClient, user: dict[str, Any], index: int
) -> None:
    token = log_in(client, user["email"])
    assert_profile(client.get("/users/", headers=bearer(token)), user)

    tampered = with_signature_byte_flipped(token, index)

    assert_invalid_token(client.get("/users/", headers=bearer(tampered)))
    assert_invalid_token(client.get("/users/", headers=bearer(tampered)))
    assert_profile(client.get("/users/", headers=bearer(token)), user)


def test_a_cached_token_with_its_payload_changed_is_refused(
    client: FlaskClient, user: dict[str, Any]
) -> None:
    token = log_in(client, user["email"])
    assert_profile(client.get("/users/", headers=bearer(token)), user)

    tampered = with_claims_changed(token, exp=int(time.time()) + 10 * 365 * 24 * 3600)

    assert_invalid_token(client.get("/users/", headers=bearer(tampered)))


def test_a_token_of_a_previous_key_is_verified_once_after_rotation(
    make_app: Callable[..., Any], user: dict[str, Any], decodes: list[str]
) -> None:
    token = log_in(make_app().test_client(), user["email"])
    rotated = make_app(SECRET_KEY=OTHER_KEY, PREVIOUS_SECRET_KEYS=TEST_SECRET_KEY).test_client()

    responses = [rotated.get("/users/", headers=bearer(token)) for _ in range(2)]

    for response in responses:
        assert_profile(response, user)
    assert decodes == [token]


def test_a_token_cached_by_one_app_is_refused_by_an_app_without_its_key(
    make_app: Callable[..., Any], user: dict[str, Any]
) -> None:
    first = make_app().test_client()
    token = log_in(first, user["email"])
    assert_profile(first.get("/users/", headers=bearer(token)), user)

    other = make_app(SECRET_KEY=OTHER_KEY).test_client()

    assert_invalid_token(other.get("/users/", headers=bearer(token)))


def test_a_cached_token_is_refused_once_its_key_is_retired(
    make_app: Callable[..., Any], user: dict[str, Any]
) -> None:
    token = log_in(make_app().test_client(), user["email"])
    rotated = make_app(SECRET_KEY=OTHER_KEY, PREVIOUS_SECRET_KEYS=TEST_SECRET_KEY)
    assert_profile(rotated.test_client().get("/users/", headers=bearer(token)), user)

    rotated.config["PREVIOUS_SECRET_KEYS"] = []

    assert_invalid_token(rotated.test_client().get("/users/", headers=bearer(token)))
