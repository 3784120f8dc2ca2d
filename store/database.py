"""The app's one MongoClient, created lazily, and the indexes the models rely on."""

from __future__ import annotations

import logging
import threading
from typing import Any

from flask import Flask, current_app
from pymongo import ASCENDING, MongoClient
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import OperationFailure, PyMongoError

from store import shelf_index

logger = logging.getLogger(__name__)

EXTENSION_KEY = "mongo"
DEFAULT_DATABASE_NAME = "myDatabase"


def init_app(app: Flask) -> None:
    """Register the lazy client and create indexes now if the database answers."""
    app.extensions[EXTENSION_KEY] = {
        "client": None,
        # Two threads (or greenlets) making an app's first requests must not both open a client.
        "client_lock": threading.Lock(),
        "db": None,
        # Collection objects by name, made once per client (see get_collection).
        "collections": {},
        "indexes_ready": False,
        # Index name -> what it costs: refused by the server, logged once, never retried.
        "degraded": {},
        "missing": {},
    }
    with app.app_context():
        try:
            ensure_indexes()
        except PyMongoError as error:
            logger.warning(
                "database unreachable at start-up (%s); indexes will be created on first use",
                type(error).__name__,
            )
    # A client must not cross a fork (gunicorn preloads the app): each worker opens its own.
    close_client(app)


def get_client() -> MongoClient:
    """Return the app's MongoClient, creating it on first use."""
    state = current_app.extensions[EXTENSION_KEY]
    if state["client"] is None:
        with state["client_lock"]:
            if state["client"] is None:
                state["client"] = _new_client()
    return state["client"]


def _new_client() -> MongoClient:
    """Open a client on DATABASE_URL with the timeouts and write concern every request relies on."""
    config = current_app.config
    timeout = config["DB_TIMEOUT_MS"]
    client_class = config.get("MONGO_CLIENT_CLASS") or MongoClient
    return client_class(
        config["DATABASE_URL"],
        # One budget per operation (server selection, connecting, waiting for the answer):
        # with the database down, cut off or slow, a request fails fast with a 503.
        timeoutMS=timeout,
        serverSelectionTimeoutMS=timeout,
        connectTimeoutMS=timeout,
        # On a replica set a write is acknowledged once a majority holds it, so a failover
        # loses nothing; retried once on a new primary if the first one stepped down.
        w="majority",
        retryWrites=True,
        tz_aware=True,
        appname="book-library-api",
    )


def get_db() -> Database:
    """Return the database named in DATABASE_URL (default myDatabase), indexes ensured."""
    state = current_app.extensions[EXTENSION_KEY]
    if not state["indexes_ready"]:
        ensure_indexes()
    return _database()


def get_collection(name: str) -> Collection:
    """Return a collection of get_db(), the same object on every request of this client.

    pymongo makes a new Collection object on every `db.name` (about 10 us, options merged and
    codec settings copied): the models' collections are made once instead.
    """
    collection = current_app.extensions[EXTENSION_KEY]["collections"].get(name)
    if collection is None:
        collection = get_db()[name]
        current_app.extensions[EXTENSION_KEY]["collections"][name] = collection
    return collection


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
    create_essential_index(
        db.users, [("email_key", ASCENDING)], unique=True, name="email_key_unique"
    )
    # One title per shelf, compared trimmed and case-folded.
    create_essential_index(
        db.books,
        [("user_id", ASCENDING), ("title_key", ASCENDING)],
        unique=True,
        name="shelf_title_unique",
    )
    # An ISBN once per shelf; books without one hold a unique placeholder (see models).
    create_essential_index(
        db.books, [("isbn_key", ASCENDING)], unique=True, name="shelf_isbn_unique"
    )
    # Pages of a shelf, newest or oldest first, whole or one category.
    db.books.create_index([("user_id", ASCENDING), ("created_at", ASCENDING)], name="shelf_by_date")
    db.books.create_index(
        [("user_id", ASCENDING), ("category", ASCENDING), ("created_at", ASCENDING)],
        name="shelf_category_by_date",
    )
    # Covers are served only while a book names them.
    db.books.create_index([("cover", ASCENDING)], name="book_cover")
    # The book an Idempotency-Key created, found by a retry whose first attempt died.
    db.books.create_index(
        [("user_id", ASCENDING), ("idempotency_key", ASCENDING)], name="shelf_idempotency_key"
    )
    ensure_record_indexes(db)
    shelf_index.ensure_indexes(db)
    shelf_index.ensure_built(db)
    current_app.extensions[EXTENSION_KEY]["indexes_ready"] = True


def ensure_record_indexes(db: Database) -> None:
    """Create the indexes of Idempotency-Key records, emailed tokens, passkeys and challenges."""
    # Idempotency-Key records expire after a day (MongoDB and nx-27017 remove them).
    create_housekeeping_index(
        db.idempotency_keys,
        [("expires_at", ASCENDING)],
        expireAfterSeconds=0,
        name="idempotency_expiry",
    )
    # Emailed tokens: consume checks expiry itself; the TTL index clears the ones never used.
    create_housekeeping_index(
        db.email_tokens,
        [("expires_at", ASCENDING)],
        expireAfterSeconds=0,
        name="email_token_expiry",
    )
    db.email_tokens.create_index(
        [("user_id", ASCENDING), ("purpose", ASCENDING)], name="email_tokens_by_user"
    )
    # One owner per credential id: a credential registered twice is refused.
    create_essential_index(
        db.passkeys, [("credential_id", ASCENDING)], unique=True, name="passkey_credential_unique"
    )
    db.passkeys.create_index([("user_id", ASCENDING)], name="passkeys_by_user")
    # The queries check expiry themselves; the TTL index only clears abandoned ceremonies.
    create_housekeeping_index(
        db.passkey_challenges,
        [("expires_at", ASCENDING)],
        expireAfterSeconds=0,
        name="passkey_challenge_expiry",
    )
    db.passkey_challenges.create_index([("user_id", ASCENDING)], name="passkey_challenges_by_user")


def is_refusal(error: PyMongoError) -> bool:
    """Tell a server that answered "no" (an option it lacks) from one that did not answer."""
    return isinstance(error, OperationFailure) and not error.timeout


def create_housekeeping_index(collection: Collection, keys: Any, name: str, **options: Any) -> None:
    """Create an index only housekeeping needs (TTL clean-up); a refusal is logged once and skipped.

    FerretDB 1.x, for one, refuses TTL indexes (code 238): the queries check expiry themselves,
    so only the clean-up of expired documents is lost. An unreachable server still raises.
    """
    try:
        collection.create_index(keys, name=name, **options)
    except PyMongoError as error:
        if not is_refusal(error):
            raise
        degraded = current_app.extensions[EXTENSION_KEY]["degraded"]
        if name not in degraded:
            logger.warning(
                "the database refused index %s (code %s); skipped: expiry is checked by the "
                "queries, but expired documents of %s are not removed",
                name,
                getattr(error, "code", None),
                collection.name,
            )
        degraded[name] = "refused by the database"


def create_essential_index(collection: Collection, keys: Any, name: str, **options: Any) -> None:
    """Create an index the models rely on (uniqueness); a refusal is logged and makes /ready 503."""
    try:
        collection.create_index(keys, name=name, **options)
    except PyMongoError as error:
        if not is_refusal(error):
            raise
        # Retrying on every request would only answer 500s: report it on /ready instead.
        logger.error(
            "the database refused index %s (code %s): its guarantee is not enforced",
            name,
            getattr(error, "code", None),
        )
        current_app.extensions[EXTENSION_KEY]["missing"][name] = "refused by the database"


def index_problems() -> tuple[list[str], list[str]]:
    """Return the names of refused housekeeping indexes and of refused essential ones."""
    state = current_app.extensions[EXTENSION_KEY]
    return sorted(state["degraded"]), sorted(state["missing"])


def count_matching(collection: Collection, criteria: dict[str, Any]) -> int:
    """Count the documents matching criteria with the count command, which uses indexes.

    count_documents runs an aggregation, which nx-27017 answers by scanning the whole collection.
    A client that runs no raw commands (an in-process fake of PyMongo, see docs/testing.md)
    counts with count_documents instead.
    """
    query = index_friendly(criteria)
    try:
        answer = collection.database.command({"count": collection.name, "query": query})
    except NotImplementedError:
        return collection.count_documents(criteria)
    return int(answer["n"])


# Values whose bare equality nx-27017 widens to array containment: strings and numbers (not
# booleans, which it may hold as 0 or 1). Documents, arrays and regular expressions mean
# something else bare, and _id is a column of its own that it already reads by index.
_PLAIN_VALUES = (str, int, float)


def index_friendly(criteria: dict[str, Any]) -> dict[str, Any]:
    """Return criteria with each top-level equality on a plain value written as $eq.

    Both forms mean the same to MongoDB, but nx-27017 translates a bare value into "equal, or
    an array containing it", which no index can answer: a shelf's count then reads every book
    of every shelf. Written as $eq, the count reads the shelf's index entries only.
    """
    return {
        field: {"$eq": value}
        if field != "_id"
        and not field.startswith("$")
        and isinstance(value, _PLAIN_VALUES)
        and not isinstance(value, bool)
        else value
        for field, value in criteria.items()
    }


def close_client(app: Flask) -> None:
    """Close the app's client if it was opened."""
    state = app.extensions.get(EXTENSION_KEY)
    if state and state["client"] is not None:
        state["client"].close()
        state["client"] = state["db"] = None
        state["collections"] = {}
