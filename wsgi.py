"""WSGI entry point for gunicorn: a bad setting stops start-up with a one-line reason."""

from __future__ import annotations

import sys

from app import create_app
from config import ConfigError
from store.embedded_server import EmbeddedServerError

try:
    app = create_app()
except (ConfigError, EmbeddedServerError) as error:
    sys.exit(f"error: {error}")
