"""Gunicorn settings for `make run`: address from HOST/PORT, workers sized from the CPU count."""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import threading
from datetime import timedelta
from typing import Any

import gunicorn.glogging
import gunicorn.http.wsgi
import gunicorn.util

from config import ConfigError, load_settings
from store.embedded_server import EmbeddedServerError, own_instance, stop_embedded_server, supervise
from web.http_headers import DEFAULT_HEADERS, FORCED_HEADERS
from web.logs import JsonFormatter

try:
    _settings = load_settings()
except ConfigError as error:
    raise SystemExit(f"error: {error}") from None

# gunicorn writes the access log (JSON, with the request id): the app need not log it again. Set
# for the workers' load_settings (the app's own), unless the operator chose otherwise.
os.environ.setdefault("ACCESS_LOG", "false")

bind = f"{_settings['HOST']}:{_settings['PORT']}"
workers = _settings["WEB_CONCURRENCY"] or multiprocessing.cpu_count() * 2 + 1
threads = _settings["GUNICORN_THREADS"]
# The app (and the embedded database, when no DATABASE_URL is set) is prepared once, before forking.
preload_app = True
timeout = 30
graceful_timeout = 30
keepalive = 5
# X-Forwarded-Proto and friends are believed only from the proxies the app itself trusts.
forwarded_allow_ips = _settings["TRUSTED_PROXIES"] or "127.0.0.1,::1"
accesslog = "-"
errorlog = "-"
proc_name = "book-library-api"
# gunicorn 25+ opens a control socket at one fixed path ($HOME/.gunicorn/gunicorn.ctl): two servers
# of one user (make run beside the live tests) would fight over it. Nothing here uses it.
control_socket_disable = True
# gunicorn names itself in a Server header on every answer; name nothing about the software instead.
gunicorn.http.wsgi.SERVER = proc_name


# With the embedded database, this server owns the instance folder for its life: it refuses to
# start beside another server on the same folder, watches the database (restarting it if it dies)
# and stops it on exit, whether it started it or adopted one a killed server left running.
_embedded = not _settings["DATABASE_URL"]
_supervisor_stop = threading.Event()
if _embedded:
    try:
        _owner_lock = own_instance(_settings["INSTANCE_PATH"])
    except EmbeddedServerError as error:
        raise SystemExit(f"error: {error}") from None


def when_ready(server: object) -> None:
    """Start watching the embedded database once the workers are up."""
    if _embedded:
        supervise(_settings["INSTANCE_PATH"], _supervisor_stop)


def on_exit(server: object) -> None:
    """Stop watching, then stop the embedded database this server owns."""
    if _embedded:
        _supervisor_stop.set()
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
    security = "".join(
        f"{name}: {value}\r\n" for name, value in {**DEFAULT_HEADERS, **FORCED_HEADERS}.items()
    )
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/json\r\n"
        f"{security}"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    gunicorn.util.write_nonblock(sock, head.encode("latin-1") + body)


gunicorn.util.write_error = write_json_error


class JsonLogger(gunicorn.glogging.Logger):
    """gunicorn's error and access logs as JSON lines; each access line carries the request id.

    access_log_format is not used: its atoms are not JSON-escaped, so a path with a quote or a
    control character would break the line.
    """

    def setup(self, cfg: Any) -> None:
        """Set up gunicorn's handlers, then make them write JSON."""
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(JsonFormatter())

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: timedelta) -> None:
        """Log one request: method, path without its query string, status, time, request id."""
        if not self.access_log_enabled:
            return
        status = str(resp.status or "").split(" ", 1)[0]
        headers = {name.lower(): value for name, value in resp.headers or []}
        fields = {
            "request_id": headers.get("x-request-id"),
            "method": environ.get("REQUEST_METHOD"),
            "path": environ.get("PATH_INFO"),
            "status": int(status) if status.isdigit() else status,
            "duration_ms": round(request_time.total_seconds() * 1000, 2),
            "remote_addr": environ.get("REMOTE_ADDR"),
            "bytes": getattr(resp, "sent", None),
        }
        self.access_log.log(
            logging.INFO, "%s %s %s", fields["method"], fields["path"], status, extra=fields
        )


logger_class = JsonLogger
