"""The read path's round trips: a shelf that fits on its page is listed without its count."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.api.passkey_authenticator import SoftwareAuthenticator
from tests.helpers import PASSWORD, CommandLog, add_books, real_server_only, sign_up_and_log_in


@pytest.fixture
def logged(make_app: Callable[..., Flask]) -> tuple[FlaskClient, dict[str, str], CommandLog]:
    """Return a client of an app whose database commands are recorded, and a user's headers."""
    log = CommandLog()
    app = make_app(MONGO_CLIENT_CLASS=log.client)
    client = app.test_client()
    headers = sign_up_and_log_in(client, "ada@example.com")
    return client, headers, log


@real_server_only  # counts the wire commands a real client sends
def test_a_shelf_that_fits_on_its_page_is_listed_in_two_reads(logged):
    client, headers, log = logged
    add_books(client, headers, 3)
    log.commands.clear()

    response = client.get("/books/", headers=headers)

    assert response.status_code == 200
    assert [book["title"] for book in response.json["data"]] == ["Book 01", "Book 02", "Book 03"]
    assert response.json["pagination"] == {"page": 1, "per_page": 20, "total": 3, "pages": 1}
    # The session with its user, then the page: the page itself tells the total.
    assert log.commands == [("find", "users"), ("find", "books")]


@real_server_only  # counts the wire commands a real client sends
def test_a_full_page_reads_the_shelf_count_for_its_total(logged):
    client, headers, log = logged
    add_books(client, headers, 3)
    log.commands.clear()

    response = client.get("/books/?per_page=2", headers=headers)

    assert response.status_code == 200
    assert [book["title"] for book in response.json["data"]] == ["Book 01", "Book 02"]
    assert response.json["pagination"] == {"page": 1, "per_page": 2, "total": 3, "pages": 2}
    assert response.headers["X-Total-Count"] == "3"
    assert log.commands == [("find", "users"), ("find", "books"), ("find", "shelves")]


def test_a_last_page_answers_the_books_it_holds_whatever_the_shelf_count_says(
    client, auth_headers, db
):
    add_books(client, auth_headers, 2)
    # A count left off by a write that died (`flask books reindex` would fix it).
    db.shelves.update_many({}, {"$set": {"total": 40}})

    response = client.get("/books/", headers=auth_headers)

    assert response.status_code == 200
    assert [book["title"] for book in response.json["data"]] == ["Book 01", "Book 02"]
    assert response.json["pagination"] == {"page": 1, "per_page": 20, "total": 2, "pages": 1}
    assert response.headers["X-Total-Count"] == "2"
    assert 'rel="next"' not in response.headers["Link"]


def test_a_full_page_never_counts_fewer_books_than_it_has_seen(client, auth_headers, db):
    add_books(client, auth_headers, 3)
    db.shelves.update_many({}, {"$set": {"total": 0}})

    response = client.get("/books/?per_page=2", headers=auth_headers)

    assert response.status_code == 200
    assert [book["title"] for book in response.json["data"]] == ["Book 01", "Book 02"]
    # The page read one book past itself: there are at least 3.
    assert response.json["pagination"] == {"page": 1, "per_page": 2, "total": 3, "pages": 2}
    assert 'rel="next"' in response.headers["Link"]


@real_server_only  # counts the wire commands a real client sends
def test_a_passkey_login_reads_its_user_once(logged):
    client, headers, log = logged
    authenticator = SoftwareAuthenticator()
    options = client.post(
        "/users/passkeys/register/options", headers=headers, json={"password": PASSWORD}
    )
    credential = authenticator.register(options.json["data"])
    added = client.post("/users/passkeys", headers=headers, json={"credential": credential})
    assert added.status_code == 201, added.json
    begun = client.post("/users/login/passkey/options", json={})
    assertion = authenticator.assert_login(begun.json["data"])
    log.commands.clear()

    response = client.post("/users/login/passkey", json={"credential": assertion})

    assert response.status_code == 200, response.json
    assert response.json["message"] == "Successfully fetched auth token"
    assert response.json["data"]["email"] == "ada@example.com"
    # The user, its two-factor state and its session map come from one read, as for a password.
    assert log.commands.count(("find", "users")) == 1
