"""Sessions: refresh rotation and reuse detection, logout, session lists, password change, keys."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from bson import ObjectId
from flask.testing import FlaskClient

import models
from auth import sessions as session_lifecycle
from auth.sessions import open_session
from crypto.keys import key_id
from tests.helpers import PASSWORD, TEST_SECRET_KEY, real_server_only, sign_up

INVALID_TOKEN = {"message": "Invalid Authentication token!", "data": None, "error": "Unauthorized"}
INVALID_REFRESH = {"message": "Invalid refresh token", "data": None, "error": "Unauthorized"}
NEW_PASSWORD = "Brand-New-Horse-7"
OTHER_KEY = "a-second-signing-key-of-at-least-32-bytes!"


def log_in(client: FlaskClient, email: str = "ada@example.com", **headers: str) -> dict:
    """Log in and return the login data (user, token, refresh_token, expires_in)."""
    response = client.post(
        "/users/login", json={"email": email, "password": PASSWORD}, headers=headers
    )
    assert response.status_code == 200, response.json
    return response.json["data"]


def bearer(data: dict[str, Any]) -> dict[str, str]:
    """Return the Authorization header of a login or refresh answer."""
    return {"Authorization": f"Bearer {data['token']}"}


def refresh(client: FlaskClient, token: str) -> Any:
    """Call the refresh route."""
    return client.post("/users/token/refresh", json={"refresh_token": token})


def profile_status(client: FlaskClient, data: dict[str, Any]) -> int:
    """Return the status of GET /users/ with a session's access token."""
    return client.get("/users/", headers=bearer(data)).status_code


def claims(token: str) -> dict[str, Any]:
    """Return a token's claims without checking it."""
    return jwt.decode(token, options={"verify_signature": False})


@pytest.fixture
def session(client: FlaskClient, user: dict[str, Any]) -> dict[str, Any]:
    """Return the data of a fresh login of the signed-up user."""
    return log_in(client)


# Login and refresh --------------------------------------------------------------------------------


def test_login_adds_a_refresh_token_and_the_access_lifetime(app, session):
    assert session["expires_in"] == app.config["ACCESS_TOKEN_TTL"] == 900
    assert session["refresh_token"].startswith("rt1.")
    assert session["refresh_token"] != session["token"]


def test_access_token_names_its_session_and_signing_key(session, db):
    header = jwt.get_unverified_header(session["token"])
    token_claims = claims(session["token"])

    assert header["kid"] == key_id(TEST_SECRET_KEY)
    assert db.sessions.find_one({"_id": ObjectId(token_claims["sid"])}) is not None


def test_refresh_tokens_are_stored_only_as_hashes(session, db):
    stored = db.sessions.find_one({"_id": ObjectId(claims(session["token"])["sid"])})

    assert session["refresh_token"] not in str(stored)
    assert session["refresh_token"].split(".")[-1] not in str(stored)
    assert len(stored["refresh_hash"]) == 64


def test_refresh_answers_a_new_working_pair(client, session):
    response = refresh(client, session["refresh_token"])

    assert response.status_code == 200
    assert response.json["message"] == "Successfully refreshed auth token"
    data = response.json["data"]
    assert set(data) == {"token", "refresh_token", "expires_in"}
    assert data["refresh_token"] != session["refresh_token"]
    assert data["token"] != session["token"]
    assert claims(data["token"])["sid"] == claims(session["token"])["sid"]
    assert profile_status(client, data) == 200


def test_a_retry_within_the_grace_window_gets_the_same_pair(client, session, db):
    first = refresh(client, session["refresh_token"])
    retry = refresh(client, session["refresh_token"])

    assert retry.status_code == 200
    assert retry.json["data"] == first.json["data"]
    assert db.sessions.find_one({"revoked": False})["generation"] == 1


def test_a_retry_is_judged_by_the_database_clock_not_the_instance_clock(
    client, session, monkeypatch
):
    first = refresh(client, session["refresh_token"])
    instance_clock = models.now
    # This instance runs 40 s ahead of the one that rotated the session (and of the database).
    for module in (models, session_lifecycle):
        monkeypatch.setattr(module, "now", lambda: instance_clock() + timedelta(seconds=40))

    retry = refresh(client, session["refresh_token"])

    assert retry.status_code == 200
    assert retry.json["data"] == first.json["data"]
    assert profile_status(client, first.json["data"]) == 200


def test_reuse_after_the_grace_window_revokes_the_whole_session(client, session, db):
    rotated = refresh(client, session["refresh_token"]).json["data"]
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    db.sessions.update_many({}, {"$set": {"rotated_at": an_hour_ago}})

    reuse = refresh(client, session["refresh_token"])

    assert reuse.status_code == 401
    assert reuse.json == INVALID_REFRESH
    assert refresh(client, rotated["refresh_token"]).status_code == 401
    assert profile_status(client, rotated) == 401


def test_reuse_of_a_token_two_generations_old_revokes_the_session(client, session):
    second = refresh(client, session["refresh_token"]).json["data"]
    third = refresh(client, second["refresh_token"]).json["data"]

    assert refresh(client, session["refresh_token"]).status_code == 401
    assert refresh(client, third["refresh_token"]).status_code == 401
    assert profile_status(client, third) == 401


@real_server_only
def test_concurrent_refreshes_of_one_token_give_one_family(client, session, db):
    results: list[Any] = []

    def attempt() -> None:
        results.append(refresh(client, session["refresh_token"]))

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [response.status_code for response in results] == [200] * 8
    assert len({response.json["data"]["refresh_token"] for response in results}) == 1
    assert db.sessions.find_one({})["generation"] == 1


@pytest.mark.parametrize(
    "body",
    [{}, {"refresh_token": None}, {"refresh_token": 42}, {"refresh_token": ["rt1"]}],
    ids=["missing", "null", "number", "list"],
)
def test_refresh_without_a_token_string_is_400(client, body):
    response = client.post("/users/token/refresh", json=body or {"other": 1})

    assert response.status_code == 400
    assert response.json["message"] == "Invalid data"
    assert set(response.json["error"]) == {"refresh_token"}


@pytest.mark.parametrize(
    "token",
    [
        "garbage",
        "rt1." + "0" * 24 + ".0." + "A" * 43,
        "rt1.{sid}.0." + "A" * 43,
        "rt1.{sid}.5.{mac}",
        "{access}",
    ],
    ids=["garbage", "unknown-session", "bad-mac", "future-generation", "access-token"],
)
def test_refresh_with_a_bad_token_is_401_and_revokes_nothing(client, session, token):
    sid = claims(session["token"])["sid"]
    mac = session["refresh_token"].rsplit(".", 1)[1]
    forged = token.format(sid=sid, mac=mac, access=session["token"])

    response = refresh(client, forged)

    assert response.status_code == 401
    assert response.json == INVALID_REFRESH
    assert refresh(client, session["refresh_token"]).status_code == 200


def test_a_refresh_token_is_not_an_access_token(client, session):
    response = client.get(
        "/users/", headers={"Authorization": f"Bearer {session['refresh_token']}"}
    )

    assert response.status_code == 401
    assert response.json == INVALID_TOKEN


def test_an_expired_session_can_neither_refresh_nor_authenticate(client, session, db):
    expired = datetime.now(UTC) - timedelta(seconds=1)
    db.sessions.update_many({}, {"$set": {"expires_at": expired}})
    sid = claims(session["token"])["sid"]
    db.users.update_many({}, {"$set": {f"sessions.{sid}": int(expired.timestamp())}})

    assert refresh(client, session["refresh_token"]).status_code == 401
    assert profile_status(client, session) == 401


# Logout and session management --------------------------------------------------------------------


def test_logout_kills_the_access_and_refresh_tokens_at_once(client, session):
    response = client.post("/users/logout", headers=bearer(session))

    assert response.status_code == 204
    assert response.data == b""
    assert profile_status(client, session) == 401
    assert refresh(client, session["refresh_token"]).json == INVALID_REFRESH


def test_logout_holds_on_another_instance_sharing_the_database(make_app, user):
    first = make_app().test_client()
    second = make_app().test_client()
    data = log_in(first)
    assert profile_status(second, data) == 200

    first.post("/users/logout", headers=bearer(data))

    assert profile_status(second, data) == 401
    assert refresh(second, data["refresh_token"]).status_code == 401


def test_logout_leaves_other_sessions_open(client, session):
    other = log_in(client)

    client.post("/users/logout", headers=bearer(session))

    assert profile_status(client, other) == 200


def test_sessions_lists_each_open_session_and_marks_the_current_one(client, session):
    other = log_in(client, **{"User-Agent": "phone-app/1.0"})
    client.post("/users/logout", headers=bearer(log_in(client)))

    response = client.get("/users/sessions", headers=bearer(session))

    assert response.status_code == 200
    assert response.json["message"] == "successfully retrieved sessions"
    listed = {item["_id"]: item for item in response.json["data"]}
    assert set(listed) == {claims(session["token"])["sid"], claims(other["token"])["sid"]}
    mine, theirs = listed[claims(session["token"])["sid"]], listed[claims(other["token"])["sid"]]
    assert mine["current"] is True
    assert theirs["current"] is False
    assert theirs["user_agent"] == "phone-app/1.0"
    assert theirs["ip"] == "127.0.0.1"
    timestamps = {"created_at", "last_used_at", "expires_at"}
    assert set(mine) == {"_id", "ip", "user_agent", "current"} | timestamps


def test_revoking_one_session_ends_only_that_one(client, session):
    other = log_in(client)

    response = client.delete(
        f"/users/sessions/{claims(other['token'])['sid']}", headers=bearer(session)
    )

    assert response.status_code == 204
    assert profile_status(client, other) == 401
    assert profile_status(client, session) == 200


@pytest.mark.parametrize("session_id", ["nope", "0" * 24, "{other}"])
def test_revoking_an_unknown_or_foreign_session_is_404(client, session, session_id):
    sign_up(client, "grace@example.com", "Grace Hopper")
    foreign = log_in(client, "grace@example.com")
    target = session_id.format(other=claims(foreign["token"])["sid"])

    response = client.delete(f"/users/sessions/{target}", headers=bearer(session))

    assert response.status_code == 404
    assert response.json == {"message": "Session not found", "data": None, "error": "Not Found"}
    assert profile_status(client, foreign) == 200


def test_revoking_all_other_sessions_keeps_the_current_one(client, session):
    others = [log_in(client), log_in(client)]

    response = client.delete("/users/sessions", headers=bearer(session))

    assert response.status_code == 204
    assert [profile_status(client, other) for other in others] == [401, 401]
    assert profile_status(client, session) == 200


def test_revoking_all_sessions_with_all_true_ends_the_current_one_too(client, session):
    other = log_in(client)

    response = client.delete("/users/sessions?all=true", headers=bearer(session))

    assert response.status_code == 204
    assert profile_status(client, other) == 401
    assert profile_status(client, session) == 401


def test_revoking_sessions_with_a_bad_all_flag_is_400(client, session):
    other = log_in(client)

    response = client.delete("/users/sessions?all=maybe", headers=bearer(session))

    assert response.status_code == 400
    assert set(response.json["error"]) == {"all"}
    assert profile_status(client, other) == 200


def test_disabling_the_account_ends_every_session(client, session):
    other = log_in(client)

    client.delete("/users/", headers=bearer(session))

    assert refresh(client, other["refresh_token"]).status_code == 401
    assert profile_status(client, other) == 401


# Password change ---------------------------------------------------------------------------------


def change_password(client: FlaskClient, session: dict, current: str, new: str) -> Any:
    """Call the password-change route."""
    return client.put(
        "/users/password",
        headers=bearer(session),
        json={"current_password": current, "new_password": new},
    )


def test_password_change_keeps_this_session_and_ends_the_others(client, session):
    other = log_in(client)

    response = change_password(client, session, PASSWORD, NEW_PASSWORD)

    assert response.status_code == 200
    assert response.json["message"] == "successfully updated password"
    assert response.json["data"]["email"] == "ada@example.com"
    assert profile_status(client, session) == 200
    assert profile_status(client, other) == 401
    assert refresh(client, other["refresh_token"]).status_code == 401


def test_after_a_password_change_only_the_new_password_logs_in(client, session):
    change_password(client, session, PASSWORD, NEW_PASSWORD)

    old = client.post("/users/login", json={"email": "ada@example.com", "password": PASSWORD})
    new = client.post("/users/login", json={"email": "ada@example.com", "password": NEW_PASSWORD})

    assert old.status_code == 401
    assert new.status_code == 200


@pytest.mark.parametrize(
    ("current", "new", "field"),
    [
        ("Wrong-Horse-9", NEW_PASSWORD, "current_password"),
        (PASSWORD, "weak", "new_password"),
        (PASSWORD, "P@ssword123", "new_password"),
        (PASSWORD, PASSWORD, "new_password"),
        ("", NEW_PASSWORD, "current_password"),
    ],
    ids=["wrong-current", "weak-new", "common-new", "same-as-current", "empty-current"],
)
def test_refused_password_change_changes_nothing(client, session, db, current, new, field):
    other = log_in(client)
    before = db.users.find_one({})["password_hash"]

    response = change_password(client, session, current, new)

    assert response.status_code == 400
    assert response.json["message"] == "Invalid data"
    assert field in response.json["error"]
    assert db.users.find_one({})["password_hash"] == before
    assert profile_status(client, other) == 200


# Key rotation ------------------------------------------------------------------------------------


def test_a_previous_key_still_verifies_after_rotation(make_app, user):
    old = make_app().test_client()
    data = log_in(old)

    rotated = make_app(SECRET_KEY=OTHER_KEY, PREVIOUS_SECRET_KEYS=TEST_SECRET_KEY).test_client()

    assert profile_status(rotated, data) == 200
    renewed = refresh(rotated, data["refresh_token"]).json["data"]
    assert jwt.get_unverified_header(renewed["token"])["kid"] == key_id(OTHER_KEY)
    assert profile_status(rotated, renewed) == 200


def test_a_removed_key_no_longer_verifies(make_app, user):
    data = log_in(make_app().test_client())

    rotated = make_app(SECRET_KEY=OTHER_KEY).test_client()

    assert profile_status(rotated, data) == 401
    assert refresh(rotated, data["refresh_token"]).status_code == 401


# A login racing a password change -----------------------------------------------------------------


def test_a_login_checked_against_a_password_changed_since_opens_no_session(
    app, client, session, db
):
    with app.test_request_context("/users/login", method="POST"):
        match = models.User().login("ada@example.com", PASSWORD)
        assert match is not None
        change = client.put(
            "/users/password",
            json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
            headers=bearer(session),
        )
        assert change.status_code == 200

        tokens = open_session(match.user["_id"], match.sessions, match.password_hash)

    assert tokens is None
    user = db.users.find_one({"email_key": "ada@example.com"})
    assert set(user["sessions"]) == {claims(session["token"])["sid"]}
    assert db.sessions.count_documents({"revoked": False}) == 1


@real_server_only
def test_no_login_with_the_old_password_keeps_a_session_after_a_change(app, client, session):
    outcomes: list[Any] = []
    start = threading.Barrier(9)

    def old_password_login() -> None:
        own = app.test_client()
        start.wait()
        for _ in range(3):
            outcomes.append(
                own.post("/users/login", json={"email": "ada@example.com", "password": PASSWORD})
            )

    def change_password() -> None:
        own = app.test_client()
        start.wait()
        body = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
        outcomes.append(own.put("/users/password", json=body, headers=bearer(session)))

    threads = [threading.Thread(target=old_password_login) for _ in range(8)]
    threads.append(threading.Thread(target=change_password))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    logins = [response for response in outcomes if response.request.path == "/users/login"]
    assert {response.status_code for response in logins} <= {200, 401}
    for response in logins:
        if response.status_code == 200:
            assert profile_status(client, response.json["data"]) == 401
    assert profile_status(client, session) == 200
