"""Item 5: 50 concurrent clients mixing reads, writes and uploads; `--seconds 600` is the soak.

The production server (gunicorn, embedded default, rate limits off) serves 10 users with 20
books each; wrk (bench/load_mix.lua) keeps 50 connections busy with the mix the script
describes. The resident memory of every server process (gunicorn and the database) is sampled
each second: the soak compares its first and last minutes.
"""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.harness import (
    BENCH_DIR,
    Client,
    Server,
    WrkRun,
    embedded_database,
    embedded_server_pid,
    rss_mib,
    run_wrk,
    sign_up_and_log_in,
    stored_book,
)
from bench.uploads import photo
from store import shelf_index

USERS = 10
BOOKS_PER_USER = 20
CONNECTIONS = 50
THREADS = 2
CATEGORIES = ("poetry", "science", "fantasy", "romance")
SCRIPT = BENCH_DIR / "load_mix.lua"
WARM_UP_SECONDS = 10
# Memory is "flat" when the last minute's median is within this share of the first minute's.
FLAT_TOLERANCE = 0.10


@dataclass
class LoadFigures:
    """What a load run measured."""

    seconds: float
    run: WrkRun
    counts: dict[str, int]
    last_error: str
    memory_mib: list[float] = field(default_factory=list)

    @property
    def errors(self) -> int:
        """Return every failed request: socket errors and 4xx/5xx answers."""
        return self.run.errors + self.run.non_2xx

    def memory_window(self, first: bool) -> float:
        """Return the median resident memory of the first or last minute after warm-up (MiB)."""
        samples = self.memory_mib[WARM_UP_SECONDS:] or self.memory_mib or [0.0]
        window = min(60, max(1, len(samples) // 3))
        return statistics.median(samples[:window] if first else samples[-window:])

    @property
    def memory_growth(self) -> float:
        """Return how much the last minute's memory exceeds the first's, as a share."""
        return self.memory_window(first=False) / self.memory_window(first=True) - 1


def seed(server: Server, instance: Path, folder: Path) -> Path:
    """Sign up the users, put their books in the database; return the wrk data file."""
    client = Client(server.url)
    moment = datetime.now(UTC) - timedelta(days=1)
    users = []
    with embedded_database(instance) as database:
        for number in range(USERS):
            login = sign_up_and_log_in(client, f"load{number}@example.com")
            books = [
                stored_book(
                    login["_id"],
                    f"Seeded book {index}",
                    CATEGORIES[index % len(CATEGORIES)],
                    moment + timedelta(seconds=number * BOOKS_PER_USER + index),
                    f"A seeded book, number {index} of {BOOKS_PER_USER}.",
                )
                for index in range(BOOKS_PER_USER)
            ]
            database.get_default_database().books.insert_many(books)
            # The shelf's counts and search terms, as Books.create keeps them.
            shelf_index.index_books(database.get_default_database(), books)
            users.append((login["_id"], login["token"], [str(book["_id"]) for book in books]))
    cover = folder / "cover.jpg"
    buffer = io.BytesIO()
    photo((1200, 1800)).save(buffer, "JPEG", quality=85)
    cover.write_bytes(buffer.getvalue())
    lines = ["return {", f'  cover = "{cover}",', "  users = {"]
    for user_id, token, books in users:
        ids = ", ".join(f'"{book}"' for book in books)
        lines.append(f'    {{ id = "{user_id}", token = "{token}", books = {{ {ids} }} }},')
    lines += ["  },", "}"]
    data = folder / "load_data.lua"
    data.write_text("\n".join(lines) + "\n")
    return data


def sample_memory(pids: list[int], samples: list[float], stop: threading.Event) -> None:
    """Append the servers' summed resident memory (MiB) every second until stopped."""
    while not stop.wait(1.0):
        samples.append(rss_mib(pids))


def measure(seconds: float, connections: int = CONNECTIONS) -> LoadFigures:
    """Serve the API, seed it, and run the mix for `seconds`."""
    with tempfile.TemporaryDirectory(prefix="bench-load-") as folder:
        instance = Path(folder) / "instance"
        settings = {"RATELIMIT_ENABLED": "false", "ACCESS_TOKEN_TTL": str(int(seconds) + 600)}
        with Server(instance, app="wsgi:app", **settings) as server:
            data = seed(server, instance, Path(folder))
            pids = [*server.pids(), embedded_server_pid(instance) or 0]
            samples: list[float] = []
            stop = threading.Event()
            sampler = threading.Thread(target=sample_memory, args=(pids, samples, stop))
            sampler.start()
            try:
                run = run_wrk(
                    server.url + "/",
                    seconds,
                    connections,
                    script=SCRIPT,
                    threads=THREADS,
                    environment={"BENCH_LOAD_DATA": str(data)},
                )
            finally:
                stop.set()
                sampler.join()
    kinds = ("reads", "pages", "updates", "creates", "deletes")
    return LoadFigures(
        seconds=seconds,
        run=run,
        counts={kind: int(run.extra[kind]) for kind in kinds},
        last_error=str(run.extra.get("last_error", "")),
        memory_mib=samples,
    )


def report(figures: LoadFigures) -> str:
    """Return the figures as text."""
    run = figures.run
    counts = ", ".join(f"{kind} {count}" for kind, count in figures.counts.items())
    lines = [
        f"{CONNECTIONS} clients for {run.seconds:.0f} s: {run.requests} requests "
        f"({run.per_second:.1f}/s): {counts}",
        f"latency p50 {run.p50_ms:.0f} ms, p95 {run.p95_ms:.0f} ms, p99 {run.p99_ms:.0f} ms",
        f"errors {figures.errors} (socket {run.errors}, 4xx/5xx {run.non_2xx})"
        + (f"; last: {figures.last_error}" if figures.last_error else ""),
        f"server memory: first minute {figures.memory_window(True):.0f} MiB, last minute "
        f"{figures.memory_window(False):.0f} MiB ({figures.memory_growth:+.1%})",
    ]
    return "\n".join(lines)


def main() -> None:
    """Run the load (or, with --seconds 600, the soak) and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--connections", type=int, default=CONNECTIONS)
    parser.add_argument("--write", type=Path, help="also write the report to this file")
    arguments = parser.parse_args()
    started = time.strftime("%Y-%m-%d %H:%M")
    figures = measure(arguments.seconds, arguments.connections)
    text = report(figures)
    print(text)
    if arguments.write:
        flat = figures.memory_growth <= FLAT_TOLERANCE
        arguments.write.write_text(
            f"# Soak ({started}, {arguments.seconds:.0f} s, `make soak`)\n\n```\n{text}\n```\n\n"
            f"Memory {'flat' if flat else '**not flat**'}: the last minute's median is "
            f"{figures.memory_growth:+.1%} on the first minute's (after {WARM_UP_SECONDS} s of "
            f"warm-up); flat means within {FLAT_TOLERANCE:.0%}.\n"
        )


if __name__ == "__main__":
    main()
