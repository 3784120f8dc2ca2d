"""The login's token, logging in, and fields a client must not set."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from bson import ObjectId
from flask.testing import FlaskClient

from app import create_app
from store import database
from tests.api.tokens.checks import (
    BAD_REQUEST_BODY,
    LOGIN_FAILED,
    OTHER_KEY,
    USER_FIELDS,
    assert_profile,
    bearer,
)
from tests.helpers import PASSWORD, TEST_SECRET_KEY, base_config, log_in, sign_up

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
