"""The app's database client: one per app, however many threads make its first requests."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import mongomock

from app import create_app
from store import database
from tests.helpers import base_config

RACERS = 8


def test_threads_racing_for_the_first_client_share_one(tmp_path: Path) -> None:
    opened: list[Any] = []
    every_racer_opened = threading.Event()

    def slow_client(*_args: Any, **_options: Any) -> Any:
        """Open a mongomock client; without the lock all 8 racers get here before any returns."""
        opened.append(1)
        if len(opened) == RACERS:
            every_racer_opened.set()
        # With the lock only one racer opens: it waits out the bound, the others wait for it.
        every_racer_opened.wait(timeout=2)
        return mongomock.MongoClient(tz_aware=True)

    app = create_app(
        {
            **base_config(tmp_path / "instance"),
            "DATABASE_URL": "mongodb://mongomock.invalid/clients",
            "MONGO_CLIENT_CLASS": slow_client,
        }
    )
    database.close_client(app)
    opened.clear()
    ready = threading.Barrier(RACERS)
    clients: list[Any] = []

    def first_request() -> None:
        with app.app_context():
            ready.wait(timeout=10)
            clients.append(database.get_client())

    threads = [threading.Thread(target=first_request) for _ in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert len(opened) == 1
    assert len(clients) == RACERS
    assert all(client is clients[0] for client in clients)
    database.close_client(app)


def test_a_collection_is_made_once_per_client_and_anew_after_it_closes(tmp_path: Path) -> None:
    app = create_app(
        {
            **base_config(tmp_path / "instance"),
            "DATABASE_URL": "mongodb://mongomock.invalid/collections",
            "MONGO_CLIENT_CLASS": lambda *_args, **_options: mongomock.MongoClient(tz_aware=True),
        }
    )
    with app.app_context():
        books = database.get_collection("books")

        assert database.get_collection("books") is books
        assert database.get_collection("users").name == "users"
        assert books.database.client is database.get_client()
        database.close_client(app)
        reopened = database.get_collection("books")

        assert reopened.database.client is database.get_client()
        assert reopened.database.client is not books.database.client
    database.close_client(app)
