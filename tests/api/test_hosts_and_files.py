"""Trusted Host headers, a private instance folder, and indexes the database refuses."""

from __future__ import annotations

import logging
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pymongo import MongoClient
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import AutoReconnect, OperationFailure

from app import create_app
from store import database
from store.embedded_server import stop_embedded_server
from tests.helpers import (
    PASSWORD,
    base_config,
    cover_files,
    image_bytes,
    log_in,
    real_server_only,
    sign_up,
    sign_up_and_log_in,
)
from web import mailer

UNKNOWN_HOST = {"message": "Unknown Host header", "data": None, "error": "Bad Request"}
EVIL = {"Host": "evil.example"}


# Host header -------------------------------------------------------------------------------------


def test_sign_up_with_a_foreign_host_is_refused_and_creates_nothing(
    client: FlaskClient, db: Database
) -> None:
    body = {"name": "Ada Lovelace", "email": "ada@example.com", "password": PASSWORD}

    response = client.post("/users/", json=body, headers=EVIL)

    assert response.status_code == 400
    assert response.json == UNKNOWN_HOST
    assert db.users.count_documents({}) == 0


def test_book_with_a_foreign_host_is_refused_and_stores_no_cover(
    app: Flask, client: FlaskClient, auth_headers: dict[str, str], book_form: Callable, db: Database
) -> None:
    response = client.post("/books/", headers={**auth_headers, **EVIL}, data=book_form())

    assert response.status_code == 400
    assert response.json == UNKNOWN_HOST
    assert db.books.count_documents({}) == 0
    assert cover_files(app) == set()


@pytest.mark.parametrize("path", ["/", "/health", "/ready", "/no-such-route"])
def test_every_route_refuses_a_foreign_host_with_the_envelope(
    client: FlaskClient, path: str
) -> None:
    response = client.get(path, headers=EVIL)

    assert response.status_code == 400
    assert response.mimetype == "application/json"
    assert response.json == UNKNOWN_HOST


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "localhost:5000", "127.0.0.1:8080"])
def test_loopback_hosts_are_trusted_by_default(client: FlaskClient, host: str) -> None:
    response = client.get("/health", headers={"Host": host})

    assert response.status_code == 200
    assert response.json == {"message": "ok", "data": {"status": "ok"}}


def test_image_url_is_built_from_a_trusted_host(
    client: FlaskClient, auth_headers: dict[str, str], book_form: Callable
) -> None:
    response = client.post(
        "/books/", headers={**auth_headers, "Host": "127.0.0.1:5000"}, data=book_form()
    )

    assert response.status_code == 201
    assert response.json["data"]["image_url"].startswith("http://127.0.0.1:5000/static/")


def test_public_url_host_is_trusted_and_others_are_not(make_app: Callable[..., Flask]) -> None:
    client = make_app(PUBLIC_URL="https://books.example.com").test_client()

    trusted = client.get("/health", headers={"Host": "books.example.com"})
    foreign = client.get("/health", headers=EVIL)

    assert trusted.status_code == 200
    assert trusted.json == {"message": "ok", "data": {"status": "ok"}}
    assert foreign.status_code == 400
    assert foreign.json == UNKNOWN_HOST


def test_trusted_hosts_setting_replaces_the_defaults(make_app: Callable[..., Flask]) -> None:
    client = make_app(TRUSTED_HOSTS="api.example.com:8443, Books.Example.org").test_client()

    listed = client.get("/health", headers={"Host": "api.example.com:8443"})
    any_case = client.get("/health", headers={"Host": "books.example.org"})
    loopback = client.get("/health", headers={"Host": "localhost"})

    assert listed.status_code == any_case.status_code == 200
    assert listed.json == {"message": "ok", "data": {"status": "ok"}}
    assert loopback.status_code == 400
    assert loopback.json == UNKNOWN_HOST


def test_trusted_hosts_star_accepts_any_host(make_app: Callable[..., Flask]) -> None:
    client = make_app(TRUSTED_HOSTS="*").test_client()

    response = client.get("/health", headers=EVIL)

    assert response.status_code == 200
    assert response.json == {"message": "ok", "data": {"status": "ok"}}


# Instance folder ---------------------------------------------------------------------------------


def open_to_others(folder: Path) -> list[str]:
    """Return every file or folder under folder (itself included) with group or other bits."""
    paths = [folder, *folder.rglob("*")]
    return [
        f"{path} {stat.filemode(path.lstat().st_mode)}"
        for path in paths
        if not path.is_symlink() and path.lstat().st_mode & 0o077
    ]


@pytest.fixture
def embedded_app(tmp_path: Path) -> Iterator[Flask]:
    """Yield an app with no DATABASE_URL or SECRET_KEY: it makes both in its instance folder."""
    instance = tmp_path / "instance"
    config = {**base_config(instance), "SECRET_KEY": None, "DATABASE_URL": None}
    application = create_app(config)
    yield application
    database.close_client(application)
    stop_embedded_server(instance)


def test_everything_in_the_instance_folder_is_private(embedded_app: Flask) -> None:
    client = embedded_app.test_client()
    headers = sign_up_and_log_in(client, "ada@example.com")
    form = {"title": "Dune", "category": "science", "cover_image": (image_bytes(), "c.jpg")}
    created = client.post("/books/", headers=headers, data=form)
    with embedded_app.app_context():
        mailer.send(mailer.build_message("ada@example.com", "Reset", "token"))

    instance = Path(embedded_app.instance_path)
    assert created.status_code == 201, created.json
    assert len(cover_files(embedded_app)) == 1
    assert list((instance / "mail").glob("*.eml"))
    assert list((instance / "database").iterdir())
    assert open_to_others(instance) == []


def test_folders_made_before_are_closed_at_start(
    make_app: Callable[..., Flask], tmp_path: Path
) -> None:
    instance = tmp_path / "instance"
    for name in ("mail", "covers"):
        (instance / name).mkdir(parents=True)
    for folder in (instance, instance / "mail", instance / "covers"):
        folder.chmod(0o755)

    make_app()

    modes = {
        path.name: stat.S_IMODE(path.stat().st_mode) for path in (instance, *instance.iterdir())
    }
    assert set(modes.values()) == {0o700}


# Indexes the database refuses --------------------------------------------------------------------

NOT_IMPLEMENTED = 238


class RefusingCollection(Collection):
    """A collection whose server refuses the index options named by its client, as FerretDB does."""

    def create_index(
        self, keys: Any, session: Any = None, comment: Any = None, **kwargs: Any
    ) -> str:
        """Refuse an index with a refused option; create any other."""
        refused = type(self.database.client).refused_options
        if refused & kwargs.keys():
            type(self.database.client).refusals.append(kwargs.get("name"))
            raise OperationFailure(
                "Index option is not implemented yet",
                code=NOT_IMPLEMENTED,
                details={"ok": 0, "code": NOT_IMPLEMENTED, "codeName": "NotImplemented"},
            )
        return super().create_index(keys, session=session, comment=comment, **kwargs)


class RefusingDatabase(Database):
    """A database handing out RefusingCollections."""

    def __getitem__(self, name: str) -> Collection:
        """Return the named collection."""
        return RefusingCollection(self, name)

    def get_collection(self, name: str, *args: Any, **kwargs: Any) -> Collection:
        """Return the named collection with the given options."""
        return RefusingCollection(self, name, False, *args, **kwargs)


class RefusingClient(MongoClient):
    """A client of a server that refuses some index options (set by subclasses)."""

    refused_options: frozenset[str] = frozenset()
    refusals: list[str | None]

    def get_default_database(self, default: str | None = None, **kwargs: Any) -> Database:
        """Return the URL's database as a RefusingDatabase."""
        base = super().get_default_database(default, **kwargs)
        return RefusingDatabase(
            self,
            base.name,
            base.codec_options,
            base.read_preference,
            base.write_concern,
            base.read_concern,
        )


def refusing_client(*options: str) -> type[RefusingClient]:
    """Return a client class whose server refuses these index options, recording each refusal."""
    return type(
        "Refusing", (RefusingClient,), {"refused_options": frozenset(options), "refusals": []}
    )


@real_server_only
def test_a_refused_ttl_index_is_skipped_once_and_the_api_works(
    make_app: Callable[..., Flask], caplog: pytest.LogCaptureFixture
) -> None:
    client_class = refusing_client("expireAfterSeconds")
    with caplog.at_level(logging.WARNING, logger="store.database"):
        app = make_app(
            MONGO_CLIENT_CLASS=client_class,
            RATELIMIT_ENABLED=True,
            RATELIMIT_LOGIN_PER_ACCOUNT="2 per minute",
        )
    client = app.test_client()
    user = sign_up(client, "ada@example.com")
    headers = {"Authorization": f"Bearer {log_in(client, 'ada@example.com')}"}
    form = {"title": "Dune", "category": "science"}
    first = client.post(
        "/books/",
        headers={**headers, "Idempotency-Key": "k1"},
        data={**form, "cover_image": (image_bytes(), "c.jpg")},
    )
    retry = client.post(
        "/books/",
        headers={**headers, "Idempotency-Key": "k1"},
        data={**form, "cover_image": (image_bytes(), "c.jpg")},
    )
    wrong = {"email": "ada@example.com", "password": "Wrong-Horse-9"}
    failures = [client.post("/users/login", json=wrong).status_code for _ in range(2)]
    limited = client.post("/users/login", json={"email": "ada@example.com", "password": PASSWORD})
    ready = client.get("/ready")

    assert user["email"] == "ada@example.com"
    assert first.status_code == retry.status_code == 201
    assert retry.json == first.json
    # The per-account login limit (2 per minute) still counts without its clean-up index.
    assert failures == [401, 401]
    assert limited.status_code == 429
    assert ready.status_code == 200
    assert ready.json == {
        "message": "ready",
        "data": {
            "status": "ready",
            "database": "ok",
            "degraded": [
                "email_token_expiry",
                "idempotency_expiry",
                "passkey_challenge_expiry",
                "rate_limits_expiry",
            ],
        },
    }
    assert sorted(client_class.refusals) == [
        "email_token_expiry",
        "idempotency_expiry",
        "passkey_challenge_expiry",
        "rate_limits_expiry",
    ]
    warnings = [
        record.getMessage() for record in caplog.records if "refused" in record.getMessage()
    ]
    assert len(warnings) == 4
    assert all("expiry is checked" in warning for warning in warnings)
    with app.app_context():
        assert database.get_db().books.count_documents({}) == 1


@real_server_only
def test_a_refused_unique_index_makes_ready_503_and_requests_still_answer(
    make_app: Callable[..., Flask],
) -> None:
    client_class = refusing_client("unique")
    app = make_app(MONGO_CLIENT_CLASS=client_class)
    client = app.test_client()

    signed_up = client.post(
        "/users/", json={"name": "Ada Lovelace", "email": "ada@example.com", "password": PASSWORD}
    )
    ready = client.get("/ready")

    assert signed_up.status_code == 201
    assert signed_up.json["data"]["email"] == "ada@example.com"
    assert ready.status_code == 503
    assert ready.json == {
        "message": "database refused required indexes: "
        "email_key_unique, passkey_credential_unique, shelf_isbn_unique, shelf_title_unique",
        "data": None,
        "error": "Service Unavailable",
    }
    # Refused at start-up only, never again per request.
    assert sorted(client_class.refusals) == [
        "email_key_unique",
        "passkey_credential_unique",
        "shelf_isbn_unique",
        "shelf_title_unique",
    ]


def test_only_an_answered_refusal_counts_as_one() -> None:
    assert database.is_refusal(OperationFailure("not implemented", code=NOT_IMPLEMENTED))
    # MaxTimeMSExpired is an OperationFailure too, but a slow server, not a "no".
    assert not database.is_refusal(OperationFailure("too slow", code=50))
    assert not database.is_refusal(AutoReconnect("connection reset"))
