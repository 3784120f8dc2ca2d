"""Gunicorn settings for `make run`: address from HOST/PORT, workers sized from the CPU count.

The workers are gevent workers: a connection costs a greenlet, not a thread, so clients that send
slowly (or not at all) cannot starve the others; they are cut off by REQUEST_HEADER_TIMEOUT and
REQUEST_BODY_TIMEOUT instead.
"""

from __future__ import annotations

# First of all, before preload_app imports the app: gevent's cooperative sockets, locks and threads.
# A lock or semaphore created at import time (pymongo's, the limiter's, the cover decode slot)
# would otherwise be a real one, and waiting on it would stop every connection of the worker.
from gevent import monkey

monkey.patch_all()

import json
import logging
import multiprocessing
import os
import socket
import ssl
import threading
import time
from datetime import timedelta
from typing import Any

import gevent
import gunicorn.glogging
import gunicorn.util
from gunicorn.http import errors as http_errors
from gunicorn.workers.ggevent import GeventWorker

from config import ConfigError, load_settings
from store.embedded_server import (
    EmbeddedServerError,
    own_instance,
    stop_embedded_server,
    supervise,
    supervision_stop,
)
from web.body_deadline import BodyDeadline, RequestBodyTimeout
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
# Connections one worker serves at once, each a greenlet; further ones wait to be accepted.
worker_connections = _settings["WORKER_CONNECTIONS"]
# The app (and the embedded database, when no DATABASE_URL is set) is prepared once, before forking.
preload_app = True
# A gevent worker reports to the master from its event loop: this only restarts a worker whose
# loop has been blocked this long. Requests are bounded by the deadlines below and by DB_TIMEOUT_MS.
timeout = 30
graceful_timeout = 30
# The gevent worker waits for each request's line and headers (the first on a connection, or the
# next on a kept-alive one) under this one timeout, then closes: a slow head (slowloris) and an
# idle connection alike are dropped after REQUEST_HEADER_TIMEOUT seconds.
keepalive = _settings["REQUEST_HEADER_TIMEOUT"]
# X-Forwarded-Proto and friends are believed only from the proxies the app itself trusts.
forwarded_allow_ips = ",".join(map(str, _settings["TRUSTED_PROXIES"])) or "127.0.0.1,::1"
accesslog = "-"
errorlog = "-"
proc_name = "book-library-api"
# gunicorn 25+ opens a control socket at one fixed path ($HOME/.gunicorn/gunicorn.ctl): two servers
# of one user (make run beside the live tests) would fight over it. Nothing here uses it.
control_socket_disable = True


# With the embedded database, this server owns the instance folder for its life: it refuses to
# start beside another server on the same folder, watches the database (restarting it if it dies)
# and stops it on exit, whether it started it or adopted one a killed server left running.
_embedded = not _settings["DATABASE_URL"]
_supervisor_stop = supervision_stop(_settings["INSTANCE_PATH"])
if _embedded:
    try:
        _owner_lock = own_instance(_settings["INSTANCE_PATH"])
    except EmbeddedServerError as error:
        raise SystemExit(f"error: {error}") from None


_supervisor: gevent.Greenlet | None = None
# How long the master waits for the threads the preloaded app stopped, before the first fork.
STOPPED_THREADS_WAIT_SECONDS = 5


def when_ready(server: Any) -> None:
    """Let the preloaded app's stopped threads end, then start watching the embedded database."""
    global _supervisor
    # Under gevent a thread is a greenlet, and a fork copies every live greenlet into the worker:
    # those preloading stopped (closed MongoClients' monitors) must end before the first fork.
    deadline = time.monotonic() + STOPPED_THREADS_WAIT_SECONDS
    others = [thread for thread in threading.enumerate() if thread is not threading.main_thread()]
    for thread in others:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    leftovers = [thread.name for thread in others if thread.is_alive()]
    if leftovers:
        server.log.warning("threads still running before the first fork: %s", leftovers)
    if _embedded:
        _supervisor = gevent.spawn(supervise, _settings["INSTANCE_PATH"], _supervisor_stop)


def post_fork(server: object, worker: object) -> None:
    """End the worker's copy of the master's watcher: only the master watches the database."""
    if _supervisor is not None:
        _supervisor.kill(block=False)


def on_exit(server: object) -> None:
    """Stop watching, then stop the embedded database this server owns."""
    if _embedded:
        _supervisor_stop.set()
        stop_embedded_server(_settings["INSTANCE_PATH"])


# Answers the worker writes itself, before the app sees a request (request line or headers too
# large, malformed HTTP) or instead of it (a body too slow): the API's JSON envelope instead of
# gunicorn's HTML page, and no parser details.
SERVER_ERROR_MESSAGES = {
    400: "Malformed HTTP request",
    403: "Request forbidden",
    408: "Request body not received in time",
    414: "Request line is too long",
    417: "Expectation failed",
    431: "Request headers are too large",
    500: "Something went wrong",
    501: "Transfer coding not supported",
}
# Statuses of gunicorn's parse errors, as gunicorn answers them; any other parse error is a 400.
PARSE_ERROR_STATUSES: dict[type[BaseException], tuple[int, str]] = {
    http_errors.LimitRequestLine: (414, "URI Too Long"),
    http_errors.LimitRequestHeaders: (431, "Request Header Fields Too Large"),
    http_errors.ForbiddenProxyRequest: (403, "Forbidden"),
    http_errors.ExpectationFailed: (417, "Expectation Failed"),
    http_errors.UnsupportedTransferCoding: (501, "Not Implemented"),
    http_errors.ConfigurationProblem: (500, "Internal Server Error"),
}
# A response header the app got wrong is the app's fault, not the client's.
APP_HEADER_ERRORS = (http_errors.InvalidResponseHeader, http_errors.InvalidResponseHeaderName)


def client_error_status(error: BaseException) -> tuple[int, str] | None:
    """Return the status and reason answering a request the client got wrong; None if it did not."""
    if isinstance(error, RequestBodyTimeout):
        return 408, "Request Timeout"
    if isinstance(error, ssl.SSLError):
        return 403, "Forbidden"
    if not isinstance(error, http_errors.ParseException) or isinstance(error, APP_HEADER_ERRORS):
        return None
    for kind, status in PARSE_ERROR_STATUSES.items():
        if isinstance(error, kind):
            return status
    return 400, "Bad Request"


def json_error_answer(status: int, reason: str) -> bytes:
    """Return a whole HTTP answer (closing the connection) carrying the JSON failure envelope."""
    message = SERVER_ERROR_MESSAGES.get(status, reason)
    body = json.dumps({"message": message, "data": None, "error": reason}).encode()
    security = "".join(
        f"{name}: {value}\r\n" for name, value in {**DEFAULT_HEADERS, **FORCED_HEADERS}.items()
    )
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/json\r\n"
        f"{security}"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("latin-1") + body


class ApiWorker(GeventWorker):
    """gunicorn's gevent worker, with the body deadline and its own answers in the JSON envelope."""

    # Set by gunicorn's Worker.load_wsgi (the app being served); gunicorn ships no type hints.
    wsgi: Any

    def load_wsgi(self) -> None:
        """Load the app, then bound the time each request's body may take to arrive."""
        super().load_wsgi()
        self.wsgi = BodyDeadline(self.wsgi, _settings["REQUEST_BODY_TIMEOUT"])

    def handle_error(self, req: Any, client: socket.socket, addr: Any, exc: BaseException) -> None:
        """Answer a request that failed outside the app (or a body too slow); gunicorn closes it."""
        address = (addr or ("",))[0]
        status = client_error_status(exc)
        if status is None:
            self.log.exception("Error handling request")
            status = (500, "Internal Server Error")
        elif isinstance(exc, RequestBodyTimeout):
            self.log.warning(
                "Request body from ip=%s not received within %d s",
                address,
                _settings["REQUEST_BODY_TIMEOUT"],
            )
        else:
            self.log.warning("Invalid request from ip=%s: %s", address, exc)
        try:
            gunicorn.util.write_nonblock(client, json_error_answer(*status))
        except OSError:
            self.log.debug("Failed to send error message.")


worker_class = ApiWorker


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
