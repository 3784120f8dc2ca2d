"""Item 2: latency as one shelf grows to 100, 10,000 and 100,000 books among 100,000 others.

The production server (gunicorn, embedded default) answers one client on a keep-alive
connection; books are written straight into the `books` collection with insert_many, in the
shape models.Books.create writes, one transaction per batch (nx-27017 then commits once a batch),
with the shelf counts and search terms Books.create keeps (shelf_index.index_books).
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bson import ObjectId
from pymongo import MongoClient

from bench.harness import (
    BenchError,
    Client,
    Server,
    bearer,
    sign_up_and_log_in,
    stored_book,
)
from store import shelf_index
from validate import CATEGORIES

SHELF_SIZES = (100, 10_000, 100_000)
OTHER_BOOKS = 100_000
OTHER_OWNERS = 100
BATCH = 5_000
# Two searches: one whose matches stay 20 books (a full page) whatever the shelf holds, which
# shows what the shelf's size costs a search; one whose matches grow with the shelf (one book in
# SEARCH_EVERY), which shows what the number of matches costs it.
FIXED_WORD = "zanzibar"
FIXED_MATCHES = 20
GROWING_WORD = "lantern"
SEARCH_EVERY = 50
GROWING_QUERY = f"search, 1 book in {SEARCH_EVERY} (q={GROWING_WORD})"
QUERIES = {
    "20-book page": "/books/",
    "20-book page by title": "/books/?sort=title",
    "filtered page (category)": "/books/?category=poetry",
    "single-book read": None,  # filled in with a book of the shelf
    f"search, 20 matches (q={FIXED_WORD})": f"/books/?q={FIXED_WORD}",
    GROWING_QUERY: f"/books/?q={GROWING_WORD}",
}
ROUNDS = 10
BUDGET_SECONDS = 5.0
EPOCH = datetime(2020, 1, 1, tzinfo=UTC)


@dataclass
class Latency:
    """What one query took at one shelf size: a median, or the status that ended it."""

    median_ms: float
    samples: int
    failure: str | None = None

    def text(self) -> str:
        """Return the figure as a table cell."""
        if self.failure:
            return self.failure
        return f"{self.median_ms:.1f} ms"


@dataclass
class GrowthFigures:
    """Latency of each query at each shelf size."""

    latencies: dict[str, dict[int, Latency]] = field(default_factory=dict)
    insert_rate: float = 0.0
    other_books: int = OTHER_BOOKS

    def ratio(self, query: str) -> float | None:
        """Return the largest shelf's latency over the smallest's, None if either failed."""
        row = self.latencies[query]
        small, large = row[min(row)], row[max(row)]
        if small.failure or large.failure:
            return None
        return large.median_ms / small.median_ms

    def per_match_ratio(self) -> float | None:
        """Return the growing search's cost per match at the largest shelf over the one before.

        Its matches grow with the shelf (2, 200, 2,000) and an exact total checks each one
        against its book, so its latency follows them; what must not grow is a match's cost.
        """
        row = self.latencies[GROWING_QUERY]
        sizes = sorted(row)[-2:]
        if len(sizes) < 2 or any(row[size].failure for size in sizes):
            return None
        before, after = (row[size].median_ms / matches(size) for size in sizes)
        return after / before


def matches(size: int) -> int:
    """Return how many books of a shelf of this size the growing search matches."""
    return len(range(7, size, SEARCH_EVERY))


def book_title(number: int) -> str:
    """Return the title of a shelf's book number `number`."""
    title = f"Volume {number} of the {CATEGORIES[number % 8]} series"
    if number < FIXED_MATCHES:
        title += f" set in {FIXED_WORD.title()}"
    if number % SEARCH_EVERY == 7:
        title += f" with a {GROWING_WORD}"
    return title


def book_documents(owner: str, numbers: range, clock: Iterator[int]) -> Iterator[dict[str, Any]]:
    """Yield a shelf's books numbered `numbers`, each created a millisecond after the last."""
    for number in numbers:
        yield stored_book(
            owner,
            book_title(number),
            CATEGORIES[number % 8],
            EPOCH + timedelta(milliseconds=next(clock)),
            f"Notes on volume {number}: a story told in {number % 97 + 3} parts.",
        )


def insert_books(client: MongoClient, documents: Iterator[dict[str, Any]]) -> int:
    """Insert documents in batches, one transaction each, with their counts and search terms."""
    database = client.get_default_database()
    count = 0
    while batch := list(itertools.islice(documents, BATCH)):
        with client.start_session() as session, session.start_transaction():
            database.books.insert_many(batch, ordered=False, session=session)
            shelf_index.index_books(database, batch, session=session)
        count += len(batch)
    return count


def measure_query(client: Client, path: str, headers: dict[str, str]) -> Latency:
    """Return the median latency of a query (bounded in rounds and time)."""
    samples: list[float] = []
    deadline = time.monotonic() + BUDGET_SECONDS
    for attempt in itertools.count():
        start = time.perf_counter()
        answer = client.get(path, headers)
        elapsed = time.perf_counter() - start
        if answer.status != 200:
            return Latency(elapsed * 1000, 1, f"{answer.status} after {elapsed:.1f} s")
        if attempt > 0:  # the first request warms caches up
            samples.append(elapsed)
        if len(samples) >= ROUNDS or (len(samples) >= 3 and time.monotonic() > deadline):
            break
    return Latency(statistics.median(samples) * 1000, len(samples))


def wait_for_database(database_url: str) -> None:
    """Wait until nx-27017 answers again (it runs one command at a time)."""
    with MongoClient(database_url, serverSelectionTimeoutMS=120_000, timeoutMS=180_000) as client:
        client.admin.command("ping")


def check_shelf(client: Client, headers: dict[str, str], size: int) -> None:
    """Make sure the API sees the shelf the benchmark wrote."""
    answer = client.get("/books/", headers)
    total = answer.json()["pagination"]["total"] if answer.status == 200 else None
    if total != size:
        raise BenchError(f"the shelf should hold {size} books, the API counts {total}")


def measure(sizes: tuple[int, ...] = SHELF_SIZES, others: int = OTHER_BOOKS) -> GrowthFigures:
    """Grow one shelf through `sizes` among `others` books and time each query at each size."""
    figures = GrowthFigures(latencies={query: {} for query in QUERIES}, other_books=others)
    with tempfile.TemporaryDirectory(prefix="bench-growth-") as folder:
        instance = Path(folder) / "instance"
        with Server(instance, app="wsgi:app") as server:
            http = Client(server.url)
            login = sign_up_and_log_in(http, "shelf@example.com")
            headers = bearer(login["token"])
            owner = login["_id"]
            state = json.loads((instance / "database" / "server.json").read_text())
            database_url = f"mongodb://127.0.0.1:{state['port']}/myDatabase"
            clock = itertools.count()
            with MongoClient(database_url, tz_aware=True) as database:
                books = database.get_default_database().books
                owners = [str(ObjectId()) for _ in range(OTHER_OWNERS)]
                per_owner = others // OTHER_OWNERS
                inserting = time.perf_counter()
                inserted = insert_books(
                    database,
                    (
                        document
                        for index, owner_id in enumerate(owners)
                        for document in book_documents(
                            owner_id, range(index * per_owner, (index + 1) * per_owner), clock
                        )
                    ),
                )
                insert_seconds = time.perf_counter() - inserting
                shelf = 0
                for size in sizes:
                    inserting = time.perf_counter()
                    inserted += insert_books(
                        database, book_documents(owner, range(shelf, size), clock)
                    )
                    insert_seconds += time.perf_counter() - inserting
                    shelf = size
                    check_shelf(http, headers, size)
                    key = " ".join(book_title(size // 2).split()).casefold()
                    middle = books.find_one({"user_id": {"$eq": owner}, "title_key": {"$eq": key}})
                    for query, path in QUERIES.items():
                        target = path or f"/books/{middle['_id']}"
                        latency = measure_query(http, target, headers)
                        figures.latencies[query][size] = latency
                        if latency.failure and size != sizes[-1]:
                            http.close()
                            wait_for_database(database_url)
                figures.insert_rate = inserted / insert_seconds
            http.close()
    return figures


def main() -> None:
    """Measure and print the figures of item 2."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SHELF_SIZES))
    parser.add_argument("--others", type=int, default=OTHER_BOOKS)
    arguments = parser.parse_args()
    figures = measure(tuple(arguments.sizes), arguments.others)
    print(f"inserted at {figures.insert_rate:.0f} books/s")
    for query, row in figures.latencies.items():
        cells = "  ".join(f"{size:>7}: {latency.text():>18}" for size, latency in row.items())
        print(f"{query:28} {cells}")


if __name__ == "__main__":
    main()
