"""The user routes: sign-up, profile, rename and disable, plus the app-wide error envelope."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from bson import ObjectId

from tests.helpers import PASSWORD, log_in, sign_up, sign_up_and_log_in

BAD_REQUEST_BODY = {"message": "Please provide user details", "data": None, "error": "Bad request"}
NEW_USER = {"name": "Ada Lovelace", "email": "ada@example.com", "password": PASSWORD}


def test_root_answers_hello_world_as_plain_text(client):
    response = client.get("/")

    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert response.get_data(as_text=True) == "Hello World!"


def test_sign_up_answers_the_public_user(client):
    response = client.post("/users/", json=NEW_USER)

    assert response.status_code == 201
    assert response.json["message"] == "Successfully created new user"
    data = response.json["data"]
    assert set(data) == {"_id", "name", "email", "active"}
    assert ObjectId.is_valid(data["_id"])
    assert data | {"_id": None} == {
        "_id": None,
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "active": True,
    }


def test_sign_up_stores_an_argon2id_hash_never_the_password(client, db):
    client.post("/users/", json=NEW_USER)

    stored = db.users.find_one({"email": "ada@example.com"})
    assert stored["password_hash"].startswith("$argon2id$")
    assert PASSWORD not in str(stored)
    assert "password" not in stored


def test_sign_up_trims_and_lower_cases_the_email_and_collapses_the_name(client, db):
    response = client.post(
        "/users/",
        json={"name": "  Ada   Lovelace ", "email": "  Ada@Example.COM ", "password": PASSWORD},
    )

    assert response.status_code == 201
    assert response.json["data"]["email"] == "ada@example.com"
    assert response.json["data"]["name"] == "Ada Lovelace"
    assert db.users.count_documents({"email": "ada@example.com"}) == 1


@pytest.mark.parametrize("email", ["ada@example.com", "ADA@example.com", "  ada@Example.com  "])
def test_sign_up_with_a_registered_email_is_a_conflict(client, db, user, email):
    response = client.post("/users/", json={**NEW_USER, "email": email})

    assert response.status_code == 409
    assert response.json == {"message": "User already exists", "data": None, "error": "Conflict"}
    assert db.users.count_documents({}) == 1


def test_email_of_a_disabled_account_can_sign_up_again(client, db, user, auth_headers):
    client.delete("/users/", headers=auth_headers)

    response = client.post("/users/", json=NEW_USER)

    assert response.status_code == 201
    assert response.json["data"]["_id"] != user["_id"]
    assert db.users.count_documents({"email": "ada@example.com"}) == 2
    assert db.users.count_documents({"email": "ada@example.com", "active": True}) == 1


def test_sign_up_with_invalid_fields_names_only_those_fields(client, db):
    response = client.post(
        "/users/", json={"name": "Ada", "email": "ada@example.com", "password": "short"}
    )

    assert response.status_code == 400
    assert response.json["message"] == "Invalid data"
    assert response.json["data"] is None
    assert set(response.json["error"]) == {"name", "password"}
    assert db.users.count_documents({}) == 0


def test_sign_up_with_a_common_password_says_so(client, db):
    response = client.post("/users/", json={**NEW_USER, "password": "P@ssword123"})

    assert response.status_code == 400
    assert "common" in response.json["error"]["password"]
    assert db.users.count_documents({}) == 0


@pytest.mark.parametrize(
    "body",
    [b"", b"{not json", b"[]", b'["a"]', b"{}", b"null", b'"text"', b"42"],
    ids=["empty", "malformed", "empty-array", "array", "empty-object", "null", "string", "number"],
)
def test_sign_up_without_a_json_object_asks_for_user_details(client, db, body):
    response = client.post("/users/", data=body, content_type="application/json")

    assert response.status_code == 400
    assert response.json == BAD_REQUEST_BODY
    assert db.users.count_documents({}) == 0


def test_sign_up_with_pathologically_nested_json_asks_for_user_details(client, db):
    response = client.post(
        "/users/", data=b"[" * 100_000 + b"]" * 100_000, content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json == BAD_REQUEST_BODY
    assert db.users.count_documents({}) == 0


def test_sign_up_with_no_body_at_all_asks_for_user_details(client, db):
    response = client.post("/users/")

    assert response.status_code == 400
    assert response.json == BAD_REQUEST_BODY


@pytest.mark.parametrize(
    "content_type", ["application/x-www-form-urlencoded", "multipart/form-data", "text/plain"]
)
def test_sign_up_with_another_content_type_is_415(client, db, content_type):
    body = "name=Ada+Lovelace&email=ada%40example.com"
    response = client.post("/users/", data=body, content_type=content_type)

    assert response.status_code == 415
    assert response.json["data"] is None
    assert response.json["error"] == "Unsupported Media Type"
    assert "application/json" in response.json["message"]
    assert db.users.count_documents({}) == 0


def test_profile_answers_the_caller(client, user, auth_headers):
    response = client.get("/users/", headers=auth_headers)

    assert response.status_code == 200
    assert response.json == {
        "message": "successfully retrieved user profile",
        "data": {
            "_id": user["_id"],
            "name": "Ada Lovelace",
            "email": "ada@example.com",
            "active": True,
        },
    }


def test_rename_answers_200_with_the_new_name(client, db, user, auth_headers):
    response = client.put("/users/", json={"name": "Augusta Ada King"}, headers=auth_headers)

    assert response.status_code == 200
    assert response.json["message"] == "successfully updated account"
    assert response.json["data"] == {
        "_id": user["_id"],
        "name": "Augusta Ada King",
        "email": "ada@example.com",
        "active": True,
    }
    assert db.users.find_one({"_id": ObjectId(user["_id"])})["name"] == "Augusta Ada King"


def test_rename_ignores_every_other_field(client, db, user, auth_headers):
    response = client.put(
        "/users/",
        json={"name": "Ada King", "email": "evil@example.com", "active": False, "role": "admin"},
        headers=auth_headers,
    )

    assert response.status_code == 200
    stored = db.users.find_one({"_id": ObjectId(user["_id"])})
    assert stored["email"] == "ada@example.com"
    assert stored["active"] is True
    assert "role" not in stored


@pytest.mark.parametrize("name", ["Ada", "", None, 42, ["Ada", "King"], {"$ne": None}])
def test_rename_with_an_invalid_name_changes_nothing(client, db, user, auth_headers, name):
    response = client.put("/users/", json={"name": name}, headers=auth_headers)

    assert response.status_code == 400
    assert response.json["message"] == "Invalid data"
    assert set(response.json["error"]) == {"name"}
    assert db.users.find_one({"_id": ObjectId(user["_id"])})["name"] == "Ada Lovelace"


def test_rename_without_a_body_asks_for_user_details(client, user, auth_headers):
    response = client.put("/users/", headers=auth_headers)

    assert response.status_code == 400
    assert response.json == BAD_REQUEST_BODY


def test_disable_answers_204_with_an_empty_body_and_keeps_the_record(
    client, db, user, auth_headers
):
    response = client.delete("/users/", headers=auth_headers)

    assert response.status_code == 204
    assert response.data == b""
    stored = db.users.find_one({"_id": ObjectId(user["_id"])})
    assert not stored["active"]  # nx-27017 stores a $set False as 0
    assert stored["email"] == "ada@example.com"


def test_disabled_account_can_no_longer_log_in(client, user, auth_headers):
    client.delete("/users/", headers=auth_headers)

    response = client.post("/users/login", json={"email": user["email"], "password": PASSWORD})

    assert response.status_code == 401
    assert response.json["message"] == "Error fetching auth token!, invalid email or password"


def test_disabling_keeps_the_users_books(client, db, user, auth_headers, book):
    client.delete("/users/", headers=auth_headers)

    assert db.books.count_documents({"user_id": user["_id"]}) == 1


def test_disabling_voids_the_accounts_emailed_links(client, db, user, auth_headers):
    assert (
        client.post("/users/password/forgot", json={"email": "ada@example.com"}).status_code == 202
    )
    # The link is made and mailed in the background: wait until it is stored.
    deadline = time.monotonic() + 30
    while not db.email_tokens.count_documents({"user_id": user["_id"]}):
        assert time.monotonic() < deadline, "no reset link was stored"
        time.sleep(0.01)

    response = client.delete("/users/", headers=auth_headers)

    assert response.status_code == 204
    assert db.email_tokens.count_documents({"user_id": user["_id"]}) == 0


def test_user_routes_need_a_token(client, db):
    for method in ("get", "put", "delete"):
        response = getattr(client, method)("/users/")
        assert response.status_code == 401
        assert response.json["message"] == "Authentication Token is missing!"


def test_unknown_route_answers_404_json(client):
    response = client.get("/no/such/route")

    assert response.status_code == 404
    assert response.json == {"message": "Endpoint Not Found", "data": None, "error": "Not Found"}


def test_wrong_method_answers_405_json_with_allow(client):
    response = client.patch("/users/")

    assert response.status_code == 405
    assert response.json == {
        "message": "Method Not Allowed",
        "data": None,
        "error": "Method Not Allowed",
    }
    assert {"GET", "POST", "PUT", "DELETE"} <= set(response.headers["Allow"].split(", "))


def test_unexpected_error_answers_a_generic_500_without_details(app, client, caplog):
    def broken() -> None:
        raise RuntimeError("secret internal detail")

    app.add_url_rule("/broken", view_func=broken)

    response = client.get("/broken", headers={"X-Request-ID": "req-123"})

    assert response.status_code == 500
    assert response.json == {
        "message": "Something went wrong",
        "data": None,
        "error": "Internal Server Error",
    }
    assert "secret internal detail" not in response.get_data(as_text=True)
    assert "req-123" in caplog.text


def test_options_answers_204_with_allow_and_no_body(client):
    response = client.options("/books/")

    assert response.status_code == 204
    assert response.data == b""
    assert {"GET", "POST"} <= set(response.headers["Allow"].split(", "))


def test_request_id_is_echoed_or_made(client):
    given = client.get("/", headers={"X-Request-ID": "abc-123"})
    made = client.get("/")

    assert given.headers["X-Request-ID"] == "abc-123"
    assert len(made.headers["X-Request-ID"]) == 32


def test_second_user_sees_only_their_own_profile(client, user, other_headers):
    response = client.get("/users/", headers=other_headers)

    assert response.status_code == 200
    assert response.json["data"]["email"] == "grace@example.com"
    assert response.json["data"]["_id"] != user["_id"]


def test_signed_up_user_can_log_in(client):
    sign_up(client, "alan@example.com", "Alan Turing")

    assert log_in(client, "alan@example.com").count(".") == 2


# Disabling from an older session needs the password ----------------------------------------------

REAUTH_REQUIRED = {
    "message": "Confirm with your current password to disable this account",
    "data": None,
    "error": "reauthentication_required",
}


def age_sessions(db, seconds: int = 3600) -> None:
    """Move every session's login time back, as if it had logged in `seconds` ago."""
    logged_in = datetime.now(UTC) - timedelta(seconds=seconds)
    db.sessions.update_many({}, {"$set": {"created_at": logged_in}})


def assert_still_active(client, db, user, auth_headers) -> None:
    """Check the account is active and the session still open."""
    assert db.users.find_one({"_id": ObjectId(user["_id"])})["active"]
    assert client.get("/users/", headers=auth_headers).status_code == 200


def test_disable_from_an_old_session_without_the_password_is_403(client, db, user, auth_headers):
    age_sessions(db)

    response = client.delete("/users/", headers=auth_headers)

    assert response.status_code == 403
    assert response.json == REAUTH_REQUIRED
    assert_still_active(client, db, user, auth_headers)


def test_disable_from_an_old_session_with_the_password_is_204(client, db, user, auth_headers):
    age_sessions(db)

    response = client.delete("/users/", headers=auth_headers, json={"password": PASSWORD})

    assert response.status_code == 204
    assert response.data == b""
    assert not db.users.find_one({"_id": ObjectId(user["_id"])})["active"]
    assert client.get("/users/", headers=auth_headers).status_code == 401


@pytest.mark.parametrize("aged", [True, False], ids=["old-session", "fresh-session"])
def test_disable_with_a_wrong_password_is_400(client, db, user, auth_headers, aged):
    if aged:
        age_sessions(db)

    response = client.delete("/users/", headers=auth_headers, json={"password": "Wrong-Horse-1"})

    assert response.status_code == 400
    assert response.json == {
        "message": "Invalid data",
        "data": None,
        "error": {"password": "password is incorrect"},
    }
    assert_still_active(client, db, user, auth_headers)


def test_refreshing_does_not_restart_the_reauthentication_clock(client, db, user):
    tokens = client.post("/users/login", json={"email": user["email"], "password": PASSWORD})
    age_sessions(db)
    refreshed = client.post(
        "/users/token/refresh", json={"refresh_token": tokens.json["data"]["refresh_token"]}
    )
    headers = {"Authorization": f"Bearer {refreshed.json['data']['token']}"}

    response = client.delete("/users/", headers=headers)

    assert refreshed.status_code == 200
    assert response.status_code == 403
    assert response.json == REAUTH_REQUIRED
    assert_still_active(client, db, user, headers)


def test_a_zero_reauthentication_window_always_asks(make_app):
    app = make_app(REAUTH_WINDOW=0)
    client = app.test_client()
    headers = sign_up_and_log_in(client, "ada@example.com")

    refused = client.delete("/users/", headers=headers)
    accepted = client.delete("/users/", headers=headers, json={"password": PASSWORD})

    assert refused.status_code == 403
    assert refused.json == REAUTH_REQUIRED
    assert accepted.status_code == 204
