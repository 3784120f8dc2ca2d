"""The OpenAPI document the app generates, for tests that read it without a test client."""

from __future__ import annotations

import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

import mongomock

from api_docs.document import build_document
from app import create_app
from config import DEFAULTS
from store import database

TEST_SECRET_KEY = "test-secret-key-that-is-long-enough-for-api-documents"


@lru_cache(maxsize=1)
def generated_document() -> dict[str, Any]:
    """Return the document of an app on an in-memory store (built once per test process)."""
    server = mongomock.MongoClient("mongodb://mongomock.invalid/api_document", tz_aware=True)
    with tempfile.TemporaryDirectory() as instance:
        app = create_app(
            {
                **DEFAULTS,
                "TESTING": True,
                "SECRET_KEY": TEST_SECRET_KEY,
                "INSTANCE_PATH": str(Path(instance) / "instance"),
                "DATABASE_URL": "mongodb://mongomock.invalid/api_document",
                "MONGO_CLIENT_CLASS": lambda *_args, **_options: server,
                "RATELIMIT_ENABLED": False,
            }
        )
        try:
            return build_document(app)
        finally:
            database.close_client(app)
