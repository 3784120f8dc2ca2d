"""Item 1: authenticated reads against their floors, side by side on the production server.

For each backend (the embedded default, then mongomock) one gunicorn server with the production
settings serves bench/floor_app.py: the real routes and the two floors run in the same workers.
wrk (one thread, keep-alive connections) measures requests per second of each endpoint in turn,
rounds interleaved so that drift on a shared machine hits every endpoint alike. Floor (b) takes
the user and session ids from headers, unverified: what it skips is exactly the token's work.

Beside the throughput, each run measures the CPU time gunicorn's workers and the embedded database
spent on it, per request: on a machine shared with other work the throughput moves with their load,
while what a request costs in CPU barely does, so the CPU ratio is the steadier comparison.
"""

from __future__ import annotations

import argparse
import base64
import json
import math
import statistics
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.harness import (
    BenchError,
    Client,
    Server,
    WrkRun,
    bearer,
    cpu_seconds,
    create_book,
    embedded_server_pid,
    run_wrk,
    sign_up_and_log_in,
    small_cover,
)

# The tutorial's list answers every book of the shelf: 20, one page of the real route.
SHELF_SIZE = 20
CONNECTIONS = 8
ROUTES = ("book", "books")
KINDS = ("real", "minimal", "bare", "tutorial")
BACKENDS = {
    # The production defaults: 2 x CPUs + 1 gevent workers, rate limits on.
    "embedded": {},
    # mongomock lives in each worker, so one worker holds the data.
    "mongomock": {"BENCH_BACKEND": "mongomock", "WEB_CONCURRENCY": "1"},
}


@dataclass
class ReadFigures:
    """Requests per second of one real route and of its three floors, and the ratios."""

    backend: str
    route: str
    real: float
    minimal: float
    bare: float
    tutorial: float
    of_minimal: float
    of_bare: float
    of_tutorial: float
    p99_ms: float
    errors: int
    # CPU time (workers and database) per request of the real route and of floor (c), in us,
    # and the median of the rounds' ratios real / (c): below 1.0, the real route costs less.
    real_cpu_us: float
    tutorial_cpu_us: float
    cpu_of_tutorial: float


def seed(server: Server) -> dict[str, str]:
    """Sign up a user with SHELF_SIZE books; return the ids and token the requests need."""
    client = Client(server.url)
    login = sign_up_and_log_in(client, "reader@example.com")
    token = login["token"]
    cover = small_cover()
    first = None
    for number in range(SHELF_SIZE):
        answer = create_book(
            client,
            token,
            f"Book number {number}",
            cover,
            description=f"The description of book {number}, long enough to look like one.",
        )
        if answer.status != 201:
            raise BenchError(f"create answered {answer.status}: {answer.body[:200]!r}")
        first = first or answer.json()["data"]["_id"]
    claims = json.loads(_base64url(token.split(".")[1]))
    return {"token": token, "book": first, "user": claims["sub"], "session": claims["sid"]}


def _base64url(text: str) -> bytes:
    """Decode unpadded base64url."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def endpoints(ids: dict[str, str]) -> dict[str, tuple[str, dict[str, str]]]:
    """Return each measured endpoint: path and headers."""
    real = bearer(ids["token"])
    minimal = {"X-Bench-User": ids["user"], "X-Bench-Session": ids["session"]}
    return {
        "book real": (f"/books/{ids['book']}", real),
        "book minimal": (f"/bench/minimal/books/{ids['book']}", minimal),
        "book bare": ("/bench/bare/book", {}),
        "book tutorial": (f"/bench/tutorial/books/{ids['book']}", real),
        "books real": ("/books/", real),
        "books minimal": ("/bench/minimal/books", minimal),
        "books bare": ("/bench/bare/books", {}),
        "books tutorial": ("/bench/tutorial/books", real),
    }


def record_fixture(server: Server, ids: dict[str, str], fixture: Path) -> None:
    """Write the real answers for floor (a), then check every floor answers the same bytes."""
    client = Client(server.url)
    answers = {}
    for name, route in (("book", "book"), ("books", "books")):
        path, headers = endpoints(ids)[f"{route} real"]
        answer = client.get(path, headers)
        if answer.status != 200:
            raise BenchError(f"GET {path} answered {answer.status}")
        answers[name] = answer
    fixture.write_text(json.dumps({name: a.json() for name, a in answers.items()}))
    for name, (path, headers) in endpoints(ids).items():
        answer = client.get(path, headers)
        expected = answers[name.split()[0]]
        if name.endswith("tutorial"):
            # The tutorial's design answers the same books, without pagination.
            if answer.status != 200 or answer.json()["data"] != expected.json()["data"]:
                raise BenchError(f"{name} does not answer the same books as the real route")
        elif answer.body != expected.body:
            raise BenchError(f"{name} does not answer the same JSON as the real route")


def measure(
    backend: str,
    rounds: int,
    seconds: float,
    connections: int,
    routes: tuple[str, ...] = ROUTES,
    kinds: tuple[str, ...] = KINDS,
) -> list[ReadFigures]:
    """Serve one backend and measure each endpoint `rounds` times, interleaved.

    Within a round the real route and its floors run back to back, in an order reversed every
    other round, so that a machine getting busier or quieter favours none of them; each ratio is
    the median of the rounds' own ratios. `routes` and `kinds` pick the endpoints measured (the
    real route is always one of them).
    """
    with tempfile.TemporaryDirectory(prefix="bench-reads-") as folder:
        fixture = Path(folder) / "fixture.json"
        settings = {**BACKENDS[backend], "BENCH_FIXTURE": str(fixture)}
        with Server(Path(folder) / "instance", **settings) as server:
            ids = seed(server)
            record_fixture(server, ids, fixture)
            paths = {
                name: endpoint
                for name, endpoint in endpoints(ids).items()
                if name.split()[0] in routes and name.split()[1] in {"real", *kinds}
            }
            runs: dict[str, list] = {name: [] for name in paths}
            database_pid = embedded_server_pid(server.instance)
            pids = {*server.worker_pids(), *([database_pid] if database_pid else [])}
            for path, headers in paths.values():  # warm every worker up
                run_wrk(server.url + path, 1, connections, headers)
            for number in range(rounds):
                order = list(paths.items())
                for name, (path, headers) in order if number % 2 == 0 else reversed(order):
                    before = cpu_seconds(pids)
                    run = run_wrk(server.url + path, seconds, connections, headers)
                    run.extra["cpu_us"] = (cpu_seconds(pids) - before) / max(run.requests, 1) * 1e6
                    runs[name].append(run)
    return [summarise(backend, route, runs) for route in routes]


def throughput(run: WrkRun) -> float:
    """Return a run's requests per second."""
    return run.per_second


def cpu_us(run: WrkRun) -> float:
    """Return a run's CPU time (workers and database) per request, in us."""
    return float(run.extra["cpu_us"])


def median_of(runs: list[WrkRun], figure: Callable[[WrkRun], float]) -> float:
    """Return the median of a figure over an endpoint's runs (nan: not measured)."""
    return statistics.median(figure(run) for run in runs) if runs else math.nan


def median_ratio(
    runs: list[WrkRun], floors: list[WrkRun], figure: Callable[[WrkRun], float]
) -> float:
    """Return the median over rounds of a run's figure over its floor's (nan: not measured)."""
    if not floors:
        return math.nan
    return statistics.median(
        figure(run) / figure(floor) for run, floor in zip(runs, floors, strict=True)
    )


def summarise(backend: str, route: str, runs: dict[str, list]) -> ReadFigures:
    """Return one route's figures: medians of the rounds and of the rounds' ratios."""
    real, minimal, bare, tutorial = (runs.get(f"{route} {kind}", []) for kind in KINDS)
    every = [*real, *minimal, *bare, *tutorial]
    return ReadFigures(
        backend=backend,
        route="GET /books/<id>" if route == "book" else "GET /books/ (20 books)",
        real=median_of(real, throughput),
        minimal=median_of(minimal, throughput),
        bare=median_of(bare, throughput),
        tutorial=median_of(tutorial, throughput),
        of_minimal=median_ratio(real, minimal, throughput),
        of_bare=median_ratio(real, bare, throughput),
        of_tutorial=median_ratio(real, tutorial, throughput),
        p99_ms=statistics.median(run.p99_ms for run in real),
        errors=sum(run.errors + run.non_2xx for run in every),
        real_cpu_us=median_of(real, cpu_us),
        tutorial_cpu_us=median_of(tutorial, cpu_us),
        cpu_of_tutorial=median_ratio(real, tutorial, cpu_us),
    )


def main() -> None:
    """Measure and print the figures of item 1."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=4)
    parser.add_argument("--connections", type=int, default=CONNECTIONS)
    parser.add_argument("--backend", choices=list(BACKENDS), action="append")
    parser.add_argument(
        "--route", choices=ROUTES, action="append", help="measure only this route (repeatable)"
    )
    parser.add_argument(
        "--floor",
        choices=KINDS[1:],
        action="append",
        help="measure the real route against only this floor (repeatable); nan: not measured",
    )
    arguments = parser.parse_args()
    routes = tuple(arguments.route or ROUTES)
    kinds = tuple(arguments.floor or KINDS)
    for backend in arguments.backend or list(BACKENDS):
        figures = measure(
            backend, arguments.rounds, arguments.seconds, arguments.connections, routes, kinds
        )
        for row in figures:
            print(
                f"{row.backend:10} {row.route:24} real {row.real:7.0f}/s  "
                f"minimal {row.minimal:7.0f}/s  bare {row.bare:7.0f}/s  "
                f"tutorial {row.tutorial:7.0f}/s  real/minimal {row.of_minimal:5.2f}  "
                f"real/bare {row.of_bare:5.2f}  real/tutorial {row.of_tutorial:5.2f}  "
                f"p99 {row.p99_ms:6.1f} ms  errors {row.errors}  "
                f"cpu/request real {row.real_cpu_us:5.0f} us  "
                f"tutorial {row.tutorial_cpu_us:5.0f} us  real/tutorial {row.cpu_of_tutorial:5.2f}"
            )


if __name__ == "__main__":
    main()
