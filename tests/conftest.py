"""Shared fixtures: the app on each storage backend, a signed-up user, tokens and test images."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import mongomock
import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from pymongo import MongoClient

from app import create_app
from config import DEFAULTS
from store import database
from store.embedded_server import embedded_database_url, stop_embedded_server

TEST_SECRET_KEY = "test-secret-key-that-is-long-enough-for-hs256!"
PASSWORD = "Correct-Horse-9"
BACKENDS = ["mongomock", "nx-27017"]
# For tests of atomicity under concurrent requests: mongomock takes no lock, so two threads may
# both match one compare-and-set filter or both pass one unique index; the server's guarantee
# is what these tests check, on a real MongoDB-protocol server.
real_server_only = pytest.mark.parametrize("backend", ["nx-27017"], indirect=True)


@pytest.fixture(scope="session")
def nx_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start one embedded nx-27017 server for the session, the way the app itself does."""
    instance = tmp_path_factory.mktemp("nx-instance")
    url = embedded_database_url(instance)
    yield url.rsplit("/", 1)[0]
    stop_embedded_server(instance)


def base_config(instance_path: Path) -> dict[str, Any]:
    """Return settings that shut out the developer's environment and .env file."""
    config = dict(DEFAULTS)
    config.update(
        TESTING=True,
        SECRET_KEY=TEST_SECRET_KEY,
        INSTANCE_PATH=str(instance_path),
        DB_TIMEOUT_MS=3000,
        # Most tests log in far more often than any person would; tests/test_ratelimit.py
        # turns the limits back on.
        RATELIMIT_ENABLED=False,
    )
    return config


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    """Yield the database settings of one backend, with a database of its own for this test."""
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


@pytest.fixture
def make_app(backend: dict[str, Any], tmp_path: Path) -> Iterator[Callable[..., Flask]]:
    """Return a factory of apps on the backend under test; their clients are closed afterwards."""
    made: list[Flask] = []

    def make(**overrides: Any) -> Flask:
        application = create_app({**base_config(tmp_path / "instance"), **backend, **overrides})
        made.append(application)
        return application

    yield make
    for application in made:
        database.close_client(application)


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    """Return the app on the backend under test, with its own instance folder."""
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """Return a test client of the app."""
    return app.test_client()


@pytest.fixture
def db(app: Flask) -> Iterator[Any]:
    """Return the app's database, to assert what was (or was not) stored."""
    with app.app_context():
        yield database.get_db()


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


@pytest.fixture
def user(client: FlaskClient) -> dict[str, Any]:
    """Return a signed-up user (public fields plus its email and password)."""
    data = sign_up(client, "ada@example.com")
    return {**data, "password": PASSWORD}


@pytest.fixture
def auth_headers(client: FlaskClient, user: dict[str, Any]) -> dict[str, str]:
    """Return the Authorization header of the signed-up user."""
    return {"Authorization": f"Bearer {log_in(client, user['email'])}"}


@pytest.fixture
def other_headers(client: FlaskClient) -> dict[str, str]:
    """Return the Authorization header of a second, unrelated user."""
    sign_up(client, "grace@example.com", "Grace Hopper")
    return {"Authorization": f"Bearer {log_in(client, 'grace@example.com')}"}


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


@pytest.fixture
def make_image() -> Callable[..., io.BytesIO]:
    """Return the image factory."""
    return image_bytes


def cover_files(app: Flask) -> set[str]:
    """Return the names of the cover files on disk."""
    folder = Path(app.config["COVER_DIR"])
    return {path.name for path in folder.iterdir()} if folder.is_dir() else set()


@pytest.fixture
def book_form() -> Callable[..., dict[str, Any]]:
    """Return a factory of multipart book forms with a fresh cover image."""

    def make(title: str = "Dune", **fields: Any) -> dict[str, Any]:
        form = {"title": title, "description": "A desert planet", "category": "science"}
        form.update(fields)
        form.setdefault("cover_image", (image_bytes(), "cover.jpg"))
        return {key: value for key, value in form.items() if value is not None}

    return make


@pytest.fixture
def book(client: FlaskClient, auth_headers: dict[str, str], book_form: Callable) -> dict:
    """Return a book created through the API by the signed-up user."""
    response = client.post("/books/", headers=auth_headers, data=book_form())
    assert response.status_code == 201, response.json
    return response.json["data"]
