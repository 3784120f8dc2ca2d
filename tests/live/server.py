"""LiveServer: `make run`'s own command (gunicorn, the embedded default) on a free port."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from pymongo import MongoClient

from config import DEFAULTS, PROJECT_ROOT
from store.embedded_server import free_port, stop_embedded_server
from tests.helpers import PASSWORD

SHARED_KEY = "a-secret-key-shared-by-every-instance-0123456789"


class LiveServer:
    """`make run`'s command (gunicorn with the embedded default) on a free port of its own."""

    def __init__(self, instance: Path, keep_output: bool = False, **settings: str) -> None:
        self.instance = instance
        self.settings = settings
        # Where gunicorn's stdout and stderr go when kept (else they are discarded).
        self.stdout_path = instance.parent / "stdout.log" if keep_output else None
        self.stderr_path = instance.parent / "stderr.log" if keep_output else None
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start gunicorn and wait until it answers."""
        self.launch()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + "/", timeout=1).status_code == 200:
                    return
            except requests.ConnectionError:
                time.sleep(0.1)
        raise AssertionError("the server did not start")

    def launch(self) -> None:
        """Start gunicorn without waiting for it."""
        environment = {name: "" for name in DEFAULTS}  # shut out the developer's .env
        environment.update(
            INSTANCE_PATH=str(self.instance), PORT=str(self.port), RATELIMIT_ENABLED="false"
        )
        environment.update(self.settings)
        self.instance.parent.mkdir(parents=True, exist_ok=True)
        with self._output(self.stdout_path) as stdout, self._output(self.stderr_path) as stderr:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
                cwd=PROJECT_ROOT,
                # Two workers unless a test asks for its own number (one serves everything).
                env={
                    **os.environ,
                    **environment,
                    "WEB_CONCURRENCY": self.settings.get("WEB_CONCURRENCY", "2"),
                },
                stdout=stdout,
                stderr=stderr,
                start_new_session=True,
            )

    @staticmethod
    def _output(path: Path | None) -> Any:
        """Open a kept output file for appending, or stand in for /dev/null."""
        return path.open("ab") if path else contextlib.nullcontext(subprocess.DEVNULL)

    def stop(self) -> None:
        """Stop gunicorn gracefully, as Ctrl-C or a service manager would."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=60)

    def kill(self) -> None:
        """Kill gunicorn and all its workers at once, as a power cut would."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=60)

    def database(self) -> MongoClient:
        """Open a client on the embedded server this instance folder runs."""
        state = json.loads((self.instance / "database" / "server.json").read_text())
        return MongoClient(f"mongodb://127.0.0.1:{state['port']}/", serverSelectionTimeoutMS=5000)

    def kill_database(self) -> None:
        """Kill the embedded server outright, as a power cut would."""
        state = json.loads((self.instance / "database" / "server.json").read_text())
        os.kill(state["pid"], signal.SIGKILL)


def raw_request(server: LiveServer, request: bytes) -> tuple[str, dict[str, str], bytes]:
    """Send bytes as they are over a socket; return the status line, headers and body."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as connection:
        connection.sendall(request)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines)
    return status, headers, body


@contextlib.contextmanager
def running(server: LiveServer) -> Iterator[LiveServer]:
    """Start the server; afterwards stop it (unless a test did) and the database it started."""
    server.start()
    try:
        yield server
    finally:
        if server.process and server.process.poll() is None:
            server.stop()
        stop_embedded_server(server.instance)


@contextlib.contextmanager
def two_instances(
    server_url: str, folders: pytest.TempPathFactory, **settings: str
) -> Iterator[tuple[LiveServer, LiveServer]]:
    """Run two servers, each with an instance folder of its own, sharing the key and a database.

    As instances behind a load balancer would; the database is dropped afterwards.
    """
    name = f"cluster_{uuid.uuid4().hex[:8]}"
    settings = {"SECRET_KEY": SHARED_KEY, "DATABASE_URL": f"{server_url}/{name}", **settings}
    first, second = (LiveServer(folders.mktemp(f"node{number}"), **settings) for number in (1, 2))
    try:
        with running(first), running(second):
            yield first, second
    finally:
        with MongoClient(server_url, serverSelectionTimeoutMS=3000) as client:
            client.drop_database(name)


def sign_up_over_http(url: str, email: str) -> dict[str, Any]:
    """Create an account over HTTP and return the user's public fields."""
    body = {"name": "Ada Lovelace", "email": email, "password": PASSWORD}
    response = requests.post(url + "/users/", json=body, timeout=10)
    assert response.status_code == 201, response.text
    return response.json()["data"]


def sign_in(url: str, email: str) -> dict[str, str]:
    """Log in over HTTP and return the Authorization header."""
    login = requests.post(
        url + "/users/login", json={"email": email, "password": PASSWORD}, timeout=10
    )
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['data']['token']}"}


def sign_up_and_log_in(url: str, email: str) -> dict[str, str]:
    """Sign up over HTTP and return the Authorization header."""
    sign_up_over_http(url, email)
    return sign_in(url, email)
