"""`make bench`: every benchmark in turn, one report printed and written to bench/results.md.

Each figure is a ratio of two things measured side by side in the same run, so that a shared or
slower machine moves both alike. A benchmark that fails is reported as such and the others run.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench import growth, load, login_timing, reads, uploads
from bench.harness import BENCH_DIR, ensure_wrk

RESULTS = BENCH_DIR / "results.md"
READ_TARGET = 0.8
# The real routes against the tutorial's own design on the same store (issue 15).
TUTORIAL_TARGET = 1.0
GROWTH_TARGET = 2.0
LOGIN_TARGET = 1.1

logger = logging.getLogger(__name__)


@dataclass
class Section:
    """One item's report: its table and its targets, met or not."""

    number: int
    lines: list[str]
    targets: list[tuple[str, bool]] = field(default_factory=list)

    def target(self, name: str, met: bool) -> str:
        """Record a target and return its verdict as a table cell."""
        self.targets.append((name, met))
        return "met" if met else "**not met**"


def reads_section(figures: list[reads.ReadFigures], settings: dict[str, Any]) -> Section:
    """Return the report of item 1."""
    section = Section(
        1,
        [
            "## 1. Authenticated reads, against their floors",
            "",
            "gunicorn with `gunicorn.conf.py` (production settings), one server per backend "
            "serving the real routes and both floors in the same workers; wrk, "
            f"{settings['connections']} keep-alive connections, {settings['rounds']} rounds of "
            f"{settings['seconds']:g} s per endpoint, interleaved; medians (ratios: median of the "
            "rounds' ratios). (a) bare: the same JSON, no auth, no database. (b) minimal: the "
            "user/session read and the book query (count and page for a list) through the same "
            "client, the same JSON. (c) tutorial: the tutorial's own design (one module-level "
            "client, `jwt.decode`, the user by `_id`, then the book or every book of the user, "
            "`jsonify`).",
            "",
            "| backend | route | real req/s | (b) req/s | (a) req/s | (c) req/s | real / (b) "
            "| real / (a) | real / (c) | real p99 | errors | real / (b) >= 0.8 "
            "| embedded real / (c) >= 1.0 |",
            "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|---|",
        ],
    )
    for row in figures:
        met = row.of_minimal >= READ_TARGET and row.errors == 0
        cell = section.target(f"1. {row.backend} {row.route}: {row.of_minimal:.2f} of (b)", met)
        tutorial_cell = "(reported)"
        if row.backend == "embedded":
            tutorial_cell = section.target(
                f"1. {row.backend} {row.route}: {row.of_tutorial:.2f} of (c)",
                row.of_tutorial >= TUTORIAL_TARGET and row.errors == 0,
            )
        section.lines.append(
            f"| {row.backend} | `{row.route}` | {row.real:.0f} | {row.minimal:.0f} | "
            f"{row.bare:.0f} | {row.tutorial:.0f} | {row.of_minimal:.2f} | {row.of_bare:.2f} | "
            f"{row.of_tutorial:.2f} | {row.p99_ms:.0f} ms | {row.errors} | {cell} | "
            f"{tutorial_cell} |"
        )
    return section


def growth_section(figures: growth.GrowthFigures) -> Section:
    """Return the report of item 2."""
    sizes = sorted(next(iter(figures.latencies.values())))
    header = " | ".join(f"{size:,} books" for size in sizes)
    section = Section(
        2,
        [
            "## 2. Growth of one shelf",
            "",
            "Median latency of one client (keep-alive) through gunicorn on the embedded default; "
            f"the shelf among {figures.other_books:,} other books, written with insert_many at "
            f"{figures.insert_rate:,.0f} books/s. A 503 is the database budget "
            "(`DB_TIMEOUT_MS`, 2 s) running out.",
            "",
            f"| query | {header} | {sizes[-1]:,} / {sizes[0]:,} | <= 2x |",
            "|---|" + "--:|" * len(sizes) + "--:|---|",
        ],
    )
    for query, row in figures.latencies.items():
        ratio = figures.ratio(query)
        shown = "failed" if ratio is None else f"{ratio:.1f}x"
        if query == growth.GROWING_QUERY:
            # Its matches grow 1,000-fold: the target is on the cost of one match (see below).
            per_match = figures.per_match_ratio()
            per_match_shown = "failed" if per_match is None else f"{per_match:.1f}x"
            met = per_match is not None and per_match <= GROWTH_TARGET
            cell = section.target(f"2. {query}: {per_match_shown} per match", met)
            cell = f"{per_match_shown} per match: {cell}"
        else:
            met = ratio is not None and ratio <= GROWTH_TARGET
            cell = section.target(f"2. {query}: {shown}", met)
        cells = " | ".join(row[size].text() for size in sizes)
        section.lines.append(f"| {query} | {cells} | {shown} | {cell} |")
    section.lines += [
        "",
        f"The searches: `q={growth.FIXED_WORD}` matches {growth.FIXED_MATCHES} books at every "
        "size, so it shows what the size of the shelf costs a search; "
        f"`q={growth.GROWING_WORD}` matches one book in {growth.SEARCH_EVERY}, so its matches grow "
        "with the shelf (2, 200, 2,000) and it shows what they cost: its `total` is exact, each "
        "match checked against its book (an index entry alone may be stale after a crash), so "
        "its latency follows its matches, and its target is on the cost of one match, the "
        "largest shelf's against the one before.",
    ]
    page = figures.latencies["20-book page"][sizes[0]]
    single = figures.latencies["single-book read"][sizes[0]]
    if not (page.failure or single.failure) and page.median_ms > 10 * single.median_ms:
        section.lines += [
            "",
            f"The {sizes[0]:,}-book page already takes {page.median_ms:.0f} ms, "
            f"{page.median_ms / single.median_ms:.0f}x a single-book read: its query reads every "
            "book in the database, not the shelf's index entries, so its ratio stays low only "
            "because the small shelf pays for the same scan (see docs/performance.md).",
        ]
    return section


def login_section(figures: login_timing.LoginFigures) -> Section:
    """Return the report of item 3."""
    section = Section(
        3,
        [
            "## 3. Login, against one password-hash verification",
            "",
            f"Hashing: {figures.scheme}, OWASP's recommended Argon2id cost (Password Storage "
            "Cheat Sheet: m=19 MiB, t=2, p=1). Logins through gunicorn (production settings, rate "
            "limits on); the verification in the benchmark's process, with the app's parameters; "
            "interleaved, medians.",
            "",
            "| case | median | x one verification | <= 1.1x |",
            "|---|--:|--:|---|",
            f"| one verification (floor) | {figures.verification_ms:.1f} ms | 1.00 | |",
        ],
    )
    for name, value in figures.logins_ms.items():
        ratio = value / figures.verification_ms
        cell = ""
        if name == "login, right password":
            cell = section.target(f"3. login: {ratio:.2f}x one verification", ratio <= LOGIN_TARGET)
        section.lines.append(f"| {name} | {value:.1f} ms | {ratio:.2f} | {cell} |")
    return section


def uploads_section(figures: list[uploads.UploadFigures]) -> Section:
    """Return the report of item 4."""
    section = Section(4, ["## 4. Cover upload, against Pillow's floor", ""])
    section.lines += uploads.report(figures, section.target)
    return section


def hostile_section(batches: list[uploads.BatchFigures]) -> Section:
    """Return the report of item 6: small files that would decode huge, uploaded at once."""
    section = Section(6, ["## 6. Hostile uploads: memory of the whole server", ""])
    section.lines += uploads.report_hostile(batches)
    for batch in batches:
        section.target(
            f"6. {batch.name}: {batch.peak_mib:.0f} MiB above idle, slowest "
            f"{batch.slowest_seconds:.1f} s, statuses {sorted(set(batch.statuses))}",
            batch.peak_mib < uploads.HOSTILE_MEMORY_TARGET_MIB
            and batch.slowest_seconds < uploads.HOSTILE_TIME_TARGET_SECONDS
            and all(status != 500 for status in batch.statuses),
        )
    return section


def load_section(figures: load.LoadFigures) -> Section:
    """Return the report of item 5."""
    run = figures.run
    counts = ", ".join(f"{count} {kind}" for kind, count in figures.counts.items())
    section = Section(
        5,
        [
            "## 5. Load",
            "",
            f"wrk, {load.CONNECTIONS} connections for {run.seconds:.0f} s through gunicorn "
            "(production settings, rate limits off) on the embedded default, 10 users: "
            f"{counts} (creates upload a 1200x1800 JPEG cover). Memory: all server processes "
            "(gunicorn and the database). The 10-minute soak is `make soak` (bench/soak.md).",
            "",
            "| requests/s | p50 | p95 | p99 | errors | memory, first / last part of the run |",
            "|--:|--:|--:|--:|--:|--:|",
        ],
    )
    cell = section.target(f"5. load: {figures.errors} errors", figures.errors == 0)
    section.lines.append(
        f"| {run.per_second:.1f} | {run.p50_ms:.0f} ms | {run.p95_ms:.0f} ms | "
        f"{run.p99_ms:.0f} ms | {figures.errors} ({cell}) | "
        f"{figures.memory_window(True):.0f} / {figures.memory_window(False):.0f} MiB |"
    )
    if figures.last_error:
        section.lines += ["", f"Last error: `{figures.last_error}`"]
    return section


def attempt(number: int, name: str, action: Callable[[], Section]) -> Section:
    """Run one benchmark; on failure, report it and carry on with the others."""
    started = time.monotonic()
    try:
        section = action()
    except Exception as error:  # a failed benchmark must not hide the others' figures
        logger.exception("%s failed", name)
        failed = Section(number, [f"## {number}. {name}", "", f"**failed**: {error!r}"])
        failed.targets.append((f"{number}. {name}: the benchmark failed", False))
        return failed
    print(f"[bench] {number}. {name}: {time.monotonic() - started:.0f} s", flush=True)
    return section


def render(sections: list[Section], started: float, load_before: float) -> str:
    """Return the whole report: the targets, then each item's table."""
    lines = [
        "# Benchmark results",
        "",
        f"`make bench`: {os.cpu_count()} CPUs, Python {platform.python_version()}, load "
        f"average {load_before:.1f} at the start, {(time.monotonic() - started) / 60:.1f} "
        "minutes. Every ratio compares two things measured side by side in this run.",
        "",
        "Targets:",
        "",
    ]
    ordered = sorted(sections, key=lambda section: section.number)
    for section in ordered:
        for name, met in section.targets:
            lines.append(f"- {'met' if met else '**not met**'}: {name}")
    for section in ordered:
        lines += ["", *section.lines]
    return "\n".join(lines) + "\n"


def main() -> None:
    """Run every benchmark and write the report."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, to try the suite")
    arguments = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    ensure_wrk()
    started = time.monotonic()
    load_before = os.getloadavg()[0]
    read_settings: dict[str, Any] = {"rounds": 5, "seconds": 2.0, "connections": reads.CONNECTIONS}
    sizes, others, load_seconds, upload_rounds = growth.SHELF_SIZES, growth.OTHER_BOOKS, 60.0, 5
    if arguments.quick:
        read_settings.update(rounds=2, seconds=1.0)
        sizes, others, load_seconds, upload_rounds = (100, 1000), 2000, 10.0, 2

    def read_figures() -> Section:
        rows = [
            row for backend in reads.BACKENDS for row in reads.measure(backend, **read_settings)
        ]
        return reads_section(rows, read_settings)

    # Quick ones first; growth, the longest, last.
    sections = [
        attempt(3, "Login", lambda: login_section(login_timing.measure())),
        attempt(4, "Cover upload", lambda: uploads_section(uploads.measure(upload_rounds))),
        attempt(6, "Hostile uploads", lambda: hostile_section(uploads.measure_hostile())),
        attempt(1, "Authenticated reads", read_figures),
        attempt(5, "Load", lambda: load_section(load.measure(load_seconds))),
        attempt(2, "Growth", lambda: growth_section(growth.measure(sizes, others))),
    ]
    text = render(sections, started, load_before)
    RESULTS.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
