"""HTTP hygiene: security and caching headers on every answer, CORS, JSON logs, health checks."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pymongo
import pytest
from flask import Flask, Response
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from app import create_app
from config import ConfigError, load_settings
from routes import health
from store.embedded_server import free_port
from tests.helpers import PASSWORD, base_config, log_in, sign_up
from web import logs
from web.http_headers import parse_cors_origins

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
    sign_up(client, "ada@example.com")
    return client, {"Authorization": f"Bearer {log_in(client, 'ada@example.com')}"}


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


# Security and caching headers ------------------------------------------------------------------


@pytest.mark.parametrize(("status", "send"), API_CASES)
def test_api_answers_carry_security_headers_and_no_store(make_app, book_form, status, send):
    response, expected = send(Kit(make_app, book_form))

    assert response.status_code == status
    assert_body(response, expected)
    assert_security_headers(response)
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(("status", "send"), COVER_CASES)
def test_covers_keep_their_long_lived_caching_and_get_security_headers(
    make_app, book_form, status, send
):
    response, expected = send(Kit(make_app, book_form))

    assert response.status_code == status
    assert_body(response, expected)
    assert_security_headers(response)
    assert cache_directives(response) == COVER_CACHE_DIRECTIVES
    assert response.headers["ETag"]


def test_method_not_allowed_names_the_allowed_methods(client):
    response = client.patch("/users/")

    assert response.status_code == 405
    assert response.json["error"] == "Method Not Allowed"
    assert {"GET", "POST", "PUT", "DELETE"} <= set(response.headers["Allow"].split(", "))
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_a_view_keeps_its_own_content_security_policy_and_caching(make_app):
    app = make_app()
    page_policy = "default-src 'self'; frame-ancestors 'none'"

    def page() -> Response:
        response = Response("<!doctype html><title>docs</title>", mimetype="text/html")
        response.headers["Content-Security-Policy"] = page_policy
        response.headers["Cache-Control"] = "no-cache"
        return response

    app.add_url_rule("/page", view_func=page)

    response = app.test_client().get("/page")

    assert response.status_code == 200
    assert response.data == b"<!doctype html><title>docs</title>"
    assert response.headers["Content-Security-Policy"] == page_policy
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_a_server_header_set_by_a_view_is_dropped(make_app):
    app = make_app()
    app.add_url_rule(
        "/versioned", view_func=lambda: Response("hi", headers={"Server": "Werkzeug/3.1.9"})
    )

    response = app.test_client().get("/versioned")

    assert response.status_code == 200
    assert response.data == b"hi"
    assert "Server" not in response.headers


def test_nosniff_overrides_whatever_a_view_set(make_app):
    app = make_app()
    app.add_url_rule(
        "/sniffable", view_func=lambda: Response("hi", headers={"X-Content-Type-Options": "no"})
    )

    response = app.test_client().get("/sniffable")

    assert response.status_code == 200
    assert response.data == b"hi"
    assert response.headers.getlist("X-Content-Type-Options") == ["nosniff"]


# CORS ------------------------------------------------------------------------------------------


def preflight(client: FlaskClient, origin: str, headers: str = "Authorization") -> TestResponse:
    """Send a browser's preflight for a POST to /books/."""
    return client.options(
        "/books/",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": headers,
        },
    )


def cors_headers(response: TestResponse) -> dict[str, str]:
    """Return the Access-Control-* headers of a response."""
    return {
        name: value
        for name, value in response.headers.items()
        if name.lower().startswith("access-control-")
    }


@pytest.fixture
def cors_client(make_app: Callable[..., Flask]) -> FlaskClient:
    """Return a client of an app that allows ORIGIN (and a local front end)."""
    return make_app(CORS_ORIGINS=f"{ORIGIN}, http://localhost:3000").test_client()


def test_cors_is_off_by_default(client):
    response = client.get("/health", headers={"Origin": ORIGIN})

    assert response.status_code == 200
    assert response.json == {"message": "ok", "data": {"status": "ok"}}
    assert cors_headers(response) == {}


def test_preflight_gets_no_cors_headers_when_cors_is_off(client):
    response = preflight(client, ORIGIN)

    assert response.status_code == 204
    assert response.data == b""
    assert cors_headers(response) == {}


def test_allowed_origin_may_read_the_answer_and_its_headers(cors_client):
    response = cors_client.get("/health", headers={"Origin": ORIGIN})

    assert response.status_code == 200
    assert response.json == {"message": "ok", "data": {"status": "ok"}}
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    exposed = set(response.headers["Access-Control-Expose-Headers"].split(", "))
    assert exposed == {"ETag", "Link", "Location", "Retry-After", "X-Request-ID", "X-Total-Count"}
    assert "Access-Control-Allow-Credentials" not in response.headers
    assert "Origin" in response.headers["Vary"]


def test_allowed_origin_matches_whatever_its_case(cors_client):
    response = cors_client.get("/health", headers={"Origin": "https://APP.example.com"})

    assert response.status_code == 200
    assert response.json["message"] == "ok"
    assert response.headers["Access-Control-Allow-Origin"] == "https://APP.example.com"


def test_other_origin_gets_no_cors_headers(cors_client):
    response = cors_client.get("/health", headers={"Origin": OTHER_ORIGIN})

    assert response.status_code == 200
    assert response.json["message"] == "ok"
    assert cors_headers(response) == {}


def test_request_without_origin_gets_no_cors_headers(cors_client):
    response = cors_client.get("/health")

    assert response.status_code == 200
    assert response.json["message"] == "ok"
    assert cors_headers(response) == {}
    assert "Origin" in response.headers["Vary"]


def test_preflight_from_allowed_origin_is_answered(cors_client):
    response = preflight(cors_client, ORIGIN, "Authorization, Content-Type, If-Match")

    assert response.status_code == 204
    assert response.data == b""
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    methods = set(response.headers["Access-Control-Allow-Methods"].split(", "))
    assert {"GET", "POST", "PUT", "DELETE"} <= methods
    allowed = set(response.headers["Access-Control-Allow-Headers"].lower().split(", "))
    assert allowed == {"authorization", "content-type", "if-match"}
    assert response.headers["Access-Control-Max-Age"] == "600"
    assert "Access-Control-Allow-Credentials" not in response.headers
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_preflight_from_another_origin_gets_no_cors_headers(cors_client):
    response = preflight(cors_client, OTHER_ORIGIN)

    assert response.status_code == 204
    assert response.data == b""
    assert cors_headers(response) == {}


def test_preflight_does_not_allow_an_unlisted_header(cors_client):
    response = preflight(cors_client, ORIGIN, "Authorization, X-Custom-Thing")

    assert response.status_code == 204
    assert response.data == b""
    assert response.headers["Access-Control-Allow-Headers"].lower() == "authorization"


def test_preflight_from_the_second_listed_origin_is_answered(cors_client):
    response = preflight(cors_client, "http://localhost:3000")

    assert response.status_code == 204
    assert response.data == b""
    assert response.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"


def test_errors_carry_cors_headers_for_an_allowed_origin(cors_client):
    response = cors_client.get("/users/", headers={"Origin": ORIGIN})

    assert response.status_code == 401
    assert response.json["message"] == "Authentication Token is missing!"
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_cors_origins_are_normalised_as_browsers_send_them():
    origins = parse_cors_origins(" https://App.Example.com:443 ,http://localhost:3000,, ")

    assert origins == ("https://app.example.com", "http://localhost:3000")


def test_cors_origins_accept_a_list():
    assert parse_cors_origins(["http://a.example:80", "https://b.example"]) == (
        "http://a.example",
        "https://b.example",
    )


def test_empty_cors_origins_means_cors_is_off():
    assert parse_cors_origins("") == ()
    assert parse_cors_origins(None) == ()


@pytest.mark.parametrize(
    "value",
    [
        "*",
        "https://app.example.com/",
        "https://app.example.com/path",
        "app.example.com",
        "ftp://app.example.com",
        "https://app.example.com:99999",
        "https://user@app.example.com",
        "https://app.example.com?x=1",
        "https://*.example.com",
        "null",
        f"{ORIGIN},https://",
    ],
)
def test_malformed_cors_origins_stop_start_up_before_the_database_is_touched(tmp_path, value):
    with pytest.raises(ConfigError, match="CORS_ORIGINS") as error:
        create_app(untouchable_database_config(tmp_path, CORS_ORIGINS=value))

    assert "\n" not in str(error.value)


def test_wildcard_cors_origin_is_refused_with_its_reason(tmp_path):
    with pytest.raises(ConfigError, match="'\\*' is not accepted"):
        create_app(untouchable_database_config(tmp_path, CORS_ORIGINS="*"))


# Logs ------------------------------------------------------------------------------------------


def log_lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    """Return every line written to stderr so far, each parsed as JSON."""
    return [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.strip()]


def test_each_request_is_logged_as_one_json_access_line(client, capsys):
    capsys.readouterr()

    response = client.get("/nowhere", headers={"X-Request-ID": "log-test-1"})

    assert response.status_code == 404
    assert response.json["error"] == "Not Found"
    access = [line for line in log_lines(capsys) if line["logger"] == "access"]
    assert len(access) == 1
    assert access[0]["request_id"] == "log-test-1"
    assert access[0]["level"] == "INFO"
    assert access[0]["message"] == "GET /nowhere 404"
    assert {key: access[0][key] for key in ("method", "path", "status", "remote_addr")} == {
        "method": "GET",
        "path": "/nowhere",
        "status": 404,
        "remote_addr": "127.0.0.1",
    }
    assert access[0]["duration_ms"] >= 0
    assert access[0]["time"].endswith("+00:00")


def test_a_line_logged_while_serving_a_request_carries_its_request_id(make_app, capsys):
    app = make_app()

    def noisy() -> str:
        logging.getLogger("test.noisy").warning("something worth knowing")
        return "done"

    app.add_url_rule("/noisy", view_func=noisy)
    capsys.readouterr()

    response = app.test_client().get("/noisy", headers={"X-Request-ID": "log-test-2"})

    assert response.status_code == 200
    assert response.data == b"done"
    [line] = [line for line in log_lines(capsys) if line["logger"] == "test.noisy"]
    assert line == {
        "time": line["time"],
        "level": "WARNING",
        "logger": "test.noisy",
        "message": "something worth knowing",
        "request_id": "log-test-2",
    }


def test_an_unexpected_error_is_logged_in_json_with_its_traceback(make_app, capsys):
    app = make_app()

    def broken() -> None:
        raise RuntimeError("boom")

    app.add_url_rule("/broken", view_func=broken)
    capsys.readouterr()

    response = app.test_client().get("/broken", headers={"X-Request-ID": "log-test-3"})

    assert response.status_code == 500
    assert response.json["message"] == "Something went wrong"
    [line] = [line for line in log_lines(capsys) if line["level"] == "ERROR"]
    assert line["request_id"] == "log-test-3"
    assert "RuntimeError: boom" in line["exception"]


def test_the_access_line_never_holds_the_query_string(client, capsys):
    capsys.readouterr()

    response = client.get("/health?token=query-secret&password=hunter2")

    assert response.status_code == 200
    assert response.json["message"] == "ok"
    output = capsys.readouterr().err
    assert '"path": "/health"' in output
    assert "query-secret" not in output
    assert "hunter2" not in output


def test_logs_hold_no_password_and_no_token(client, capsys):
    capsys.readouterr()
    sign_up(client, "ada@example.com")
    login = client.post("/users/login", json={"email": "ada@example.com", "password": PASSWORD})
    token, refresh = login.json["data"]["token"], login.json["data"]["refresh_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    client.get("/users/", headers=bearer)
    client.get(f"/books/?token={token}", headers={"Authorization": "Bearer not-a-token"})
    refreshed = client.post("/users/token/refresh", json={"refresh_token": refresh})
    client.post("/users/login", json={"email": "ada@example.com", "password": "Wrong-Horse-9"})

    assert refreshed.status_code == 200
    output = capsys.readouterr().err
    lines = [json.loads(line) for line in output.splitlines()]
    assert len([line for line in lines if line["logger"] == "access"]) == 6
    for secret in (PASSWORD, "Wrong-Horse-9", token, refresh, refreshed.json["data"]["token"]):
        assert secret not in output
    assert "Bearer" not in output
    assert "not-a-token" not in output


def test_redaction_hides_credentials_written_by_libraries():
    record = logging.LogRecord(
        "gunicorn.error",
        logging.WARNING,
        __file__,
        1,
        "Invalid request line 'GET /x?token=%s&page=2 HTTP/1.1' (Authorization: Bearer %s)",
        ("abc.def", "eyJhbGciOi.x.y"),
        None,
    )

    line = json.loads(logs.JsonFormatter().format(record))

    assert line["message"] == (
        "Invalid request line 'GET /x?token=[redacted]&page=2 HTTP/1.1' "
        "(Authorization: Bearer [redacted])"
    )
    assert line["request_id"] is None


def test_the_access_log_can_be_turned_off(make_app, capsys):
    client = make_app(ACCESS_LOG=False).test_client()
    capsys.readouterr()

    response = client.get("/health")

    assert response.status_code == 200
    assert response.json["message"] == "ok"
    assert [line for line in log_lines(capsys) if line["logger"] == "access"] == []


def test_creating_many_apps_installs_one_log_handler(make_app):
    for _ in range(3):
        make_app()

    marked = [h for h in logging.getLogger().handlers if getattr(h, logs.HANDLER_MARK, False)]
    assert len(marked) == 1


def test_log_level_comes_from_the_settings(make_app, capsys):
    root = logging.getLogger()
    level_before = root.level
    try:
        client = make_app(LOG_LEVEL="warning").test_client()
        capsys.readouterr()

        response = client.get("/health")

        assert response.status_code == 200
        assert response.json["message"] == "ok"
        assert log_lines(capsys) == []
        assert root.level == logging.WARNING
    finally:
        root.setLevel(level_before)


def test_unknown_log_level_stops_start_up(tmp_path):
    with pytest.raises(ConfigError, match="LOG_LEVEL must be"):
        create_app(untouchable_database_config(tmp_path, LOG_LEVEL="chatty"))


def test_dev_server_request_lines_are_dropped_but_its_other_lines_kept():
    werkzeug_logger = logging.getLogger("werkzeug")
    request_line = werkzeug_logger.makeRecord(
        "werkzeug",
        logging.INFO,
        __file__,
        1,
        '127.0.0.1 - - [28/Nov/2026 10:00:00] "GET /x?token=abc HTTP/1.1" 200 -',
        (),
        None,
    )
    banner = werkzeug_logger.makeRecord(
        "werkzeug", logging.INFO, __file__, 1, " * Running on http://127.0.0.1:5000", (), None
    )

    assert logs._drop_dev_server_request_lines(request_line) is False
    assert logs._drop_dev_server_request_lines(banner) is True


# Health checks ---------------------------------------------------------------------------------


def test_health_answers_ok_without_a_token(client):
    response = client.get("/health")

    assert response.status_code == 200
    assert response.json == {"message": "ok", "data": {"status": "ok"}}


def test_health_answers_ok_while_the_database_is_down(make_app):
    client = database_down_app(make_app).test_client()

    response = client.get("/health")

    assert response.status_code == 200
    assert response.json == {"message": "ok", "data": {"status": "ok"}}


def test_ready_answers_ready_when_the_database_answers(client):
    response = client.get("/ready")

    assert response.status_code == 200
    assert response.json == {
        "message": "ready",
        "data": {"status": "ready", "database": "ok", "degraded": []},
    }


def test_ready_answers_503_with_retry_after_when_the_database_is_down(make_app):
    client = database_down_app(make_app).test_client()

    response = client.get("/ready")

    assert response.status_code == 503
    assert response.json == {
        "message": "database unreachable",
        "data": None,
        "error": "Service Unavailable",
    }
    assert response.headers["Retry-After"] == "5"


def test_ready_waits_its_own_short_timeout_not_the_database_timeout(make_app, monkeypatch):
    app = database_down_app(make_app, READY_TIMEOUT_MS=150)
    # The client is built on first use: a request waiting on this would take a minute.
    app.config["DB_TIMEOUT_MS"] = 60_000
    timeouts: list[float] = []
    real_timeout = pymongo.timeout

    def recording_timeout(seconds: float) -> Any:
        timeouts.append(seconds)
        return real_timeout(seconds)

    monkeypatch.setattr(health.pymongo, "timeout", recording_timeout)
    started = time.perf_counter()

    response = app.test_client().get("/ready")

    print(f"/ready with the database down answered in {time.perf_counter() - started:.3f} s")
    assert response.status_code == 503
    assert response.json["message"] == "database unreachable"
    assert timeouts == [0.15]


def test_health_checks_are_not_rate_limited(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_SIGNUP_PER_ADDRESS="1 per minute")
    client = app.test_client()
    sign_up(client, "ada@example.com")
    body = {"name": "Grace Hopper", "email": "grace@example.com", "password": PASSWORD}
    assert client.post("/users/", json=body).status_code == 429

    answers = [client.get(path) for path in ("/health", "/ready") * 5]

    assert [answer.status_code for answer in answers] == [200] * 10
    assert answers[-1].json["message"] == "ready"


def test_ready_timeout_must_be_a_positive_number_of_milliseconds():
    with pytest.raises(ConfigError, match="READY_TIMEOUT_MS must be at least 1"):
        load_settings({"READY_TIMEOUT_MS": "0"})
