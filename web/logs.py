"""JSON logs: one object a line on stderr, each with the request id, and one access line a request.

Only what is safe is logged: an access line holds the method, the path without its query string,
the status, the duration and the client address; never a body, a header, a token or a password.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from datetime import UTC, datetime
from typing import Any, TextIO

from flask import Flask, Response, g, has_app_context, request
from flask.logging import default_handler

from web.client_address import client_address

ACCESS_LOGGER = "access"
ACCESS_FIELDS = ("method", "path", "status", "duration_ms", "remote_addr", "bytes")
# Marks the one handler this module installs, so that creating many apps never stacks handlers.
HANDLER_MARK = "_book_library_json_handler"
REQUEST_STARTED_KEY = "request_started"
# The development server's own request lines ('127.0.0.1 - - [date] "GET /path?query HTTP/1.1"'):
# they repeat the access line and would carry query strings.
DEV_SERVER_REQUEST_LINE = re.compile(r'\S+ - - \[[^\]]*\] "')
# Last line of defence for messages written by libraries (e.g. a server quoting a request line).
BEARER_CREDENTIALS = re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]+")
SECRET_PARAMETER = re.compile(r"(?i)\b([a-z_]*(?:token|password|secret)[a-z_]*=)[^&\s'\"]*")
REDACTED = "[redacted]"

logger = logging.getLogger(ACCESS_LOGGER)


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON object: time, level, logger, message, request_id and extras."""

    def format(self, record: logging.LogRecord) -> str:
        """Return the record as a single line of JSON (newlines in values are escaped)."""
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
            "request_id": getattr(record, "request_id", None),
        }
        for field in ACCESS_FIELDS:
            if hasattr(record, field):
                entry[field] = getattr(record, field)
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        # ASCII only: no character in a value (U+2028, say) can split the line anywhere.
        return json.dumps(entry, default=str)


def redact(text: str) -> str:
    """Replace bearer credentials and token=, password=, secret= values with [redacted]."""
    text = BEARER_CREDENTIALS.sub(rf"\1 {REDACTED}", text)
    return SECRET_PARAMETER.sub(rf"\1{REDACTED}", text)


class RequestIdFilter(logging.Filter):
    """Stamp each record with the id of the request being served (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Add request_id unless the record already carries one."""
        if not hasattr(record, "request_id"):
            record.request_id = g.get("request_id") if has_app_context() else None
        return True


class StderrHandler(logging.StreamHandler):
    """Write to whatever sys.stderr is at the time (test runners swap it between tests)."""

    def __init__(self) -> None:
        logging.Handler.__init__(self)

    @property
    def stream(self) -> TextIO:
        """Return the current standard error."""
        return sys.stderr


def _drop_dev_server_request_lines(record: logging.LogRecord) -> bool:
    """Tell whether a werkzeug record may be logged (its per-request info lines may not)."""
    return record.levelno > logging.INFO or not DEV_SERVER_REQUEST_LINE.match(record.getMessage())


def json_handler() -> logging.Handler:
    """Return a handler writing JSON lines with request ids to stderr."""
    handler = StderrHandler()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    setattr(handler, HANDLER_MARK, True)
    return handler


def init_logging(app: Flask) -> None:
    """Send every log record to stderr as JSON (once per process) and log each request."""
    # config.load_settings checked the name.
    level = logging.getLevelNamesMapping()[app.config["LOG_LEVEL"]]
    root = logging.getLogger()
    if not any(getattr(handler, HANDLER_MARK, False) for handler in root.handlers):
        root.addHandler(json_handler())
    root.setLevel(level)
    werkzeug_logger = logging.getLogger("werkzeug")
    if _drop_dev_server_request_lines not in werkzeug_logger.filters:
        werkzeug_logger.addFilter(_drop_dev_server_request_lines)
    # Flask's own text handler on app.logger would print every app record a second time.
    app.logger.removeHandler(default_handler)
    if app.config.get("ACCESS_LOG", True):
        # Only the access line reads the timer (gunicorn writes its own line instead).
        app.before_request(start_request_timer)
        app.after_request(log_access)


def start_request_timer() -> None:
    """Remember when the request started, for the access line's duration."""
    setattr(g, REQUEST_STARTED_KEY, time.perf_counter())


def log_access(response: Response) -> Response:
    """Log one access line: method, path (no query string), status, duration, client address."""
    started = g.get(REQUEST_STARTED_KEY)
    duration = round((time.perf_counter() - started) * 1000, 2) if started is not None else None
    fields = {
        "method": request.method,
        "path": request.path,
        "status": response.status_code,
        "duration_ms": duration,
        "remote_addr": client_address(),
    }
    logger.info("%s %s %s", request.method, request.path, response.status_code, extra=fields)
    return response
