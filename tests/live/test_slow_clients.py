"""Slow clients against `make run`'s gunicorn, over real sockets: they cannot starve the others."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack

import pytest
import requests

from tests.helpers import PASSWORD
from tests.live.server import LiveServer, running, sign_up_over_http

pytestmark = pytest.mark.integration

SLOW_CONNECTIONS = 60
# The deadlines the deadline_server runs with, small so that the tests see them pass.
SHORT_TIMEOUT = "2"
# How long a test waits for the server to cut a slow client off before failing.
CUT_OFF_WITHIN_SECONDS = 30
# How often a slow client sends its next byte while it waits for the server's answer.
TRICKLE_INTERVAL_SECONDS = 0.2


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Yield a live server with the default deadlines (slow clients are held for a minute)."""
    with running(LiveServer(tmp_path_factory.mktemp("slow") / "instance")) as live:
        yield live


@pytest.fixture(scope="module")
def deadline_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Yield a live server whose header and body deadlines are two seconds."""
    instance = tmp_path_factory.mktemp("deadline") / "instance"
    deadlines = {"REQUEST_HEADER_TIMEOUT": SHORT_TIMEOUT, "REQUEST_BODY_TIMEOUT": SHORT_TIMEOUT}
    with running(LiveServer(instance, **deadlines)) as live:
        yield live


def open_slow_body(server: LiveServer, path: str, first_bytes: bytes = b"{") -> socket.socket:
    """Send a request's head announcing a large JSON body, then only its first bytes."""
    connection = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    connection.sendall(
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        "Content-Length: 100000\r\n\r\n".encode()
        + first_bytes
    )
    return connection


def trickle_until_closed(connection: socket.socket, next_byte: bytes) -> bytes:
    """Send one byte each time the server stays silent; return all it sent before closing."""
    connection.settimeout(TRICKLE_INTERVAL_SECONDS)
    deadline = time.monotonic() + CUT_OFF_WITHIN_SECONDS
    answer = b""
    while True:
        assert time.monotonic() < deadline, "the server never closed the slow connection"
        try:
            chunk = connection.recv(65536)
        except TimeoutError:
            connection.sendall(next_byte)
            continue
        except ConnectionResetError:
            # Closing on bytes it never read, the server's system may reset, not end, the stream.
            return answer
        if not chunk:
            return answer
        answer += chunk


def test_sixty_slow_bodies_leave_health_login_and_books_answering(server):
    sign_up_over_http(server.url, "reader@example.com")
    with ExitStack() as stack:
        slow = [
            stack.enter_context(open_slow_body(server, "/users/login"))
            for _ in range(SLOW_CONNECTIONS)
        ]

        health = requests.get(server.url + "/health", timeout=2)
        login = requests.post(
            server.url + "/users/login",
            json={"email": "reader@example.com", "password": PASSWORD},
            timeout=2,
        )
        token = login.json()["data"]["token"]
        books = requests.get(
            server.url + "/books/", headers={"Authorization": f"Bearer {token}"}, timeout=2
        )

        assert health.status_code == 200
        assert health.json() == {"message": "ok", "data": {"status": "ok"}}
        assert login.status_code == 200
        assert login.json()["message"] == "Successfully fetched auth token"
        assert books.status_code == 200
        assert books.json()["data"] == []
        # The slow clients were held all along: none was answered or closed.
        for connection in slow:
            connection.setblocking(False)
            with pytest.raises(BlockingIOError):
                connection.recv(1)


def test_a_body_trickled_past_the_body_timeout_is_answered_408_and_closed(deadline_server):
    first_bytes = json.dumps({"name": "Ada Lovelace", "email": "slow@example.com"}).encode()[:-1]
    with open_slow_body(deadline_server, "/users/", first_bytes) as connection:
        answer = trickle_until_closed(connection, b" ")

    head, _, body = answer.partition(b"\r\n\r\n")
    status, *lines = head.split(b"\r\n")
    assert status == b"HTTP/1.1 408 Request Timeout"
    assert b"Connection: close" in lines
    assert b"Content-Type: application/json" in lines
    assert b"X-Content-Type-Options: nosniff" in lines
    assert json.loads(body) == {
        "message": "Request body not received in time",
        "data": None,
        "error": "Request Timeout",
    }
    with deadline_server.database() as client:
        assert client.myDatabase.users.count_documents({}) == 0


def test_a_head_trickled_past_the_header_timeout_is_closed(deadline_server):
    with socket.create_connection(("127.0.0.1", deadline_server.port), timeout=10) as connection:
        connection.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        answer = trickle_until_closed(connection, b"a")

    assert answer == b""


def test_an_idle_connection_is_closed_after_the_header_timeout(deadline_server):
    with socket.create_connection(("127.0.0.1", deadline_server.port), timeout=10) as connection:
        connection.settimeout(CUT_OFF_WITHIN_SECONDS)
        assert connection.recv(1) == b""


def test_a_chunked_body_sent_in_time_is_served(deadline_server):
    body = json.dumps(
        {"name": "Ada Lovelace", "email": "chunked@example.com", "password": PASSWORD}
    )

    response = requests.post(
        deadline_server.url + "/users/",
        data=iter([body[:10].encode(), body[10:].encode()]),
        headers={"Content-Type": "application/json"},
        timeout=10,
    )

    assert response.status_code == 201
    assert response.json()["data"]["email"] == "chunked@example.com"
