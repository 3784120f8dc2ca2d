"""A deadline for receiving a request's body, so a client trickling bytes cannot hold a connection.

gunicorn's gevent worker (gunicorn.conf.py) wraps the app in BodyDeadline: every read of the body
ends by one absolute deadline, counted from the end of the request's head, however steadily the
bytes come. A client that misses it gets RequestBodyTimeout, which the worker answers 408 before
closing the connection. Only a gevent worker can interrupt a blocked read this way.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

import gevent

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class RequestBodyTimeout(BaseException):
    """The client did not send its whole body in time: the connection is to be answered and closed.

    A BaseException on purpose: the app's error handlers and its `except Exception` blocks must not
    turn it into an ordinary answer on a connection whose next bytes are unknown.
    """


class DeadlineInput:
    """A wsgi.input whose reads all end by one absolute deadline (time.monotonic())."""

    def __init__(self, stream: IO[bytes], deadline: float) -> None:
        """Wrap the server's body stream."""
        self.stream = stream
        self.deadline = deadline

    def read(self, size: int | None = -1) -> bytes:
        """Read like the server's stream, within the deadline."""
        return self._within_deadline(self.stream.read, size)

    def readline(self, size: int | None = -1) -> bytes:
        """Read one line like the server's stream, within the deadline."""
        return self._within_deadline(self.stream.readline, size)

    def readlines(self, hint: int | None = -1) -> list[bytes]:
        """Read lines like the server's stream, within the deadline."""
        return self._within_deadline(self.stream.readlines, hint)

    def __iter__(self) -> Iterator[bytes]:
        """Yield the body's lines, each read within the deadline."""
        while line := self.readline():
            yield line

    def _within_deadline(self, method: Callable[[Any], Any], argument: Any) -> Any:
        """Call one read of the server's stream, interrupting it when the deadline passes."""
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise RequestBodyTimeout()
        with gevent.Timeout(remaining, RequestBodyTimeout()):
            return method(argument)


class BodyDeadline:
    """WSGI middleware: a request's body must arrive within `seconds` of the end of its head."""

    def __init__(self, app: WSGIApp, seconds: float) -> None:
        """Wrap a WSGI app."""
        self.app = app
        self.seconds = seconds

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        """Give the app a body stream bounded by the deadline (requests without a body: as is)."""
        if _has_body(environ):
            environ["wsgi.input"] = DeadlineInput(
                environ["wsgi.input"], time.monotonic() + self.seconds
            )
        return self.app(environ, start_response)


def _has_body(environ: dict[str, Any]) -> bool:
    """Tell whether a request announces a body (a length above zero, or a chunked one)."""
    length = environ.get("CONTENT_LENGTH") or "0"
    return length != "0" or "HTTP_TRANSFER_ENCODING" in environ
