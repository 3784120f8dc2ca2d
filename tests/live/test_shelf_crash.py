"""Workers or the database killed mid-upload leave the pages, totals and search exact (#13)."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psutil
import pytest
import requests

from store import shelf_counts
from tests.api.shelf_checks import assert_agrees, follow_pages
from tests.helpers import image_bytes
from tests.live.server import LiveServer, running, sign_in, sign_up_over_http

pytestmark = pytest.mark.integration

UPLOADS = 90
KILL_AFTER = (8, 20, 32, 44, 56)


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveServer]:
    """Yield a started live server (two workers); stop it and its database afterwards."""
    with running(LiveServer(tmp_path / "instance")) as server:
        yield server


def workers(live: LiveServer) -> list[psutil.Process]:
    """Return gunicorn's worker processes (the embedded database runs on its own)."""
    assert live.process is not None
    state = json.loads((live.instance / "database" / "server.json").read_text())
    children = psutil.Process(live.process.pid).children()
    return [child for child in children if child.pid != state["pid"]]


def wait_for(condition: Any, what: str, seconds: float = 60) -> None:
    """Wait until condition() holds, polling; fail after seconds."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def upload(session_headers: dict[str, str], url: str, number: int) -> str | None:
    """Create one book; return its id on 201, None if the request died with its worker."""
    form = {"title": f"Lantern {number} quay", "category": ["poetry", "science"][number % 2]}
    files = {"cover_image": ("c.jpg", image_bytes(size=(8, 8)).getvalue(), "image/jpeg")}
    try:
        response = requests.post(
            f"{url}/books/", headers=session_headers, data=form, files=files, timeout=30
        )
    except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError):
        # Cut off with its worker, before or during the answer.
        return None
    if response.status_code != 201:
        # A killed worker's request is cut off; an answer, though, must be a clean one.
        assert response.status_code in (502, 503), response.text
        return None
    return response.json()["data"]["_id"]


def kill_a_worker(live: LiveServer) -> None:
    """Kill -9 one gunicorn worker and wait until gunicorn has replaced it."""
    before = workers(live)
    os.kill(before[0].pid, signal.SIGKILL)
    wait_for(lambda: len(workers(live)) == 2 and set(workers(live)) != set(before), "a worker")


def kill_the_database(live: LiveServer) -> None:
    """Kill -9 the embedded database and wait until its supervisor has it answering again."""
    state_file = live.instance / "database" / "server.json"
    before = json.loads(state_file.read_text())["pid"]
    live.kill_database()

    def answering() -> bool:
        """Tell whether a new database process serves the app."""
        if json.loads(state_file.read_text())["pid"] == before:
            return False
        return requests.get(f"{live.url}/ready", timeout=5).status_code == 200

    wait_for(answering, "the database's restart")


@pytest.mark.parametrize(
    ("kill", "kill_after"),
    [(kill_a_worker, KILL_AFTER), (kill_the_database, KILL_AFTER[1::2])],
    ids=["worker", "database"],
)
def test_kills_mid_upload_leave_every_created_book_listed_counted_and_found(
    live: LiveServer, kill: Callable[[LiveServer], None], kill_after: tuple[int, ...]
) -> None:
    user = sign_up_over_http(live.url, "ada@example.com")
    headers = sign_in(live.url, "ada@example.com")
    created: list[str] = []
    lock = threading.Lock()

    def one(number: int) -> None:
        book_id = upload(headers, live.url, number)
        if book_id is not None:
            with lock:
                created.append(book_id)

    with ThreadPoolExecutor(max_workers=6) as pool:
        futures = [pool.submit(one, number) for number in range(UPLOADS)]
        for threshold in kill_after:
            wait_for(lambda t=threshold: len(created) >= t, f"{threshold} uploads")
            kill(live)
        for future in futures:
            future.result()

    with live.database() as client:
        books = client.myDatabase.books
        user_id = user["_id"]
        truth = {str(book["_id"]) for book in books.find({"user_id": user_id}, {"_id": 1})}
        session = requests.Session()
        session.headers.update(headers)

        def get(path: str) -> requests.Response:
            """GET a path of the live server."""
            return session.get(f"{live.url}{path}", timeout=10)

        # Every book that got a 201 is stored, listed once, counted and found by its title.
        assert set(created) <= truth
        assert len(created) >= kill_after[-1]
        assert_agrees(get, "/books/?per_page=7", truth)
        assert_agrees(
            get, "/books/?per_page=9&category=poetry", _of_category(books, truth, "poetry")
        )
        assert_agrees(get, "/books/?per_page=8&q=lantern%20qu", truth)
        titles = {str(b["_id"]): b["title"] for b in books.find({"user_id": user_id})}
        for book_id in created:
            found, _ = follow_pages(get, f"/books/?per_page=100&q={quote(titles[book_id])}")
            assert book_id in found and len(found) == len(set(found)), titles[book_id]

        # Within a few seconds the readers have also repaired what the killed writes left: the
        # stored count is exact again and every book is indexed (no operator).
        def repaired() -> bool:
            """Tell whether the shelf's count and index need nothing from the books any more."""
            assert get("/books/").status_code == 200
            assert get("/books/?q=lantern").status_code == 200
            shelf = client.myDatabase.shelves.find_one({"_id": user_id})
            pending = books.count_documents({"index_pending": {"$gt": 0}})
            return not shelf_counts.claims(shelf) and shelf["total"] == len(truth) and not pending

        wait_for(repaired, "the repair", shelf_counts.REPAIR_AFTER_SECONDS * 4)
        assert_agrees(get, "/books/?per_page=7", truth)


def _of_category(books: Any, truth: set[str], category: str) -> set[str]:
    """Return the ids among truth of the books of one category."""
    stored = books.find({"category": category}, {"_id": 1})
    return {str(book["_id"]) for book in stored} & truth
