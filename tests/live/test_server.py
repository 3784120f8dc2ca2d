"""The production path end to end: gunicorn, the embedded default database, restarts and races."""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from PIL import Image

from store.embedded_server import stop_embedded_server
from tests.helpers import PASSWORD, image_bytes
from tests.live.server import LiveServer, raw_request, running, sign_in, sign_up_and_log_in

pytestmark = pytest.mark.integration


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveServer]:
    """Yield a started live server; stop it and its database afterwards."""
    with running(LiveServer(tmp_path / "instance")) as server:
        yield server


@pytest.fixture(scope="module")
def shared_live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Yield one live server for the tests that only read or add independent records."""
    with running(LiveServer(tmp_path_factory.mktemp("shared") / "instance")) as server:
        yield server


def create_book(url: str, headers: dict[str, str], title: str) -> requests.Response:
    """Create a book with a JPEG cover over HTTP."""
    return requests.post(
        url + "/books/",
        headers=headers,
        data={"title": title, "category": "science"},
        files={"cover_image": ("cover.jpg", image_bytes(), "image/jpeg")},
        timeout=10,
    )


def assert_library_intact(server: LiveServer, email: str) -> None:
    """Log in again and find the book and its served cover."""
    headers = sign_in(server.url, email)
    books = requests.get(server.url + "/books/", headers=headers, timeout=10).json()["data"]
    assert [book["title"] for book in books] == ["Dune"]
    cover = requests.get(books[0]["image_url"], timeout=10)
    assert cover.status_code == 200
    assert cover.headers["Content-Type"] == "image/jpeg"
    assert Image.open(io.BytesIO(cover.content)).size == (150, 100)


def test_make_run_command_serves_the_api_with_zero_configuration(live):
    response = requests.get(live.url + "/", timeout=10)

    assert response.text == "Hello World!"
    assert (live.instance / "secret_key").is_file()
    assert (live.instance / "database" / "server.json").is_file()


def test_data_survives_a_graceful_restart(live):
    headers = sign_up_and_log_in(live.url, "ada@example.com")
    assert create_book(live.url, headers, "Dune").status_code == 201

    live.stop()
    live.start()

    assert_library_intact(live, "ada@example.com")
    # The token issued before the restart still works: the generated key was kept.
    assert requests.get(live.url + "/users/", headers=headers, timeout=10).status_code == 200


def worker_pids(master: int) -> set[int]:
    """The process ids of a gunicorn master's children (its workers), read from /proc."""
    children: set[int] = set()
    for task in Path(f"/proc/{master}/task").glob("*/children"):
        with contextlib.suppress(FileNotFoundError):
            children.update(int(pid) for pid in task.read_text().split())
    return children


def test_a_reload_signal_replaces_the_workers_and_keeps_serving(live):
    headers = sign_up_and_log_in(live.url, "ada@example.com")
    assert create_book(live.url, headers, "Dune").status_code == 201
    assert live.process is not None
    before = worker_pids(live.process.pid)

    # SIGHUP: gunicorn re-reads its configuration (in this same process) and replaces its workers.
    live.process.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 60
    while live.process.poll() is None and time.monotonic() < deadline:
        workers = worker_pids(live.process.pid)
        if workers and not workers & before:
            break
        time.sleep(0.1)

    assert live.process.poll() is None, "the server exited on SIGHUP"
    assert not worker_pids(live.process.pid) & before
    assert_library_intact(live, "ada@example.com")
    assert requests.get(live.url + "/users/", headers=headers, timeout=10).status_code == 200


def test_data_survives_the_database_and_the_server_being_killed(live):
    headers = sign_up_and_log_in(live.url, "ada@example.com")
    assert create_book(live.url, headers, "Dune").status_code == 201

    live.kill_database()
    live.kill()
    live.start()

    assert_library_intact(live, "ada@example.com")


def test_concurrent_sign_ups_with_one_email_give_one_account(live):
    body = {"name": "Ada Lovelace", "email": "race@example.com", "password": PASSWORD}

    def attempt(_: int) -> int:
        return requests.post(live.url + "/users/", json=body, timeout=30).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = sorted(pool.map(attempt, range(20)))

    assert statuses == [201] + [409] * 19
    with live.database() as client:
        assert client.myDatabase.users.count_documents({"email": "race@example.com"}) == 1


def test_concurrent_creates_of_one_title_give_one_book_and_one_file(live):
    headers = sign_up_and_log_in(live.url, "ada@example.com")

    def attempt(_: int) -> int:
        return create_book(live.url, headers, "Dune").status_code

    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = sorted(pool.map(attempt, range(10)))

    assert statuses == [201] + [409] * 9
    with live.database() as client:
        assert client.myDatabase.books.count_documents({}) == 1
    assert len(list((live.instance / "covers").iterdir())) == 1


def test_oversized_header_is_answered_431_in_json(shared_live):
    response = requests.get(
        shared_live.url + "/users/", headers={"Authorization": "Bearer " + "a" * 10000}, timeout=10
    )

    assert response.status_code == 431
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {
        "message": "Request headers are too large",
        "data": None,
        "error": "Request Header Fields Too Large",
    }


def test_overlong_url_is_answered_414_in_json(shared_live):
    response = requests.get(shared_live.url + "/books/" + "a" * 5000, timeout=10)

    assert response.status_code == 414
    assert response.json() == {
        "message": "Request line is too long",
        "data": None,
        "error": "URI Too Long",
    }


def test_malformed_http_is_answered_400_in_json(shared_live):
    status, headers, body = raw_request(shared_live, b"GARBAGE\r\n\r\n")

    assert status.split(" ", 2)[1] == "400"
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == {
        "message": "Malformed HTTP request",
        "data": None,
        "error": "Bad Request",
    }


def test_upload_over_the_limit_is_answered_413_in_json_and_stores_nothing(shared_live):
    headers = sign_up_and_log_in(shared_live.url, "big@example.com")
    covers_before = set((shared_live.instance / "covers").glob("*"))

    response = requests.post(
        shared_live.url + "/books/",
        headers=headers,
        data={"title": "Too big", "category": "science"},
        files={"cover_image": ("big.jpg", os.urandom(6 * 1024 * 1024), "image/jpeg")},
        timeout=30,
    )

    assert response.status_code == 413
    assert response.json() == {
        "message": "Request body is larger than 5242880 bytes",
        "data": None,
        "error": "Request Entity Too Large",
    }
    assert set((shared_live.instance / "covers").glob("*")) == covers_before
    books = requests.get(shared_live.url + "/books/", headers=headers, timeout=10).json()
    assert books["data"] == []


def log_in_pair(url: str, email: str) -> dict[str, str]:
    """Log in over HTTP and return the login data (tokens included)."""
    body = {"email": email, "password": PASSWORD}
    response = requests.post(url + "/users/login", json=body, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["data"]


def test_revocation_survives_a_restart(live):
    sign_up_and_log_in(live.url, "ada@example.com")
    data = log_in_pair(live.url, "ada@example.com")
    bearer = {"Authorization": f"Bearer {data['token']}"}
    assert requests.post(live.url + "/users/logout", headers=bearer, timeout=10).status_code == 204

    live.stop()
    live.start()

    assert requests.get(live.url + "/users/", headers=bearer, timeout=10).status_code == 401
    refreshed = requests.post(
        live.url + "/users/token/refresh", json={"refresh_token": data["refresh_token"]}, timeout=10
    )
    assert refreshed.status_code == 401


def test_two_server_processes_on_one_database_agree_on_revocation(tmp_path):
    key = "a-shared-secret-key-of-at-least-32-bytes!!"
    first = LiveServer(tmp_path / "first", SECRET_KEY=key)
    first.start()
    port = json.loads((first.instance / "database" / "server.json").read_text())["port"]
    # The second server shares the first's database (as instances share one DATABASE_URL).
    second = LiveServer(
        tmp_path / "second", SECRET_KEY=key, DATABASE_URL=f"mongodb://127.0.0.1:{port}/myDatabase"
    )
    second.start()
    try:
        sign_up_and_log_in(first.url, "ada@example.com")
        data = log_in_pair(first.url, "ada@example.com")
        bearer = {"Authorization": f"Bearer {data['token']}"}
        assert requests.get(second.url + "/users/", headers=bearer, timeout=10).status_code == 200

        requests.post(second.url + "/users/logout", headers=bearer, timeout=10)

        assert requests.get(first.url + "/users/", headers=bearer, timeout=10).status_code == 401
        # The second server does not own the database: stopping it leaves the database up.
        second.stop()
        assert requests.get(first.url + "/users/", headers=bearer, timeout=10).status_code == 401
        assert log_in_pair(first.url, "ada@example.com")["token"]
    finally:
        for server in (first, second):
            if server.process and server.process.poll() is None:
                server.stop()
        stop_embedded_server(first.instance)


# Supervision: the server that owns an instance folder watches its embedded database ------------


def database_state(instance: Path) -> dict[str, Any]:
    """Return the embedded server's recorded pid and port."""
    return json.loads((instance / "database" / "server.json").read_text())


def alive(pid: int) -> bool:
    """Tell whether a process exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def wait_until(condition: Any, seconds: float = 60) -> None:
    """Wait until condition() is true (polled), failing after a generous deadline."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.1)


def ready(url: str) -> bool:
    """Tell whether /ready answers 200."""
    try:
        return requests.get(url + "/ready", timeout=5).status_code == 200
    except requests.RequestException:
        return False


def test_a_killed_database_is_restarted_on_its_port_and_the_api_recovers(live):
    headers = sign_up_and_log_in(live.url, "ada@example.com")
    before = database_state(live.instance)

    live.kill_database()
    wait_until(lambda: database_state(live.instance)["pid"] != before["pid"])
    wait_until(lambda: ready(live.url))

    assert database_state(live.instance)["port"] == before["port"]
    created = create_book(live.url, headers, "After the restart")
    assert created.status_code == 201, created.text
    listed = requests.get(live.url + "/books/", headers=headers, timeout=10)
    assert [book["title"] for book in listed.json()["data"]] == ["After the restart"]


def test_a_second_server_on_the_same_instance_folder_is_refused(live, tmp_path):
    headers = sign_up_and_log_in(live.url, "ada@example.com")
    second = LiveServer(live.instance, keep_output=True)
    second.stdout_path = tmp_path / "second.out"
    second.stderr_path = tmp_path / "second.err"

    second.launch()
    assert second.process is not None
    status = second.process.wait(timeout=120)

    assert status != 0
    assert "another server is already running on" in second.stderr_path.read_text()
    assert create_book(live.url, headers, "Still served").status_code == 201


def test_a_database_left_by_a_killed_server_is_adopted_then_stopped(live):
    sign_up_and_log_in(live.url, "ada@example.com")
    orphan = database_state(live.instance)["pid"]

    live.kill()
    assert alive(orphan)
    live.start()

    assert database_state(live.instance)["pid"] == orphan
    live.stop()
    wait_until(lambda: not alive(orphan))
