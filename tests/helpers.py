"""What tests share besides fixtures: settings, sign-up and login through the API, test images."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mongomock
import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from pymongo import MongoClient

from config import DEFAULTS

TEST_SECRET_KEY = "test-secret-key-that-is-long-enough-for-hs256!"
PASSWORD = "Correct-Horse-9"
# For tests of atomicity under concurrent requests: mongomock takes no lock, so two threads may
# both match one compare-and-set filter or both pass one unique index; the server's guarantee
# is what these tests check, on a real MongoDB-protocol server.
real_server_only = pytest.mark.parametrize("backend", ["nx-27017"], indirect=True)


def base_config(instance_path: Path) -> dict[str, Any]:
    """Return settings that shut out the developer's environment and .env file."""
    config = dict(DEFAULTS)
    config.update(
        TESTING=True,
        SECRET_KEY=TEST_SECRET_KEY,
        INSTANCE_PATH=str(instance_path),
        DB_TIMEOUT_MS=3000,
        # Most tests log in far more often than any person would; tests/api/test_ratelimit_*.py
        # turns the limits back on.
        RATELIMIT_ENABLED=False,
    )
    return config


def sign_up(client: FlaskClient, email: str, name: str = "Ada Lovelace") -> dict[str, Any]:
    """Create a user through the API and return its public fields."""
    response = client.post("/users/", json={"name": name, "email": email, "password": PASSWORD})
    assert response.status_code == 201, response.json
    return response.json["data"]


def log_in(client: FlaskClient, email: str, password: str = PASSWORD) -> str:
    """Log in through the API and return the access token."""
    response = client.post("/users/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.json
    return response.json["data"]["token"]


def image_bytes(
    image_format: str = "JPEG",
    size: tuple[int, int] = (300, 200),
    mode: str = "RGB",
    color: Any = "red",
    **save_options: Any,
) -> io.BytesIO:
    """Return an in-memory image made with Pillow now (no binary fixtures in the repository)."""
    buffer = io.BytesIO()
    Image.new(mode, size, color).save(buffer, image_format, **save_options)
    buffer.seek(0)
    return buffer


def cover_files(app: Flask) -> set[str]:
    """Return the names of the cover files on disk."""
    folder = Path(app.config["COVER_DIR"])
    return {path.name for path in folder.iterdir()} if folder.is_dir() else set()


def backend_settings(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    """Yield the settings of request.param's backend, with a database of this test's own."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    if request.param == "mongomock":
        # One in-memory server per test: a closed and reopened client must see the same data.
        server = mongomock.MongoClient(f"mongodb://mongomock.invalid/{name}", tz_aware=True)
        yield {
            "DATABASE_URL": f"mongodb://mongomock.invalid/{name}",
            "MONGO_CLIENT_CLASS": lambda *_args, **_options: server,
        }
        return
    server = request.getfixturevalue("nx_server_url")
    yield {"DATABASE_URL": f"{server}/{name}"}
    with MongoClient(server, serverSelectionTimeoutMS=3000) as client:
        client.drop_database(name)
