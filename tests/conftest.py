"""Shared fixtures: the app on each storage backend, a signed-up user, tokens and test images."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from store import database
from store.embedded_server import embedded_database_url, stop_embedded_server
from tests.helpers import PASSWORD, backend_settings, base_config, image_bytes, log_in, sign_up

# Which servers the `backend` fixture offers: tests/api and tests/unit narrow it in
# their own conftest.py (a real server over TCP; mongomock for pure logic).
BACKENDS = ["mongomock", "nx-27017"]


@pytest.fixture(scope="session")
def nx_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start one embedded nx-27017 server for the session, the way the app itself does."""
    instance = tmp_path_factory.mktemp("nx-instance")
    url = embedded_database_url(instance)
    yield url.rsplit("/", 1)[0]
    stop_embedded_server(instance)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    """Yield the database settings of one backend, with a database of its own for this test."""
    yield from backend_settings(request)


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


@pytest.fixture
def make_image() -> Callable[..., io.BytesIO]:
    """Return the image factory."""
    return image_bytes


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
