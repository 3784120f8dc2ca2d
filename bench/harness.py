"""What the benchmarks share: servers they start and stop, an HTTP client, wrk, memory probes."""

from __future__ import annotations

import http.client
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import psutil
from bson import ObjectId
from PIL import Image
from pymongo import MongoClient

from config import DEFAULTS, PROJECT_ROOT
from store.embedded_server import free_port, stop_embedded_server

BENCH_DIR = Path(__file__).resolve().parent
PASSWORD = "Correct-Horse-9"
START_TIMEOUT_SECONDS = 90
REQUEST_TIMEOUT_SECONDS = 60


class BenchError(Exception):
    """A benchmark could not run as designed (a server did not start, a request failed)."""


# Servers ----------------------------------------------------------------------------------------


class Server:
    """`make run`'s command (gunicorn with gunicorn.conf.py) serving a WSGI app on a free port.

    The app defaults to bench/floor_app.py: the real app plus the floors, in the same workers.
    Every setting of the developer's environment and .env is shut out; `settings` are the only
    ones that differ from the production defaults.
    """

    def __init__(
        self, instance: Path, app: str = "bench.floor_app:build_app()", **settings: str | int
    ) -> None:
        self.instance = instance
        self.app = app
        self.settings = {name: str(value) for name, value in settings.items()}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = instance.parent / f"gunicorn-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Server:
        """Start gunicorn and wait until /health answers."""
        self.instance.mkdir(parents=True, exist_ok=True)
        environment = {**os.environ, **{name: "" for name in DEFAULTS}}
        environment.pop("WEB_CONCURRENCY", None)
        environment.update(INSTANCE_PATH=str(self.instance), PORT=str(self.port))
        environment.update(self.settings)
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", self.app],
                cwd=PROJECT_ROOT,
                env=environment,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"gunicorn exited at start-up; see {self.log}")
            probe = Client(self.url, timeout=2)
            try:
                healthy = probe.get("/health").status == 200
            except OSError:
                healthy = False
            finally:
                probe.close()
            if healthy:
                self._wait_for_workers()
                return self
            time.sleep(0.2)
        self.stop()
        raise BenchError(f"gunicorn did not answer within {START_TIMEOUT_SECONDS} s")

    def _wait_for_workers(self) -> None:
        """Wait until every worker gunicorn forks is up, so no measurement pays for a boot."""
        expected = int(self.settings.get("WEB_CONCURRENCY") or (os.cpu_count() or 1) * 2 + 1)
        deadline = time.monotonic() + 30
        while len(self.worker_pids()) < expected and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)

    def worker_pids(self) -> list[int]:
        """Return the pids of gunicorn's workers."""
        if self.process is None:
            return []
        try:
            return [child.pid for child in psutil.Process(self.process.pid).children()]
        except psutil.NoSuchProcess:
            return []

    def fresh_worker(self) -> int:
        """Replace the only worker by a new one (forked from the preloaded app); return its pid."""
        (old,) = self.worker_pids()
        os.kill(old, signal.SIGTERM)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            workers = [pid for pid in self.worker_pids() if pid != old]
            if workers and Client(self.url, timeout=5).get("/health").status == 200:
                return workers[0]
            time.sleep(0.05)
        raise BenchError("gunicorn did not replace its worker")

    def pids(self) -> list[int]:
        """Return the pids of gunicorn's master and workers."""
        return [self.process.pid, *self.worker_pids()] if self.process else []

    def stop(self) -> None:
        """Stop gunicorn gracefully (it stops the embedded database it started)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
        stop_embedded_server(self.instance)


def embedded_server_pid(instance: Path) -> int | None:
    """Return the pid of the embedded database serving this instance folder, if it runs."""
    try:
        return int(json.loads((instance / "database" / "server.json").read_text())["pid"])
    except (OSError, ValueError, KeyError):
        return None


def embedded_database(instance: Path) -> MongoClient:
    """Open a client on the embedded database serving this instance folder."""
    port = json.loads((instance / "database" / "server.json").read_text())["port"]
    return MongoClient(f"mongodb://127.0.0.1:{port}/myDatabase", tz_aware=True)


def stored_book(
    owner: str, title: str, category: str, moment: datetime, description: str = ""
) -> dict[str, Any]:
    """Return a book document in the shape models.Books.create writes."""
    book_id = ObjectId()
    return {
        "_id": book_id,
        "user_id": owner,
        "title": title,
        "title_key": " ".join(title.split()).casefold(),
        "description": description,
        "category": category,
        "isbn": None,
        "isbn_key": f"none:{book_id}",
        "cover": f"{book_id}{book_id}"[:32] + ".jpg",
        "version": 1,
        "created_at": moment,
        "updated_at": moment,
    }


# HTTP -------------------------------------------------------------------------------------------


@dataclass
class Answer:
    """One HTTP response: status, headers (lower-case names) and body."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """Return the body parsed as JSON."""
        return json.loads(self.body)


class Client:
    """A keep-alive HTTP/1.1 client on one connection (reconnects if the server closed it)."""

    def __init__(self, url: str, timeout: float = REQUEST_TIMEOUT_SECONDS) -> None:
        host, port = url.removeprefix("http://").split(":")
        self.host, self.port, self.timeout = host, int(port), timeout
        self.connection: http.client.HTTPConnection | None = None

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Answer:
        """Send one request and read the whole answer."""
        for attempt in range(2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection(
                    self.host, self.port, timeout=self.timeout
                )
            try:
                self.connection.request(method, path, body=body, headers=dict(headers or {}))
                response = self.connection.getresponse()
                data = response.read()
            except (http.client.HTTPException, ConnectionError):
                self.close()
                if attempt:
                    raise
                continue
            answer = Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, data)
            if answer.headers.get("connection", "").lower() == "close":
                self.close()
            return answer
        raise AssertionError("unreachable")

    def get(self, path: str, headers: Mapping[str, str] | None = None) -> Answer:
        """Send a GET."""
        return self.request("GET", path, headers=headers)

    def post_json(
        self, path: str, payload: Any, headers: Mapping[str, str] | None = None
    ) -> Answer:
        """POST a JSON body."""
        body = json.dumps(payload).encode()
        return self.request(
            "POST", path, body, {"Content-Type": "application/json", **(headers or {})}
        )

    def close(self) -> None:
        """Close the connection."""
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def multipart(fields: Mapping[str, str], files: Mapping[str, tuple[str, bytes, str]]) -> tuple:
    """Return (body, content type) of a multipart/form-data request."""
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
        parts.append(f"{head}{value}\r\n".encode())
    for name, (filename, data, content_type) in files.items():
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'
        )
        parts.append(head.encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def sign_up_and_log_in(client: Client, email: str, name: str = "Ada Lovelace") -> dict[str, Any]:
    """Sign up and log in over HTTP; return the login's data (user, token, refresh token)."""
    body = {"name": name, "email": email, "password": PASSWORD}
    created = client.post_json("/users/", body)
    if created.status != 201:
        raise BenchError(f"sign-up answered {created.status}: {created.body[:200]!r}")
    login = client.post_json("/users/login", {"email": email, "password": PASSWORD})
    if login.status != 200:
        raise BenchError(f"login answered {login.status}: {login.body[:200]!r}")
    return login.json()["data"]


def bearer(token: str) -> dict[str, str]:
    """Return the Authorization header of an access token."""
    return {"Authorization": f"Bearer {token}"}


def create_book(
    client: Client,
    token: str,
    title: str,
    cover: bytes,
    category: str = "science",
    description: str = "",
    filename: str = "cover.jpg",
    content_type: str = "image/jpeg",
) -> Answer:
    """Create a book with a cover over HTTP."""
    body, form_type = multipart(
        {"title": title, "category": category, "description": description},
        {"cover_image": (filename, cover, content_type)},
    )
    return client.request("POST", "/books/", body, {**bearer(token), "Content-Type": form_type})


def small_cover(size: tuple[int, int] = (300, 200), color: str = "teal") -> bytes:
    """Return a small JPEG cover made now."""
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "JPEG")
    return buffer.getvalue()


# wrk --------------------------------------------------------------------------------------------

WRK_REPORT = BENCH_DIR / "wrk_report.lua"


def ensure_wrk() -> str:
    """Return the path of wrk, or stop with how to install it."""
    path = shutil.which("wrk")
    if path is None:
        raise BenchError("wrk is not installed: apt-get install -y wrk (make bench does it)")
    return path


@dataclass
class WrkRun:
    """What one wrk run measured."""

    requests: int
    seconds: float
    errors: int
    non_2xx: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    extra: dict[str, Any]

    @property
    def per_second(self) -> float:
        """Return the requests completed per second."""
        return self.requests / self.seconds


def run_wrk(
    url: str,
    seconds: float,
    connections: int,
    headers: Mapping[str, str] | None = None,
    script: Path = WRK_REPORT,
    threads: int = 1,
    environment: Mapping[str, str] | None = None,
) -> WrkRun:
    """Run wrk against a loopback URL for a bounded time and return its figures."""
    if not url.startswith("http://127.0.0.1:"):
        raise BenchError("benchmarks only ever target 127.0.0.1")
    command = [
        ensure_wrk(),
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "30s",
        "-s",
        str(script),
    ]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    result = subprocess.run(
        [*command, url],
        capture_output=True,
        text=True,
        timeout=seconds + 90,
        check=False,
        env={**os.environ, **(environment or {})},
    )
    report = next(
        (line for line in result.stdout.splitlines() if line.startswith("WRK_JSON ")), None
    )
    if result.returncode != 0 or report is None:
        raise BenchError(f"wrk failed: {result.stderr.strip() or result.stdout[-500:]}")
    figures = json.loads(report.removeprefix("WRK_JSON "))
    return WrkRun(
        requests=figures["requests"],
        seconds=figures["duration_us"] / 1e6,
        errors=figures["connect"] + figures["read"] + figures["write"] + figures["timeout"],
        non_2xx=figures["status"],
        p50_ms=figures["p50"] / 1000,
        p95_ms=figures["p95"] / 1000,
        p99_ms=figures["p99"] / 1000,
        extra=figures,
    )


# Timing and memory ------------------------------------------------------------------------------


def cpu_seconds(pids: Iterable[int]) -> float:
    """Return the summed user and system CPU time of processes, in seconds (gone ones count 0)."""
    total = 0.0
    for pid in pids:
        try:
            times = psutil.Process(pid).cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def rss_mib(pids: Iterable[int]) -> float:
    """Return the summed resident memory of processes, in MiB (gone processes count 0)."""
    total = 0
    for pid in pids:
        try:
            total += psutil.Process(pid).memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total / 2**20
