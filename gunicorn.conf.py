"""Gunicorn settings for `make run`: address from HOST/PORT, workers sized from the CPU count."""

from __future__ import annotations

import json
import multiprocessing
import os

import gunicorn.util

from config import ConfigError, load_settings
from embedded_server import is_running, stop_embedded_server

try:
    _settings = load_settings()
except ConfigError as error:
    raise SystemExit(f"error: {error}") from None

bind = f"{_settings['HOST']}:{_settings['PORT']}"
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", 2))
# The app (and the embedded database, when no DATABASE_URL is set) is prepared once, before forking.
preload_app = True
timeout = 30
graceful_timeout = 30
keepalive = 5
accesslog = "-"
errorlog = "-"
# The API answers with its own headers; do not advertise the server's name and version.
proc_name = "book-library-api"


# Another server on the same instance folder may already run the embedded database: then it is
# theirs to stop, not ours.
_embedded_started_here = not _settings["DATABASE_URL"] and not is_running(
    _settings["INSTANCE_PATH"]
)


def on_exit(server: object) -> None:
    """Stop the embedded database if this server started it, so nothing is left running."""
    if _embedded_started_here:
        stop_embedded_server(_settings["INSTANCE_PATH"])


# Answers gunicorn writes itself, before the app sees a request (request line or headers too large,
# malformed HTTP): the API's JSON envelope instead of gunicorn's HTML page, and no parser details.
SERVER_ERROR_MESSAGES = {
    400: "Malformed HTTP request",
    403: "Request forbidden",
    414: "Request line is too long",
    417: "Expectation failed",
    431: "Request headers are too large",
    500: "Something went wrong",
    501: "Transfer coding not supported",
}


def write_json_error(sock: object, status_int: int, reason: str, mesg: str) -> None:
    """Write gunicorn's own error answers as the API's JSON failure envelope."""
    message = SERVER_ERROR_MESSAGES.get(status_int, reason)
    body = json.dumps({"message": message, "data": None, "error": reason}).encode()
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    gunicorn.util.write_nonblock(sock, head.encode("latin-1") + body)


gunicorn.util.write_error = write_json_error
