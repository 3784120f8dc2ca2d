"""What the HTTP tests share: one request of every kind, and checks of headers and envelopes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from store.embedded_server import free_port
from tests.helpers import PASSWORD, base_config, sign_up, sign_up_and_log_in

JSON_POLICY = "default-src 'none'; frame-ancestors 'none'"
COVER_CACHE_DIRECTIVES = {"public", "max-age=31536000", "immutable"}
ORIGIN = "https://app.example.com"
OTHER_ORIGIN = "https://evil.example.net"


@dataclass
class Kit:
    """What a request case needs to build its app and its request."""

    make_app: Callable[..., Flask]
    book_form: Callable[..., dict[str, Any]]


def signed_up_client(kit: Kit, **overrides: Any) -> tuple[FlaskClient, dict[str, str]]:
    """Return a client of a new app and the Authorization header of a signed-up user."""
    client = kit.make_app(**overrides).test_client()
    return client, sign_up_and_log_in(client, "ada@example.com")


def cover_path(kit: Kit) -> tuple[FlaskClient, str]:
    """Create a book and return a client and the path of its cover."""
    client, headers = signed_up_client(kit)
    created = client.post("/books/", headers=headers, data=kit.book_form())
    assert created.status_code == 201, created.json
    return client, urlsplit(created.json["data"]["image_url"]).path


def read_and_close(response: TestResponse) -> TestResponse:
    """Read a (file) response's body and close it, so no file handle is left open."""
    response.get_data()
    response.close()
    return response


def database_down_app(make_app: Callable[..., Flask], **overrides: Any) -> Flask:
    """Return an app whose database is a closed loopback port."""
    settings = {
        "DATABASE_URL": f"mongodb://127.0.0.1:{free_port()}/down",
        "MONGO_CLIENT_CLASS": None,
        "DB_TIMEOUT_MS": 100,
        "READY_TIMEOUT_MS": 100,
    }
    return make_app(**{**settings, **overrides})


def untouchable_database_config(tmp_path: Path, **overrides: Any) -> dict[str, Any]:
    """Return settings whose database fails the test if start-up gets as far as using it."""

    def refuse(*_args: Any, **_options: Any) -> None:
        raise AssertionError("start-up reached the database before refusing its settings")

    return {
        **base_config(tmp_path / "instance"),
        "DATABASE_URL": "mongodb://127.0.0.1:1/never",
        "MONGO_CLIENT_CLASS": refuse,
        **overrides,
    }


# Request cases: each returns the response and its expected body (exact bytes, or the JSON keys).


def greeting(kit: Kit) -> tuple[TestResponse, Any]:
    """GET / (200, plain text)."""
    return kit.make_app().test_client().get("/"), b"Hello World!"


def profile(kit: Kit) -> tuple[TestResponse, Any]:
    """GET /users/ with a token (200, JSON)."""
    client, headers = signed_up_client(kit)
    return client.get("/users/", headers=headers), {
        "message": "successfully retrieved user profile"
    }


def cover(kit: Kit) -> tuple[TestResponse, Any]:
    """GET a served cover (200, image)."""
    client, path = cover_path(kit)
    response = read_and_close(client.get(path))
    return response, (Path(client.application.config["COVER_DIR"]) / Path(path).name).read_bytes()


def signup(kit: Kit) -> tuple[TestResponse, Any]:
    """POST /users/ (201)."""
    body = {"name": "Ada Lovelace", "email": "ada@example.com", "password": PASSWORD}
    response = kit.make_app().test_client().post("/users/", json=body)
    return response, {"message": "Successfully created new user"}


def logout(kit: Kit) -> tuple[TestResponse, Any]:
    """POST /users/logout (204, empty)."""
    client, headers = signed_up_client(kit)
    return client.post("/users/logout", headers=headers), b""


def cover_not_modified(kit: Kit) -> tuple[TestResponse, Any]:
    """GET a cover again with its ETag (304)."""
    client, path = cover_path(kit)
    etag = read_and_close(client.get(path)).headers["ETag"]
    return read_and_close(client.get(path, headers={"If-None-Match": etag})), b""


def malformed_json(kit: Kit) -> tuple[TestResponse, Any]:
    """POST /users/ with malformed JSON (400)."""
    response = (
        kit.make_app()
        .test_client()
        .post("/users/", data="{not json", content_type="application/json")
    )
    return response, {
        "message": "Please provide user details",
        "data": None,
        "error": "Bad request",
    }


def no_token(kit: Kit) -> tuple[TestResponse, Any]:
    """GET /users/ without a token (401)."""
    return kit.make_app().test_client().get("/users/"), {
        "message": "Authentication Token is missing!",
        "data": None,
        "error": "Unauthorized",
    }


def unknown_route(kit: Kit) -> tuple[TestResponse, Any]:
    """GET an unknown route (404)."""
    return kit.make_app().test_client().get("/nowhere"), {
        "message": "Endpoint Not Found",
        "data": None,
        "error": "Not Found",
    }


def wrong_method(kit: Kit) -> tuple[TestResponse, Any]:
    """PATCH /users/ (405)."""
    return kit.make_app().test_client().patch("/users/"), {
        "message": "Method Not Allowed",
        "data": None,
        "error": "Method Not Allowed",
    }


def duplicate_signup(kit: Kit) -> tuple[TestResponse, Any]:
    """Sign up twice with one email (409)."""
    client = kit.make_app().test_client()
    body = {"name": "Ada Lovelace", "email": "ada@example.com", "password": PASSWORD}
    client.post("/users/", json=body)
    return client.post("/users/", json=body), {
        "message": "User already exists",
        "data": None,
        "error": "Conflict",
    }


def body_too_large(kit: Kit) -> tuple[TestResponse, Any]:
    """POST a body over MAX_CONTENT_LENGTH (413)."""
    client = kit.make_app(MAX_CONTENT_LENGTH=1024).test_client()
    response = client.post("/users/", json={"name": "a" * 2048})
    return response, {
        "message": "Request body is larger than 1024 bytes",
        "data": None,
        "error": "Request Entity Too Large",
    }


def form_to_json_route(kit: Kit) -> tuple[TestResponse, Any]:
    """POST form data to a JSON route (415)."""
    response = kit.make_app().test_client().post("/users/", data={"name": "Ada"})
    return response, {
        "message": "Content-Type must be application/json",
        "data": None,
        "error": "Unsupported Media Type",
    }


def too_many_signups(kit: Kit) -> tuple[TestResponse, Any]:
    """Sign up beyond the rate limit (429)."""
    app = kit.make_app(RATELIMIT_ENABLED=True, RATELIMIT_SIGNUP_PER_ADDRESS="1 per minute")
    client = app.test_client()
    sign_up(client, "ada@example.com")
    body = {"name": "Grace Hopper", "email": "grace@example.com", "password": PASSWORD}
    return client.post("/users/", json=body), {"data": None, "error": "Too Many Requests"}


def server_error(kit: Kit) -> tuple[TestResponse, Any]:
    """GET a route that raises (500)."""
    app = kit.make_app()

    def broken() -> None:
        raise RuntimeError("boom")

    app.add_url_rule("/broken", view_func=broken)
    return app.test_client().get("/broken"), {
        "message": "Something went wrong",
        "data": None,
        "error": "Internal Server Error",
    }


def database_down(kit: Kit) -> tuple[TestResponse, Any]:
    """GET /ready with the database down (503)."""
    return database_down_app(kit.make_app).test_client().get("/ready"), {
        "message": "database unreachable",
        "data": None,
        "error": "Service Unavailable",
    }


API_CASES = [
    pytest.param(200, greeting, id="200-plain-text"),
    pytest.param(200, profile, id="200-json"),
    pytest.param(201, signup, id="201"),
    pytest.param(204, logout, id="204"),
    pytest.param(400, malformed_json, id="400"),
    pytest.param(401, no_token, id="401"),
    pytest.param(404, unknown_route, id="404"),
    pytest.param(405, wrong_method, id="405"),
    pytest.param(409, duplicate_signup, id="409"),
    pytest.param(413, body_too_large, id="413"),
    pytest.param(415, form_to_json_route, id="415"),
    pytest.param(429, too_many_signups, id="429"),
    pytest.param(500, server_error, id="500"),
    pytest.param(503, database_down, id="503"),
]
COVER_CASES = [
    pytest.param(200, cover, id="200-cover"),
    pytest.param(304, cover_not_modified, id="304-cover"),
]


def assert_body(response: TestResponse, expected: Any) -> None:
    """Check exact bytes, or the given keys of a JSON body."""
    if isinstance(expected, bytes):
        assert response.data == expected
    else:
        assert {key: response.json[key] for key in expected} == expected


def assert_security_headers(response: TestResponse) -> None:
    """Check the headers every answer carries, whatever its status."""
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Content-Security-Policy"] == JSON_POLICY
    assert response.headers["X-Request-ID"]
    assert "Server" not in response.headers


def cache_directives(response: TestResponse) -> set[str]:
    """Return the Cache-Control directives of a response."""
    return {part.strip() for part in response.headers["Cache-Control"].split(",")}
