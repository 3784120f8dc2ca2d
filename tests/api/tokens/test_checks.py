"""Access tokens on protected routes: valid, missing and invalid, on every route."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from bson import ObjectId
from flask.testing import FlaskClient

from crypto.keys import key_id
from tests.api.tokens.checks import (
    DROP,
    OTHER_KEY,
    assert_invalid_token,
    assert_missing_token,
    assert_profile,
    bearer,
    claims_for,
    forge,
    forge_with_longer_hash,
    segment,
    with_claims_changed,
)

# Valid tokens -------------------------------------------------------------------------------------


def test_forged_token_with_the_app_claims_is_accepted(
    client: FlaskClient, user: dict[str, Any], user_id: str
) -> None:
    assert_profile(client.get("/users/", headers=bearer(forge(user_id))), user)


def test_login_token_opens_the_profile(
    client: FlaskClient, user: dict[str, Any], auth_headers: dict[str, str]
) -> None:
    assert_profile(client.get("/users/", headers=auth_headers), user)


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "BeArEr"])
def test_bearer_scheme_is_case_insensitive(
    client: FlaskClient, user: dict[str, Any], user_id: str, scheme: str
) -> None:
    response = client.get("/users/", headers={"Authorization": f"{scheme} {forge(user_id)}"})
    assert_profile(response, user)


def test_spaces_around_the_token_are_ignored(
    client: FlaskClient, user: dict[str, Any], user_id: str
) -> None:
    response = client.get("/users/", headers={"Authorization": f"Bearer   {forge(user_id)}  "})
    assert_profile(response, user)


def test_book_route_accepts_a_valid_token(
    client: FlaskClient, auth_headers: dict[str, str]
) -> None:
    response = client.get("/books/", headers=auth_headers)
    assert response.status_code == 200
    assert response.json["message"] == "successfully retrieved all books"
    assert response.json["data"] == []


# Missing tokens -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [None, "", "   ", "Bearer", "Bearer ", "Bearer    ", "bearer  "],
    ids=["no-header", "empty", "blank", "bearer-alone", "bearer-space", "bearer-spaces", "lower"],
)
def test_request_without_a_token_is_told_it_is_missing(
    client: FlaskClient, user: dict[str, Any], authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    assert_missing_token(client.get("/users/", headers=headers))


@pytest.mark.parametrize("parameter", ["token", "access_token"])
def test_token_in_query_string_is_ignored(
    client: FlaskClient, user_id: str, parameter: str
) -> None:
    response = client.get("/users/", query_string={parameter: forge(user_id)})
    assert_missing_token(response)


def test_book_route_without_a_token_is_told_it_is_missing(client: FlaskClient) -> None:
    assert_missing_token(client.get("/books/"))


# Invalid tokens -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [
        lambda token: "Basic YWRhOnBhc3N3b3Jk",
        lambda token: f"Token {token}",
        lambda token: f"JWT {token}",
        lambda token: token,
        lambda token: f"Bearer {token} {token}",
        lambda token: f"Bearer {token} extra",
        lambda token: f"Bearer: {token}",
    ],
    ids=[
        "basic",
        "token-scheme",
        "jwt-scheme",
        "no-scheme",
        "two-tokens",
        "trailing-word",
        "colon-after-scheme",
    ],
)
def test_malformed_authorization_header_is_refused(
    client: FlaskClient, user_id: str, authorization: Callable[[str], str]
) -> None:
    response = client.get("/users/", headers={"Authorization": authorization(forge(user_id))})
    assert_invalid_token(response)


BAD_TOKENS: dict[str, Callable[[str], str]] = {
    "garbage": lambda user_id: "not-a-jwt",
    "three-garbage-parts": lambda user_id: "abc.def.ghi",
    "non-ascii": lambda user_id: "\u00fc\u00fc.\u00fc\u00fc.\u00fc\u00fc",
    "two-parts": lambda user_id: ".".join(forge(user_id).split(".")[:2]),
    "empty-signature": lambda user_id: ".".join([*forge(user_id).split(".")[:2], ""]),
    "four-parts": lambda user_id: forge(user_id) + ".abc",
    "header-not-an-object": lambda user_id: ".".join(
        [segment(["HS256"]), *forge(user_id).split(".")[1:]]
    ),
    "tampered-payload": lambda user_id: with_claims_changed(
        forge(user_id), exp=int(time.time()) + 10 * 365 * 24 * 3600
    ),
    "bad-signature": lambda user_id: forge(user_id, key=OTHER_KEY),
    "alg-none": lambda user_id: jwt.encode(claims_for(user_id), None, algorithm="none"),
    "alg-none-with-signature": lambda user_id: ".".join(
        [segment({"alg": "none", "typ": "JWT"}), *forge(user_id).split(".")[1:]]
    ),
    "hs384": lambda user_id: forge_with_longer_hash(user_id, "HS384"),
    "hs512": lambda user_id: forge_with_longer_hash(user_id, "HS512"),
    "expired": lambda user_id: forge(
        user_id,
        iat=int(time.time()) - 7200,
        nbf=int(time.time()) - 7200,
        exp=int(time.time()) - 60,
    ),
    "nbf-in-future": lambda user_id: forge(user_id, nbf=int(time.time()) + 3600),
    "iat-in-future": lambda user_id: forge(
        user_id, iat=int(time.time()) + 3600, exp=int(time.time()) + 7200
    ),
    "exp-not-a-number": lambda user_id: forge(user_id, exp="tomorrow"),
    "missing-exp": lambda user_id: forge(user_id, exp=DROP),
    "missing-iat": lambda user_id: forge(user_id, iat=DROP),
    "missing-sub": lambda user_id: forge(user_id, sub=DROP),
    "missing-jti": lambda user_id: forge(user_id, jti=DROP),
    "missing-sid": lambda user_id: forge(user_id, sid=DROP),
    "sid-unknown": lambda user_id: forge(user_id, sid=str(ObjectId())),
    "sid-number": lambda user_id: forge(user_id, sid=12345),
    "sid-operator": lambda user_id: forge(user_id, sid={"$ne": None}),
    "missing-kid": lambda user_id: forge(user_id, headers={"kid": DROP}),
    "kid-unknown": lambda user_id: forge(user_id, headers={"kid": "0123456789abcdef"}),
    "kid-of-another-key": lambda user_id: forge(
        user_id, key=OTHER_KEY, headers={"kid": key_id(OTHER_KEY)}
    ),
    "kid-path-traversal": lambda user_id: forge(user_id, headers={"kid": "../../secret_key"}),
    "sub-number": lambda user_id: forge(int(user_id, 16)),
    "sub-operator": lambda user_id: forge({"$ne": None}),
    "sub-list": lambda user_id: forge([user_id]),
    "sub-not-an-object-id": lambda user_id: forge("not-an-object-id"),
    "sub-empty": lambda user_id: forge(""),
    "sub-unknown-id": lambda user_id: forge(str(ObjectId())),
    "jti-number": lambda user_id: forge(user_id, jti=12345),
    "type-refresh": lambda user_id: forge(user_id, type="refresh"),
    "type-empty": lambda user_id: forge(user_id, type=""),
    "type-missing": lambda user_id: forge(user_id, type=DROP),
    "header-jwk": lambda user_id: forge(
        user_id, headers={"jwk": {"kty": "oct", "k": segment("attacker-key")}}
    ),
    "header-jku": lambda user_id: forge(
        user_id, headers={"jku": "https://attacker.example/keys.json"}
    ),
    "header-x5u": lambda user_id: forge(
        user_id, headers={"x5u": "https://attacker.example/cert.pem"}
    ),
    "header-x5c": lambda user_id: forge(user_id, headers={"x5c": ["MIIBIjANBgkq"]}),
    "header-crit": lambda user_id: forge(user_id, headers={"crit": ["exp"]}),
}


@pytest.mark.parametrize("make_token", BAD_TOKENS.values(), ids=BAD_TOKENS.keys())
def test_bad_token_is_refused(
    client: FlaskClient, user_id: str, make_token: Callable[[str], str]
) -> None:
    assert_invalid_token(client.get("/users/", headers=bearer(make_token(user_id))))


def test_bad_token_is_refused_by_a_book_route(client: FlaskClient, user_id: str) -> None:
    response = client.get("/books/", headers=bearer(forge(user_id, key=OTHER_KEY)))
    assert_invalid_token(response)


def test_token_with_subject_swapped_to_another_user_is_refused(
    client: FlaskClient, user_id: str, other_headers: dict[str, str]
) -> None:
    other_id = client.get("/users/", headers=other_headers).json["data"]["_id"]
    assert other_id != user_id
    token = with_claims_changed(forge(user_id), sub=other_id)
    assert_invalid_token(client.get("/users/", headers=bearer(token)))


def test_token_of_a_disabled_account_is_refused(
    client: FlaskClient, auth_headers: dict[str, str]
) -> None:
    disabled = client.delete("/users/", headers=auth_headers)
    assert disabled.status_code == 204
    assert disabled.data == b""
    assert_invalid_token(client.get("/users/", headers=auth_headers))


def test_token_of_a_deleted_user_is_refused(
    client: FlaskClient, db: Any, user_id: str, auth_headers: dict[str, str]
) -> None:
    assert db.users.delete_one({"_id": ObjectId(user_id)}).deleted_count == 1
    assert_invalid_token(client.get("/users/", headers=auth_headers))


# Every protected route ----------------------------------------------------------------------------

PROTECTED_ROUTES = [
    ("GET", "/users/"),
    ("PUT", "/users/"),
    ("DELETE", "/users/"),
    ("POST", "/books/"),
    ("GET", "/books/"),
    ("GET", "/books/{book_id}"),
    ("PUT", "/books/{book_id}"),
    ("DELETE", "/books/{book_id}"),
]
ROUTE_IDS = [f"{method} {path}" for method, path in PROTECTED_ROUTES]


def call_route(
    client: FlaskClient,
    method: str,
    path: str,
    book: dict[str, Any],
    book_form: Callable[..., dict[str, Any]],
    headers: dict[str, str],
) -> Any:
    """Call a protected route with a body that would change something if it got through."""
    url = path.format(book_id=book["_id"])
    if path == "/users/" and method == "PUT":
        return client.put(url, headers=headers, json={"name": "Mallory Intruder"})
    if method in {"POST", "PUT"}:
        return client.open(url, method=method, headers=headers, data=book_form("Intruder"))
    return client.open(url, method=method, headers=headers)


def stored_state(db: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Return every user and book document, to show that a refused request changed nothing."""
    return list(db.users.find({}, sort=[("_id", 1)])), list(db.books.find({}, sort=[("_id", 1)]))


@pytest.mark.parametrize(("method", "path"), PROTECTED_ROUTES, ids=ROUTE_IDS)
def test_every_protected_route_refuses_a_request_without_a_token(
    client: FlaskClient,
    db: Any,
    book: dict[str, Any],
    book_form: Callable[..., dict[str, Any]],
    method: str,
    path: str,
) -> None:
    before = stored_state(db)
    assert_missing_token(call_route(client, method, path, book, book_form, {}))
    assert stored_state(db) == before


@pytest.mark.parametrize(("method", "path"), PROTECTED_ROUTES, ids=ROUTE_IDS)
def test_every_protected_route_refuses_a_forged_token(
    client: FlaskClient,
    db: Any,
    book: dict[str, Any],
    book_form: Callable[..., dict[str, Any]],
    user_id: str,
    method: str,
    path: str,
) -> None:
    before = stored_state(db)
    headers = bearer(forge(user_id, key=OTHER_KEY))
    assert_invalid_token(call_route(client, method, path, book, book_form, headers))
    assert stored_state(db) == before
