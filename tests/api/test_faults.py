"""Database faults through a misbehaving TCP proxy: 503s, no partial writes, recovery by itself."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from pymongo import MongoClient

from app import create_app
from store import database
from tests.faultproxy import FaultProxy
from tests.helpers import PASSWORD, base_config, cover_files, image_bytes, sign_up_and_log_in

pytestmark = pytest.mark.integration

UNAVAILABLE = {
    "message": "The service is temporarily unavailable, try again shortly",
    "data": None,
    "error": "Service Unavailable",
}


@pytest.fixture
def proxy(nx_server_url: str) -> Iterator[FaultProxy]:
    """Yield a proxy in front of the session's nx-27017 server."""
    fault_proxy = FaultProxy(int(nx_server_url.rsplit(":", 1)[1]))
    yield fault_proxy
    fault_proxy.close()


@pytest.fixture
def database_name(nx_server_url: str) -> Iterator[str]:
    """Yield a fresh database name, dropped afterwards."""
    name = f"faults_{uuid.uuid4().hex[:10]}"
    yield name
    with MongoClient(nx_server_url, serverSelectionTimeoutMS=3000) as client:
        client.drop_database(name)


@pytest.fixture
def make_proxied_app(
    proxy: FaultProxy, database_name: str, tmp_path: Path
) -> Iterator[Callable[[], Flask]]:
    """Return a factory of apps that reach the database only through the proxy."""
    made: list[Flask] = []

    def make() -> Flask:
        config = {
            **base_config(tmp_path / "instance"),
            "DATABASE_URL": f"{proxy.url}/{database_name}",
            "DB_TIMEOUT_MS": 1000,
            "READY_TIMEOUT_MS": 500,
        }
        application = create_app(config)
        made.append(application)
        return application

    yield make
    for application in made:
        database.close_client(application)


def timed(action: Callable[[], Any]) -> Any:
    """Run an action and print how long it took (figures for the reader, not assertions)."""
    start = time.perf_counter()
    result = action()
    print(f"answered in {time.perf_counter() - start:.2f} s")
    return result


def new_book(client: Any, headers: dict[str, str], title: str = "Dune") -> Any:
    """POST a book with a cover."""
    form = {"title": title, "category": "science", "cover_image": (image_bytes(), "c.jpg")}
    return client.post("/books/", headers=headers, data=form)


@pytest.mark.parametrize("mode", ["refuse", "blackhole"])
def test_database_down_answers_503_with_retry_after(make_proxied_app, proxy, mode):
    client = make_proxied_app().test_client()
    headers = sign_up_and_log_in(client, "ada@example.com")
    proxy.set_mode(mode)

    response = timed(lambda: client.get("/books/", headers=headers))

    assert response.status_code == 503
    assert response.json == UNAVAILABLE
    assert response.headers["Retry-After"] == "5"


@pytest.mark.parametrize("mode", ["refuse", "blackhole"])
def test_health_stays_up_and_ready_says_503_while_the_database_is_down(
    make_proxied_app, proxy, mode
):
    client = make_proxied_app().test_client()
    proxy.set_mode(mode)

    assert client.get("/health").status_code == 200
    assert client.get("/ready").status_code == 503


def test_login_and_sign_up_answer_503_not_500_while_down(make_proxied_app, proxy):
    client = make_proxied_app().test_client()
    proxy.set_mode("refuse")
    body = {"name": "Ada Lovelace", "email": "ada@example.com", "password": PASSWORD}

    assert client.post("/users/", json=body).status_code == 503
    assert client.post("/users/login", json=body).status_code == 503


def test_a_create_refused_by_the_outage_leaves_no_cover_and_no_book(
    make_proxied_app, proxy, nx_server_url, database_name
):
    app = make_proxied_app()
    client = app.test_client()
    headers = sign_up_and_log_in(client, "ada@example.com")
    proxy.set_mode("refuse")

    response = new_book(client, headers)

    assert response.status_code == 503
    assert cover_files(app) == set()
    proxy.set_mode("pass")
    with MongoClient(nx_server_url, serverSelectionTimeoutMS=3000) as direct:
        assert direct[database_name].books.count_documents({}) == 0


def test_the_app_recovers_by_itself_when_the_database_returns(make_proxied_app, proxy):
    client = make_proxied_app().test_client()
    headers = sign_up_and_log_in(client, "ada@example.com")
    proxy.set_mode("refuse")
    assert client.get("/books/", headers=headers).status_code == 503

    proxy.set_mode("pass")

    assert client.get("/books/", headers=headers).status_code == 200
    assert client.get("/ready").status_code == 200


def test_the_app_starts_while_the_database_is_down_and_works_once_it_is_up(make_proxied_app, proxy):
    proxy.set_mode("refuse")
    client = make_proxied_app().test_client()
    assert client.get("/health").status_code == 200
    assert client.get("/users/", headers={"Authorization": "Bearer x.y.z"}).status_code == 401

    proxy.set_mode("pass")
    headers = sign_up_and_log_in(client, "ada@example.com")

    assert new_book(client, headers).status_code == 201
    # The indexes were created on first use: the unique title still holds.
    assert new_book(client, headers).status_code == 409


def test_a_slow_database_still_answers(make_proxied_app, proxy):
    client = make_proxied_app().test_client()
    headers = sign_up_and_log_in(client, "ada@example.com")
    proxy.delay_seconds = 0.05
    proxy.set_mode("delay")

    response = timed(lambda: client.get("/books/", headers=headers))

    assert response.status_code == 200


def test_connections_cut_mid_load_give_2xx_or_503_never_500_and_lose_nothing(
    make_proxied_app, proxy, nx_server_url, database_name
):
    app = make_proxied_app()
    client = app.test_client()
    headers = sign_up_and_log_in(client, "ada@example.com")
    created, statuses = [], []
    for number in range(12):
        if number % 3 == 1:
            proxy.cut()
        response = new_book(client, headers, f"Book {number}")
        statuses.append(response.status_code)
        if response.status_code == 201:
            created.append(response.json["data"]["_id"])

    assert set(statuses) <= {201, 503}
    with MongoClient(nx_server_url, serverSelectionTimeoutMS=3000) as direct:
        stored = list(direct[database_name].books.find({}, {"cover": 1}))
    assert sorted(str(book["_id"]) for book in stored) == sorted(created)
    assert {book["cover"] for book in stored} == cover_files(app)
