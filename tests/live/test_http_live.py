"""HTTP hygiene black-box, against `make run`'s gunicorn: headers, CORS and the JSON access log."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from store.embedded_server import stop_embedded_server
from tests.helpers import PASSWORD
from tests.live.server import LiveServer, raw_request

pytestmark = pytest.mark.integration

ORIGIN = "https://app.example.com"
JSON_POLICY = "default-src 'none'; frame-ancestors 'none'"


class LoggedLiveServer(LiveServer):
    """A live server whose stdout and stderr are kept in files, to read its logs."""

    def __init__(self, instance: Path, **settings: str) -> None:
        super().__init__(instance, keep_output=True, **settings)

    def log_lines(self, path: Path, request_id: str) -> list[dict[str, Any]]:
        """Return the JSON lines of one output file that carry this request id (waiting briefly)."""
        deadline = time.monotonic() + 10
        while True:
            lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
            found = [line for line in lines if line.get("request_id") == request_id]
            if found or time.monotonic() > deadline:
                return found
            time.sleep(0.1)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoggedLiveServer]:
    """Yield one live server that allows ORIGIN; stop it and its database afterwards."""
    live = LoggedLiveServer(tmp_path_factory.mktemp("http") / "instance", CORS_ORIGINS=ORIGIN)
    live.start()
    yield live
    live.stop()
    stop_embedded_server(live.instance)


def assert_security_headers(headers: Any) -> None:
    """Check the hygiene headers of one answer."""
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Content-Security-Policy"] == JSON_POLICY
    assert headers["Cache-Control"] == "no-store"


def test_gunicorn_names_itself_without_a_version(server):
    response = requests.get(server.url + "/", timeout=10)

    assert response.status_code == 200
    assert response.text == "Hello World!"
    # gunicorn offers no public setting for its Server header: its default carries no version.
    assert response.headers["Server"] == "gunicorn"


SIGN_UP = {"name": "Ada Lovelace", "email": "live@example.com", "password": PASSWORD}


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "message"),
    [
        ("GET", "/health", None, 200, "ok"),
        ("POST", "/users/", SIGN_UP, 201, "Successfully created new user"),
        ("POST", "/users/", {}, 400, "Please provide user details"),
        ("GET", "/users/", None, 401, "Authentication Token is missing!"),
        ("GET", "/nowhere", None, 404, "Endpoint Not Found"),
        ("PATCH", "/users/", None, 405, "Method Not Allowed"),
    ],
)
def test_every_status_carries_the_security_headers(server, method, path, body, status, message):
    response = requests.request(method, server.url + path, json=body, timeout=10)

    assert response.status_code == status
    assert response.json()["message"] == message
    assert_security_headers(response.headers)
    assert response.headers["X-Request-ID"]


@pytest.mark.parametrize(
    ("raw", "status", "message"),
    [
        (b"GARBAGE\r\n\r\n", "400", "Malformed HTTP request"),
        (
            b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
            "414",
            "Request line is too long",
        ),
        (
            b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 10000 + b"\r\n\r\n",
            "431",
            "Request headers are too large",
        ),
    ],
)
def test_gunicorns_own_error_answers_carry_the_security_headers(server, raw, status, message):
    status_line, headers, body = raw_request(server, raw)

    assert status_line.split(" ", 2)[1] == status
    assert json.loads(body)["message"] == message
    assert_security_headers(headers)
    assert "Server" not in headers


def test_preflight_from_the_allowed_origin_is_answered(server):
    response = requests.options(
        server.url + "/books/",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "authorization, if-match",
        },
        timeout=10,
    )

    assert response.status_code == 204
    assert response.content == b""
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "PUT" in response.headers["Access-Control-Allow-Methods"]
    assert response.headers["Access-Control-Allow-Headers"] == "authorization, if-match"
    assert response.headers["Access-Control-Max-Age"] == "600"


def test_preflight_from_another_origin_is_refused(server):
    response = requests.options(
        server.url + "/books/",
        headers={"Origin": "https://evil.example.net", "Access-Control-Request-Method": "PUT"},
        timeout=10,
    )

    assert response.status_code == 204
    assert response.content == b""
    assert not [name for name in response.headers if name.lower().startswith("access-control")]


def test_error_answer_to_the_allowed_origin_is_readable(server):
    response = requests.get(server.url + "/users/", headers={"Origin": ORIGIN}, timeout=10)

    assert response.status_code == 401
    assert response.json()["error"] == "Unauthorized"
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "X-Request-ID" in response.headers["Access-Control-Expose-Headers"]


def test_gunicorn_access_line_is_json_with_the_request_id(server):
    response = requests.get(
        server.url + "/ready?token=live-secret", headers={"X-Request-ID": "live-log-1"}, timeout=10
    )

    assert response.status_code == 200
    assert response.json()["message"] == "ready"
    [line] = server.log_lines(server.stdout_path, "live-log-1")
    assert line["logger"] == "gunicorn.access"
    assert {key: line[key] for key in ("method", "path", "status", "remote_addr")} == {
        "method": "GET",
        "path": "/ready",
        "status": 200,
        "remote_addr": "127.0.0.1",
    }
    assert "live-secret" not in server.stdout_path.read_text()


def test_app_access_line_is_json_with_the_request_id(server):
    response = requests.get(
        server.url + "/health", headers={"X-Request-ID": "live-log-2"}, timeout=10
    )

    assert response.status_code == 200
    assert response.json() == {"message": "ok", "data": {"status": "ok"}}
    [line] = server.log_lines(server.stderr_path, "live-log-2")
    assert line["logger"] == "access"
    assert line["message"] == "GET /health 200"


def test_gunicorn_error_log_is_json(server):
    lines = server.stderr_path.read_text().splitlines()

    starting = [json.loads(line) for line in lines if "Starting gunicorn" in line]
    assert starting
    assert starting[0]["logger"] == "gunicorn.error"
    assert starting[0]["level"] == "INFO"
