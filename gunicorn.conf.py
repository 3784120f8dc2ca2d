"""Gunicorn settings for `make run`: address from HOST/PORT, workers sized from the CPU count."""

from __future__ import annotations

import multiprocessing
import os

from config import ConfigError, load_settings

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


def on_exit(server: object) -> None:
    """Stop the embedded database this server started, so nothing is left running."""
    if not _settings["DATABASE_URL"]:
        from embedded_server import stop_embedded_server

        stop_embedded_server(_settings["INSTANCE_PATH"])
