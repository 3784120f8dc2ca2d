"""Tokens through the HTTP API: token_required on protected routes, and logging in."""

from __future__ import annotations

import json
import time
import uuid
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jwt
import pytest
from bson import ObjectId
from flask.testing import FlaskClient
from jwt.utils import base64url_decode, base64url_encode
from jwt.warnings import InsecureKeyLengthWarning

import auth_middleware
from app import create_app
from auth_middleware import token_cache
from crypto.keys import key_id
from store import database
from tests.helpers import PASSWORD, TEST_SECRET_KEY, base_config, log_in, sign_up

MISSING_TOKEN = {
    "message": "Authentication Token is missing!",
    "data": None,
    "error": "Unauthorized",
}
INVALID_TOKEN = {"message": "Invalid Authentication token!", "data": None, "error": "Unauthorized"}
LOGIN_FAILED = {
    "message": "Error fetching auth token!, invalid email or password",
    "data": None,
    "error": "Unauthorized",
}
BAD_REQUEST_BODY = {"message": "Please provide user details", "data": None, "error": "Bad request"}
USER_FIELDS = {"_id", "name", "email", "active"}
OTHER_KEY = "another-secret-key-of-more-than-32-bytes!!"
DROP = object()
# The open session of each signed-up user, so that forged tokens name a real session.
SESSION_IDS: dict[str, str] = {}


# Helpers ------------------------------------------------------------------------------------------


def assert_missing_token(response: Any) -> None:
    """Assert the 401 a request without a token gets."""
    assert response.status_code == 401
    assert response.json == MISSING_TOKEN
    assert response.headers["WWW-Authenticate"] == "Bearer"


def assert_invalid_token(response: Any) -> None:
    """Assert the 401 a request with a bad token gets."""
    assert response.status_code == 401
    assert response.json == INVALID_TOKEN
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'


def assert_profile(response: Any, user: dict[str, Any]) -> None:
    """Assert the 200 of GET /users/ for this user."""
    assert response.status_code == 200
    assert response.json == {
        "message": "successfully retrieved user profile",
        "data": {field: user[field] for field in USER_FIELDS},
    }


def claims_for(user_id: Any, **changes: Any) -> dict[str, Any]:
    """Return the claims the app issues for a user, with some changed (or dropped with DROP)."""
    now = int(time.time())
    claims = {
        "sub": user_id,
        "iat": now,
        "nbf": now,
        "exp": now + 3600,
        "jti": uuid.uuid4().hex,
        "type": "access",
        "sid": SESSION_IDS.get(str(user_id), "0" * 24),
    }
    for name, value in changes.items():
        if value is DROP:
            del claims[name]
        else:
            claims[name] = value
    return claims


def forge(
    user_id: Any,
    key: str = TEST_SECRET_KEY,
    algorithm: str = "HS256",
    headers: dict[str, Any] | None = None,
    **changes: Any,
) -> str:
    """Return a token signed with PyJWT, by default exactly like the app's own."""
    # The app's key id by default, so that a wrong key is refused for its signature alone.
    headers = {"kid": key_id(TEST_SECRET_KEY), **(headers or {})}
    headers = {name: value for name, value in headers.items() if value is not DROP}
    return jwt.encode(claims_for(user_id, **changes), key, algorithm=algorithm, headers=headers)


def forge_with_longer_hash(user_id: str, algorithm: str) -> str:
    """Return a token signed with the app's key but a stronger HMAC than the app uses."""
    with warnings.catch_warnings():
        # The test key is shorter than PyJWT recommends for HS384/HS512; that is not the point.
        warnings.simplefilter("ignore", InsecureKeyLengthWarning)
        return forge(user_id, algorithm=algorithm)


def segment(data: Any) -> str:
    """Return the base64url segment of a JSON value."""
    return base64url_encode(json.dumps(data).encode()).decode()


def with_claims_changed(token: str, **changes: Any) -> str:
    """Return the token with its payload changed and its original signature kept."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64url_decode(payload))
    claims.update(changes)
    return f"{header}.{segment(claims)}.{signature}"


def bearer(token: str) -> dict[str, str]:
    """Return the Authorization header for a token."""
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def user_id(client: FlaskClient, user: dict[str, Any]) -> str:
    """Return the id of the signed-up user, after opening a session that forged tokens name."""
    token = log_in(client, user["email"])
    SESSION_IDS[user["_id"]] = jwt.decode(token, options={"verify_signature": False})["sid"]
    return user["_id"]


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


# The login token ----------------------------------------------------------------------------------


def test_login_token_is_signed_with_hs256(client: FlaskClient, user: dict[str, Any]) -> None:
    token = log_in(client, user["email"])
    assert jwt.get_unverified_header(token)["alg"] == "HS256"


def test_login_token_decodes_with_the_app_key_and_names_the_user(
    client: FlaskClient, user: dict[str, Any]
) -> None:
    claims = jwt.decode(log_in(client, user["email"]), TEST_SECRET_KEY, algorithms=["HS256"])
    assert claims["sub"] == user["_id"]
    assert claims["type"] == "access"


def test_login_token_is_not_valid_under_another_key(
    client: FlaskClient, user: dict[str, Any]
) -> None:
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(log_in(client, user["email"]), OTHER_KEY, algorithms=["HS256"])


def test_login_token_lives_for_access_token_ttl(
    app: Any, client: FlaskClient, user: dict[str, Any]
) -> None:
    claims = jwt.decode(log_in(client, user["email"]), TEST_SECRET_KEY, algorithms=["HS256"])
    assert claims["exp"] - claims["iat"] == app.config["ACCESS_TOKEN_TTL"]
    assert claims["iat"] <= time.time() + 1


def test_login_token_has_a_fresh_jti_each_login(client: FlaskClient, user: dict[str, Any]) -> None:
    first = jwt.decode(log_in(client, user["email"]), TEST_SECRET_KEY, algorithms=["HS256"])
    second = jwt.decode(log_in(client, user["email"]), TEST_SECRET_KEY, algorithms=["HS256"])
    assert isinstance(first["jti"], str)
    assert first["jti"]
    assert first["jti"] != second["jti"]


def test_access_token_ttl_comes_from_configuration(backend: dict[str, Any], tmp_path: Path) -> None:
    application = create_app(
        {**base_config(tmp_path / "instance"), **backend, "ACCESS_TOKEN_TTL": 60}
    )
    try:
        client = application.test_client()
        user = sign_up(client, "ada@example.com")
        token = log_in(client, "ada@example.com")
        claims = jwt.decode(token, TEST_SECRET_KEY, algorithms=["HS256"])
        assert claims["exp"] - claims["iat"] == 60
        assert_profile(client.get("/users/", headers=bearer(token)), user)
    finally:
        database.close_client(application)


# Logging in ---------------------------------------------------------------------------------------


def test_login_answers_the_user_and_a_token(client: FlaskClient, user: dict[str, Any]) -> None:
    response = client.post("/users/login", json={"email": user["email"], "password": PASSWORD})
    assert response.status_code == 200
    assert response.json["message"] == "Successfully fetched auth token"
    assert set(response.json) == {"message", "data"}
    data = response.json["data"]
    assert set(data) == USER_FIELDS | {"token", "refresh_token", "expires_in"}
    assert {field: data[field] for field in USER_FIELDS} == {
        field: user[field] for field in USER_FIELDS
    }
    assert data["active"] is True


def test_login_never_answers_password_fields(client: FlaskClient, user: dict[str, Any]) -> None:
    response = client.post("/users/login", json={"email": user["email"], "password": PASSWORD})
    assert response.status_code == 200
    assert not {"password", "password_hash", "email_key"} & set(response.json["data"])
    assert "argon2" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "email",
    ["  ADA@Example.COM ", "ADA@EXAMPLE.COM", "ada@example.com "],
    ids=["mixed-case-and-spaces", "upper-case", "trailing-space"],
)
def test_login_email_is_trimmed_and_case_insensitive(
    client: FlaskClient, user: dict[str, Any], email: str
) -> None:
    response = client.post("/users/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200
    assert response.json["message"] == "Successfully fetched auth token"
    assert response.json["data"]["email"] == "ada@example.com"
    assert_profile(client.get("/users/", headers=bearer(response.json["data"]["token"])), user)


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("ada@example.com", "Wrong-Horse-9"),
        ("ada@example.com", PASSWORD.lower()),
        ("ada@example.com", PASSWORD + " "),
        ("nobody@example.com", PASSWORD),
        ("ada@example.com", "x"),
        ("not-an-email", "x"),
    ],
    ids=[
        "wrong-password",
        "password-wrong-case",
        "password-trailing-space",
        "unknown-email",
        "short-password-not-the-policy",
        "malformed-email-not-the-policy",
    ],
)
def test_login_failure_is_one_identical_401(
    client: FlaskClient, user: dict[str, Any], email: str, password: str
) -> None:
    response = client.post("/users/login", json={"email": email, "password": password})
    assert response.status_code == 401
    assert response.json == LOGIN_FAILED


def test_login_to_a_disabled_account_is_the_same_401(
    client: FlaskClient, user: dict[str, Any], auth_headers: dict[str, str]
) -> None:
    assert client.delete("/users/", headers=auth_headers).status_code == 204
    response = client.post("/users/login", json={"email": user["email"], "password": PASSWORD})
    assert response.status_code == 401
    assert response.json == LOGIN_FAILED


def test_login_failure_carries_a_bearer_challenge(
    client: FlaskClient, user: dict[str, Any]
) -> None:
    response = client.post("/users/login", json={"email": user["email"], "password": "Wrong-9!"})
    assert response.status_code == 401
    assert response.json == LOGIN_FAILED
    assert response.headers.get("WWW-Authenticate") == "Bearer"


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"password": PASSWORD}, {"email"}),
        ({"email": "ada@example.com"}, {"password"}),
        ({"name": "Ada Lovelace"}, {"email", "password"}),
        ({"email": "", "password": PASSWORD}, {"email"}),
        ({"email": "   ", "password": PASSWORD}, {"email"}),
        ({"email": "ada@example.com", "password": ""}, {"password"}),
        ({"email": "", "password": ""}, {"email", "password"}),
        ({"email": None, "password": PASSWORD}, {"email"}),
        ({"email": 1, "password": PASSWORD}, {"email"}),
        ({"email": True, "password": PASSWORD}, {"email"}),
        ({"email": ["ada@example.com"], "password": PASSWORD}, {"email"}),
        ({"email": "ada@example.com", "password": 12345678}, {"password"}),
        ({"email": "ada@example.com", "password": None}, {"password"}),
        ({"email": None, "password": None}, {"email", "password"}),
    ],
    ids=[
        "email-missing",
        "password-missing",
        "both-missing",
        "email-empty",
        "email-blank",
        "password-empty",
        "both-empty",
        "email-null",
        "email-number",
        "email-bool",
        "email-array",
        "password-number",
        "password-null",
        "both-null",
    ],
)
def test_login_with_missing_or_non_string_fields_names_them(
    client: FlaskClient, user: dict[str, Any], body: dict[str, Any], fields: set[str]
) -> None:
    response = client.post("/users/login", json=body)
    assert response.status_code == 400
    assert response.json["message"] == "Invalid data"
    assert response.json["data"] is None
    assert set(response.json["error"]) == fields
    assert all(field in response.json["error"][field] for field in fields)


@pytest.mark.parametrize(
    "request_options",
    [
        {},
        {"data": "", "content_type": "application/json"},
        {"data": '{"email": "ada@example.com",', "content_type": "application/json"},
        {"json": ["ada@example.com", PASSWORD]},
        {"json": {}},
        {"data": "null", "content_type": "application/json"},
        {"json": "ada@example.com"},
        {"json": 42},
    ],
    ids=[
        "no-body",
        "empty-json-body",
        "malformed-json",
        "json-array",
        "empty-object",
        "json-null",
        "json-string",
        "json-number",
    ],
)
def test_login_without_a_json_object_asks_for_user_details(
    client: FlaskClient, user: dict[str, Any], request_options: dict[str, Any]
) -> None:
    response = client.post("/users/login", **request_options)
    assert response.status_code == 400
    assert response.json == BAD_REQUEST_BODY


@pytest.mark.parametrize(
    "request_options",
    [
        {"data": {"email": "ada@example.com", "password": PASSWORD}},
        {
            "data": json.dumps({"email": "ada@example.com", "password": PASSWORD}),
            "content_type": "text/plain",
        },
    ],
    ids=["form-encoded", "json-as-text-plain"],
)
def test_login_with_another_content_type_is_415(
    client: FlaskClient, user: dict[str, Any], request_options: dict[str, Any]
) -> None:
    response = client.post("/users/login", **request_options)
    assert response.status_code == 415
    assert response.is_json
    assert response.json == {
        "message": "Content-Type must be application/json",
        "data": None,
        "error": "Unsupported Media Type",
    }


# Query operators and fields a client must not set -------------------------------------------------

OPERATORS = [{"$ne": None}, {"$gt": ""}, {"$regex": ".*"}, {"$exists": True}]
OPERATOR_IDS = ["ne", "gt", "regex", "exists"]


@pytest.mark.parametrize("operator", OPERATORS, ids=OPERATOR_IDS)
def test_sign_up_with_query_operators_names_the_fields_and_stores_nothing(
    client: FlaskClient, db: Any, operator: dict[str, Any]
) -> None:
    body = {"name": "Ada Lovelace", "email": operator, "password": operator}
    response = client.post("/users/", json=body)
    assert response.status_code == 400
    assert response.json["message"] == "Invalid data"
    assert response.json["data"] is None
    assert set(response.json["error"]) == {"email", "password"}
    assert db.users.count_documents({}) == 0


@pytest.mark.parametrize("operator", OPERATORS, ids=OPERATOR_IDS)
@pytest.mark.parametrize(
    ("operator_fields", "body"),
    [
        ({"email", "password"}, {}),
        ({"password"}, {"email": "ada@example.com"}),
        ({"email"}, {"password": PASSWORD}),
    ],
    ids=["both-fields", "password-only", "email-only"],
)
def test_login_with_query_operators_logs_nobody_in(
    client: FlaskClient,
    user: dict[str, Any],
    operator: dict[str, Any],
    operator_fields: set[str],
    body: dict[str, Any],
) -> None:
    response = client.post(
        "/users/login", json={**body, **dict.fromkeys(operator_fields, operator)}
    )
    assert response.status_code == 400
    assert response.json["message"] == "Invalid data"
    assert response.json["data"] is None
    assert set(response.json["error"]) == operator_fields
    assert "token" not in response.get_data(as_text=True)


CLIENT_ID = "0123456789abcdef01234567"
FORGED_HASH = "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$forgedforgedforgedforged"
FIELDS_CLIENTS_MUST_NOT_SET = {
    "_id": CLIENT_ID,
    "active": False,
    "role": "admin",
    "password_hash": FORGED_HASH,
    "email_key": "grace@example.com",
}


def sign_up_with_fields_clients_must_not_set(client: FlaskClient) -> Any:
    """Sign up Ada with every field a client must not be able to set."""
    body = {"name": "Ada Lovelace", "email": "ada@example.com", "password": PASSWORD}
    return client.post("/users/", json={**body, **FIELDS_CLIENTS_MUST_NOT_SET})


def test_sign_up_answer_ignores_fields_clients_must_not_set(client: FlaskClient) -> None:
    response = sign_up_with_fields_clients_must_not_set(client)
    assert response.status_code == 201
    assert response.json["message"] == "Successfully created new user"
    data = response.json["data"]
    assert set(data) == USER_FIELDS
    assert data["_id"] != CLIENT_ID
    assert data["active"] is True
    assert (data["name"], data["email"]) == ("Ada Lovelace", "ada@example.com")


def test_sign_up_stores_none_of_the_fields_clients_must_not_set(
    client: FlaskClient, db: Any
) -> None:
    response = sign_up_with_fields_clients_must_not_set(client)
    assert response.status_code == 201
    assert db.users.count_documents({}) == 1
    assert db.users.find_one({"_id": ObjectId(CLIENT_ID)}) is None
    stored = db.users.find_one({"_id": ObjectId(response.json["data"]["_id"])})
    assert "role" not in stored
    assert stored["active"] is True
    assert stored["password_hash"] != FORGED_HASH
    assert stored["email_key"] == "ada@example.com"


def test_sign_up_with_forged_password_hash_keeps_the_real_password(client: FlaskClient) -> None:
    assert sign_up_with_fields_clients_must_not_set(client).status_code == 201
    response = client.post("/users/login", json={"email": "ada@example.com", "password": PASSWORD})
    assert response.status_code == 200
    assert response.json["message"] == "Successfully fetched auth token"
    assert response.json["data"]["active"] is True


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
