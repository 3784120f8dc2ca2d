"""What tests share besides fixtures: settings, sign-up, login and books through the API, images."""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
import uuid
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mongomock
import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from pymongo import MongoClient, monitoring

from config import DEFAULTS, PROJECT_ROOT

TEST_SECRET_KEY = "test-secret-key-that-is-long-enough-for-hs256!"
PASSWORD = "Correct-Horse-9"
# For tests of atomicity under concurrent requests: mongomock takes no lock, so two threads may
# both match one compare-and-set filter or both pass one unique index; the server's guarantee
# is what these tests check, on a real MongoDB-protocol server.
real_server_only = pytest.mark.parametrize("backend", ["nx-27017"], indirect=True)
# The categories add_books deals out in turn.
CATEGORIES = ["science", "poetry", "horror"]


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


def sign_up_and_log_in(
    client: FlaskClient, email: str, name: str = "Ada Lovelace"
) -> dict[str, str]:
    """Create a user through the API, log it in and return its Authorization header."""
    sign_up(client, email, name)
    return {"Authorization": f"Bearer {log_in(client, email)}"}


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


def add_book(
    client: FlaskClient,
    headers: dict[str, str],
    title: str,
    category: str = "science",
    **fields: Any,
) -> dict[str, Any]:
    """Create a book with a tiny cover through the API and return it."""
    form = {"title": title, "category": category, **fields}
    form["cover_image"] = (image_bytes(size=(8, 8)), "c.jpg")
    response = client.post("/books/", headers=headers, data=form)
    assert response.status_code == 201, response.json
    return response.json["data"]


def add_books(
    client: FlaskClient, headers: dict[str, str], count: int, **fields: Any
) -> list[dict[str, Any]]:
    """Create `count` books titled "Book 01", "Book 02" ... and return them in creation order."""
    created = []
    for number in range(1, count + 1):
        form = {
            "category": CATEGORIES[number % len(CATEGORIES)],
            "description": f"volume {number} of the series",
            **fields,
        }
        created.append(add_book(client, headers, f"Book {number:02d}", **form))
    return created


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


class CommandLog(monitoring.CommandListener):
    """The commands a client sent: (command name, collection)."""

    def __init__(self) -> None:
        self.commands: list[tuple[str, Any]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        """Record a command as it is sent."""
        self.commands.append((event.command_name, event.command.get(event.command_name)))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        """Nothing to record."""

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        """Nothing to record."""

    def on(self, collection: str) -> list[str]:
        """Return the names of the commands sent to one collection."""
        return [name for name, target in self.commands if target == collection]

    def client(self, *args: Any, **options: Any) -> MongoClient:
        """Return a MongoClient reporting to this log (a MONGO_CLIENT_CLASS for the app)."""
        return MongoClient(*args, event_listeners=[self], **options)


def png_declaring(width: int, height: int) -> bytes:
    """Build a valid all-black 1-bit PNG: huge in pixels, tiny in bytes (a decompression bomb)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        checksum = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + checksum

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    compressor = zlib.compressobj(9)
    row = bytes(1 + (width + 7) // 8)  # filter type 0, then the packed bits
    pixels = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def run_script(script: str, timeout: float) -> Any:
    """Run Python code in a fresh interpreter at the project root; return what it printed (JSON).

    A fresh process, so that the code may patch the interpreter (gevent) as a server does.
    """
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )
    return json.loads(result.stdout)
