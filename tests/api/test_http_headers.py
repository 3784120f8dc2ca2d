"""Security, caching and CORS headers on every kind of answer."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask, Response
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from app import create_app
from config import ConfigError, parse_origins
from tests.api.http_checks import (
    API_CASES,
    COVER_CACHE_DIRECTIVES,
    COVER_CASES,
    ORIGIN,
    OTHER_ORIGIN,
    Kit,
    assert_body,
    assert_security_headers,
    cache_directives,
    untouchable_database_config,
)

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


@pytest.mark.parametrize(
    ("header", "set_by_view", "answered"),
    [
        # A version number in Server tells an attacker which exploits to try.
        ("Server", "Werkzeug/3.1.9", []),
        ("X-Content-Type-Options", "no", ["nosniff"]),
    ],
    ids=["server-dropped", "nosniff-kept"],
)
def test_a_hygiene_header_wins_over_what_a_view_set(make_app, header, set_by_view, answered):
    app = make_app()
    app.add_url_rule("/view", view_func=lambda: Response("hi", headers={header: set_by_view}))

    response = app.test_client().get("/view")

    assert response.status_code == 200
    assert response.data == b"hi"
    assert response.headers.getlist(header) == answered


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
    origins = parse_origins(
        "CORS_ORIGINS", " https://App.Example.com:443 ,http://localhost:3000,, "
    )

    assert origins == ["https://app.example.com", "http://localhost:3000"]


def test_cors_origins_accept_a_list():
    assert parse_origins("CORS_ORIGINS", ["http://a.example:80", "https://b.example"]) == [
        "http://a.example",
        "https://b.example",
    ]


def test_empty_cors_origins_means_cors_is_off():
    assert parse_origins("CORS_ORIGINS", "") == []
    assert parse_origins("CORS_ORIGINS", None) == []


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
