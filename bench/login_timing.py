"""Item 3: a login against one password-hash verification on the same machine.

The production server (gunicorn, embedded default, rate limits on) answers the logins; the
floor, one Argon2id verification with the app's own parameters, runs in this process, rounds
interleaved. Failed logins (wrong password, unknown email, disabled account) are timed too, a few
rounds each within the rate limits: their cost must match a successful login's, so that response
time does not tell which emails have accounts.

Run it alone with `python bench/login_timing.py` (or `python -m bench.login_timing`).
"""

from __future__ import annotations

import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import PASSWORD, BenchError, Client, Server, bearer, sign_up_and_log_in
from passwords import hash_password, verify_password

ROUNDS = 20
# Failed logins count against the limits (5 a minute per account, 20 per address): 3 x 5 fit,
# and an account's failures refuse its logins for the rest of the minute, right password too.
FAILURE_ROUNDS = 5
HASH_PATTERN = re.compile(r"\$(argon2id?)\$v=(\d+)\$m=(\d+),t=(\d+),p=(\d+)\$")


@dataclass
class LoginFigures:
    """Median times (ms) of the floor and of each login outcome, and the hashing scheme."""

    verification_ms: float
    logins_ms: dict[str, float]
    scheme: str

    @property
    def ratio(self) -> float:
        """Return a successful login's cost over one verification's."""
        return self.logins_ms["login, right password"] / self.verification_ms


def describe_scheme(stored: str) -> str:
    """Return the hashing scheme and its parameters, read from a stored hash."""
    match = HASH_PATTERN.match(stored)
    if match is None:
        return "unknown scheme"
    name, version, memory, iterations, lanes = match.groups()
    return (
        f"{name.replace('argon2', 'Argon2')} v{version}: {int(memory) // 1024} MiB, "
        f"{iterations} iterations, {lanes} lane{'s' if lanes != '1' else ''}"
    )


def timed(action: Callable[[], Any]) -> float:
    """Return the wall time of one call, in seconds."""
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def measure(rounds: int = ROUNDS) -> LoginFigures:
    """Serve the API, then time logins and verifications, interleaved."""
    stored = hash_password(PASSWORD)
    with (
        tempfile.TemporaryDirectory(prefix="bench-login-") as folder,
        Server(Path(folder) / "instance", app="wsgi:app") as server,
    ):
        client = Client(server.url)
        sign_up_and_log_in(client, "ada@example.com")
        # Wrong passwords go to another account: its failures would soon lock ada's logins out.
        sign_up_and_log_in(client, "grace@example.com", "Grace Hopper")
        gone = sign_up_and_log_in(client, "gone@example.com")
        if client.request("DELETE", "/users/", headers=bearer(gone["token"])).status != 204:
            raise BenchError("could not disable the account")

        def login(email: str, password: str, status: int) -> Callable[[], None]:
            def attempt() -> None:
                body = {"email": email, "password": password}
                answer = client.post_json("/users/login", body)
                if answer.status != status:
                    raise BenchError(f"login answered {answer.status}, not {status}")

            return attempt

        outcomes = {
            "login, right password": (login("ada@example.com", PASSWORD, 200), rounds),
            "login, wrong password": (
                login("grace@example.com", "Wrong-Horse-9", 401),
                FAILURE_ROUNDS,
            ),
            "login, unknown email": (
                login("nobody@example.com", PASSWORD, 401),
                FAILURE_ROUNDS,
            ),
            "login, disabled account": (
                login("gone@example.com", PASSWORD, 401),
                FAILURE_ROUNDS,
            ),
        }
        verify_password(stored, PASSWORD)  # warm-up
        verify: list[float] = []
        samples: dict[str, list[float]] = {name: [] for name in outcomes}
        for index in range(rounds):
            verify.append(timed(lambda: verify_password(stored, PASSWORD)))
            for name, (action, count) in outcomes.items():
                if index < count:
                    samples[name].append(timed(action))
    return LoginFigures(
        verification_ms=statistics.median(verify) * 1000,
        logins_ms={name: statistics.median(values) * 1000 for name, values in samples.items()},
        scheme=describe_scheme(stored),
    )


def main() -> None:
    """Measure each login outcome and print a table."""
    figures = measure()
    print(f"hashing: {figures.scheme}")
    print(f"{'case':40} {'median ms':>10} {'x floor':>8}")
    print(f"{'one verification (floor)':40} {figures.verification_ms:10.1f} {1:8.2f}")
    for name, value in figures.logins_ms.items():
        print(f"{name:40} {value:10.1f} {value / figures.verification_ms:8.2f}")


if __name__ == "__main__":
    main()
