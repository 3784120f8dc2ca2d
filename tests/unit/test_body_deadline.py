"""The body deadline middleware on its own, over gevent sockets (the live tests use the server)."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from typing import Any

import pytest
from gevent import socket as gevent_socket

from web.body_deadline import BodyDeadline, DeadlineInput, RequestBodyTimeout

# Long enough for a few local bytes to arrive, short enough for a stalled read to end quickly.
SHORT_DEADLINE_SECONDS = 0.2


@pytest.fixture
def connection() -> Iterator[tuple[Any, Any]]:
    """Yield a gevent socket pair: the server's body stream and the client's end."""
    server, client = gevent_socket.socketpair()
    with server, client:
        yield server.makefile("rb"), client


def test_a_body_that_arrives_in_time_is_read_whole(connection):
    stream, client = connection
    client.sendall(b"hello\nworld\n")
    body = DeadlineInput(stream, time.monotonic() + 10)

    assert body.readline() == b"hello\n"
    assert body.read(6) == b"world\n"


def test_a_read_still_waiting_at_the_deadline_raises(connection):
    stream, client = connection
    client.sendall(b"partial")
    body = DeadlineInput(stream, time.monotonic() + SHORT_DEADLINE_SECONDS)

    with pytest.raises(RequestBodyTimeout):
        body.read(100)


def test_a_read_after_the_deadline_raises_without_reading(connection):
    stream, client = connection
    client.sendall(b"waiting bytes")
    body = DeadlineInput(stream, time.monotonic() - 1)

    with pytest.raises(RequestBodyTimeout):
        body.read(5)
    assert stream.read(7) == b"waiting"


def test_the_timeout_is_no_ordinary_exception():
    # The app's `except Exception` blocks and error handlers must let it reach the worker.
    assert not issubclass(RequestBodyTimeout, Exception)


def seen_input(environ: dict[str, Any]) -> Any:
    """Run BodyDeadline over an app that records the wsgi.input it was given; return it."""
    seen = {}

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen["input"] = environ["wsgi.input"]
        return [b""]

    BodyDeadline(app, 10)(environ, lambda *args: None)
    return seen["input"]


@pytest.mark.parametrize(
    "headers",
    [{"CONTENT_LENGTH": "12"}, {"HTTP_TRANSFER_ENCODING": "chunked"}],
)
def test_a_request_with_a_body_gets_the_bounded_stream(headers):
    original = io.BytesIO(b"hello world!")

    given = seen_input({"wsgi.input": original, **headers})

    assert isinstance(given, DeadlineInput)
    assert given.stream is original


@pytest.mark.parametrize("headers", [{}, {"CONTENT_LENGTH": ""}, {"CONTENT_LENGTH": "0"}])
def test_a_request_without_a_body_keeps_the_servers_stream(headers):
    original = io.BytesIO()

    assert seen_input({"wsgi.input": original, **headers}) is original
