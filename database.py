"""The app's one MongoClient, created lazily, and the indexes the models rely on."""

from __future__ import annotations

import logging

from flask import Flask, current_app
from pymongo import ASCENDING, MongoClient
from pymongo.database import Database
from pymongo.errors import PyMongoError

logger = logging.getLogger(__name__)

EXTENSION_KEY = "mongo"
DEFAULT_DATABASE_NAME = "myDatabase"


def init_app(app: Flask) -> None:
    """Register the lazy client and create indexes now if the database answers."""
    app.extensions[EXTENSION_KEY] = {"client": None, "db": None, "indexes_ready": False}
    with app.app_context():
        try:
            ensure_indexes()
        except PyMongoError:
            logger.warning("database unreachable at start-up; indexes will be created on first use")
    # A client must not cross a fork (gunicorn preloads the app): each worker opens its own.
    close_client(app)


def get_client() -> MongoClient:
    """Return the app's MongoClient, creating it on first use."""
    state = current_app.extensions[EXTENSION_KEY]
    if state["client"] is None:
        config = current_app.config
        timeout = config["DB_TIMEOUT_MS"]
        client_class = config.get("MONGO_CLIENT_CLASS") or MongoClient
        state["client"] = client_class(
            config["DATABASE_URL"],
            serverSelectionTimeoutMS=timeout,
            connectTimeoutMS=timeout,
            socketTimeoutMS=timeout * 5,
            tz_aware=True,
            appname="book-library-api",
        )
    return state["client"]


def get_db() -> Database:
    """Return the database named in DATABASE_URL (default myDatabase), indexes ensured."""
    state = current_app.extensions[EXTENSION_KEY]
    if not state["indexes_ready"]:
        ensure_indexes()
    return _database()


def _database() -> Database:
    """Return the database named in the URL, without checking indexes."""
    state = current_app.extensions[EXTENSION_KEY]
    if state["db"] is None:
        state["db"] = get_client().get_default_database(DEFAULT_DATABASE_NAME)
    return state["db"]


def ensure_indexes() -> None:
    """Create every index the models rely on; safe to run again and from several processes."""
    db = _database()
    # One active account per normalised email: disabled accounts move their key aside.
    db.users.create_index([("email_key", ASCENDING)], unique=True, name="email_key_unique")
    # One title per shelf, compared trimmed and case-folded.
    db.books.create_index(
        [("user_id", ASCENDING), ("title_key", ASCENDING)], unique=True, name="shelf_title_unique"
    )
    db.books.create_index([("user_id", ASCENDING)], name="books_by_owner")
    current_app.extensions[EXTENSION_KEY]["indexes_ready"] = True


def close_client(app: Flask) -> None:
    """Close the app's client if it was opened."""
    state = app.extensions.get(EXTENSION_KEY)
    if state and state["client"] is not None:
        state["client"].close()
        state["client"] = state["db"] = None
