"""Rate-limit counters in the app's database: the Flask-Limiter storage and its bulk writes.

The counters live in the ``rate_limits`` collection of the database DATABASE_URL names, so every
process and instance sharing it shares them. The storage speaks only plain ``$inc``/``$set``
updates, which every MongoDB-protocol server understands. If that database fails, the
storage fails open with a logged warning and leaves it alone for a few seconds.

Every increment is one atomic ``$inc`` that answers the new count, made before the request's
password or code is checked: concurrent requests (in any process or instance) each get a count of
their own, so no more of them pass than the limit allows. The storage remembers what a request
added to each counter, so that a request that turns out not to count (a right password) takes
exactly its own increments back (refund_reservations).
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from flask import Flask, current_app, has_request_context, request
from limits.storage import Storage
from pymongo import ReturnDocument
from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError, PyMongoError

from store import database
from store.bulk_writes import BatchUpdate, update_many_in_one_trip

# The name these warnings had before the storage left ratelimit.py: log filters may rely on it.
logger = logging.getLogger("ratelimit")

T = TypeVar("T")

STATE_KEY = "ratelimit_storage"
COLLECTION = "rate_limits"
STORAGE_SCHEME = "app-database"
# Upserts that lose a race to another process retry; more than this means something is wrong.
INCREMENT_ATTEMPTS = 5
# After a storage failure, requests go unlimited (not waiting on the database) for this long.
STORAGE_PAUSE_SECONDS = 5
# Where a request keeps what it knows of its counters (WSGI environ: one per request).
REQUEST_COUNTERS_KEY = "ratelimit.request_counters"


@dataclass
class StorageState:
    """Per-app storage state: whether the clean-up index exists, and a pause after a failure."""

    expiry_index_ready: bool = False
    storage_paused_until: float = 0.0


def init_storage(app: Flask) -> None:
    """Give the app its counter-storage state (init_rate_limits calls this)."""
    app.extensions[STATE_KEY] = StorageState()


def _storage_state() -> StorageState | None:
    """Return the current app's storage state, if init_storage ran."""
    return current_app.extensions.get(STATE_KEY)


# Counters ----------------------------------------------------------------------------------------


class CounterContentionError(Exception):
    """A counter kept changing under an increment (only with absurd contention)."""


@dataclass(frozen=True)
class Reservation:
    """What one request added to one counter: the window it landed in, and how much."""

    window_end: float
    amount: int


@dataclass
class RequestCounters:
    """One request's counters: those it read, and what it added to each (to refund)."""

    # Counter key -> its live counter, or None: no live window when read.
    read: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    reserved: dict[str, Reservation] = field(default_factory=dict)

    def reserve(self, key: str, window_end: float, amount: int) -> None:
        """Remember that this request added amount to the key's window ending at window_end."""
        earlier = self.reserved.get(key)
        if earlier is not None and earlier.window_end == window_end:
            amount += earlier.amount
        # An earlier addition to a window that has since ended needs no refund: it is gone.
        self.reserved[key] = Reservation(window_end, amount)


def request_counters(create: bool = True) -> RequestCounters | None:
    """Return the current request's counters (made on first use), or None outside a request."""
    if not has_request_context():
        return None
    if not create:
        return request.environ.get(REQUEST_COUNTERS_KEY)
    return request.environ.setdefault(REQUEST_COUNTERS_KEY, RequestCounters())


class DatabaseStorage(Storage):
    """Fixed-window counters in the current app's database: {_id: key, count, window_end}."""

    STORAGE_SCHEME = [STORAGE_SCHEME]

    @property
    def base_exceptions(self) -> tuple[type[Exception], ...]:
        """Errors that mean the storage, not the caller, failed."""
        return (PyMongoError, CounterContentionError)

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Add amount to the key's live window atomically (or start one); return the new count.

        The addition is remembered for the request, for refund_reservations.
        """
        counters = request_counters()
        if counters is not None:
            counters.read.pop(key, None)
        counted = fail_open(None, functools.partial(_increment, key, expiry, amount))
        if counted is None:
            return 0
        count, window_end = counted
        if counters is not None:
            counters.reserve(key, window_end, amount)
        return count

    def get(self, key: str) -> int:
        """Return the key's count in its live window (0 if none)."""
        counter = fail_open(None, functools.partial(_live_counter, key))
        return int(counter["count"]) if counter else 0

    def get_expiry(self, key: str) -> float:
        """Return when the key's live window ends (now if none), in epoch seconds."""
        counters = request_counters()
        if counters is not None and key in counters.reserved:
            # This request's own increment answered it: no round trip (e.g. for a 429).
            return counters.reserved[key].window_end
        counter = fail_open(None, functools.partial(_live_counter, key))
        return float(counter["window_end"]) if counter else time.time()

    def check(self) -> bool:
        """Tell whether the database answers."""
        try:
            database.get_db().command("ping")
        except PyMongoError:
            return False
        return True

    def reset(self) -> int | None:
        """Delete every counter; return how many there were."""
        counters = request_counters()
        if counters is not None:
            counters.read.clear()
        return _counters().delete_many({}).deleted_count

    def clear(self, key: str) -> None:
        """Delete one key's counter."""
        counters = request_counters()
        if counters is not None:
            counters.read.pop(key, None)
        _counters().delete_one({"_id": key})


def fail_open(fallback: T, operation: Callable[[], T]) -> T:
    """Run a counter operation; if the database fails, log it and answer as if nothing counted."""
    state = _storage_state()
    if state is not None and time.monotonic() < state.storage_paused_until:
        return fallback
    try:
        return operation()
    except (PyMongoError, CounterContentionError) as error:
        # Fail open, and stop asking for a while: each attempt would wait for the DB timeout,
        # and the route itself will answer 503 if it needs the database too.
        if state is not None:
            state.storage_paused_until = time.monotonic() + STORAGE_PAUSE_SECONDS
        logger.warning(
            "rate-limit storage failed (%s): requests are not limited for %s s",
            type(error).__name__,
            STORAGE_PAUSE_SECONDS,
        )
        return fallback


def _counters() -> Collection:
    """Return the counter collection, with its clean-up index created once per app."""
    collection = database.get_collection(COLLECTION)
    state = _storage_state()
    if state is not None and not state.expiry_index_ready:
        # Only housekeeping: every query checks window_end itself, whenever the TTL monitor runs,
        # so a server refusing TTL indexes costs only the clean-up (logged once, not retried).
        database.create_housekeeping_index(
            collection, "expire_at", expireAfterSeconds=0, name="rate_limits_expiry"
        )
        state.expiry_index_ready = True
    return collection


def _increment(key: str, expiry: int, amount: int) -> tuple[int, float]:
    """Add amount to the key's live counter, or start a window; return the count and window end.

    One atomic find-and-modify answers the count this increment made, so two concurrent
    increments never see the same count. With no live window, _start_window starts one; losing
    that race to another process (a duplicate key) just tries the increment again.
    """
    counters = _counters()
    for _ in range(INCREMENT_ATTEMPTS):
        now = time.time()
        counter = counters.find_one_and_update(
            {"_id": key, "window_end": {"$gt": now}},
            {"$inc": {"count": amount}},
            projection={"count": True, "window_end": True},
            return_document=ReturnDocument.AFTER,
        )
        if counter is not None:
            return int(counter["count"]), float(counter["window_end"])
        if _start_window(counters, key, now, now + expiry, amount):
            return amount, now + expiry
    raise CounterContentionError(key)


def _window(window_end: float) -> dict[str, Any]:
    """Return a counter's window fields: its end, and the date the TTL index expires it at."""
    return {"window_end": window_end, "expire_at": datetime.fromtimestamp(window_end, UTC)}


def _live_counter(key: str) -> dict[str, Any] | None:
    """Return the key's counter if its window is still open (read once per request)."""
    counters = request_counters()
    if counters is not None and key in counters.read:
        counter = counters.read[key]
        # A window that ended since the read counts as none, as a new read would say.
        return counter if counter is not None and counter["window_end"] > time.time() else None
    counter = _counters().find_one(
        {"_id": key, "window_end": {"$gt": time.time()}},
        projection={"count": True, "window_end": True},
    )
    if counters is not None:
        counters.read[key] = counter
    return counter


def is_live(key: str) -> bool:
    """Tell whether the key has a live record (read once per request)."""
    return _live_counter(key) is not None


def remember_key(key: str, seconds: int) -> None:
    """Keep a record under key live for the next seconds (e.g. an address known to an account).

    Already read in this request (e.g. by the ceiling's exemption), a fresh record costs no
    round trip.
    """
    now = time.time()
    record = _live_counter(key)
    if record is not None and record["window_end"] > now + seconds / 2:
        # Still live for over half its life: not worth a write on every success.
        return
    window = _window(now + seconds)
    counters = request_counters()
    if counters is not None:
        counters.read.pop(key, None)
    # A plain $set upsert: two processes remembering one key at once both succeed.
    try:
        _counters().update_one({"_id": key}, {"$set": {"count": 1, **window}}, upsert=True)
    except DuplicateKeyError:
        _counters().update_one({"_id": key}, {"$set": {"count": 1, **window}})


def _start_window(
    counters: Collection, key: str, now: float, window_end: float, amount: int
) -> bool:
    """Replace an expired counter or create one; False if another process got there first."""
    try:
        result = counters.update_one(
            {"_id": key, "window_end": {"$lte": now}},
            {"$set": {"count": amount, **_window(window_end)}},
            upsert=True,
        )
    except DuplicateKeyError:
        # A live counter appeared since our $inc missed it: increment that one instead.
        return False
    return result.upserted_id is not None or result.matched_count == 1


def refund_reservations(keys: Iterable[str]) -> None:
    """Take back what this request added to these counters, each in its own window, in one write.

    An increment whose window has ended since is gone already. A counter back at zero stays until
    its window ends (it counts nothing): deleting it would cost a round trip now and another to
    create it again at the next attempt.
    """
    counters = request_counters(create=False)
    if counters is None:
        return
    refunds = {key: counters.reserved.pop(key) for key in keys if key in counters.reserved}
    update_many_in_one_trip(
        _counters(),
        [
            BatchUpdate(
                {"_id": key, "window_end": reservation.window_end},
                {"$inc": {"count": -reservation.amount}},
            )
            for key, reservation in refunds.items()
        ],
        ordered=False,
    )
