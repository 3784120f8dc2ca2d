"""Item 3: a login against one password-hash verification on the same machine.

The production server (gunicorn, embedded default, rate limits on) answers the logins; the
floor, one Argon2id verification with the app's own parameters, runs in this process, rounds
interleaved. Failed logins (wrong password, unknown email, disabled account) are timed too, a few
rounds each within the rate limits: their cost must match a successful login's, so that response
time does not tell which emails have accounts.

Two reference requests are timed in the same rounds, to tell where a login's time beyond the
verification goes: GET /health (HTTP, gunicorn and Flask, no database) and GET /ready (the same
plus one database round trip, a ping). A successful login reads its known-address record, reserves
each rate-limit counter with one atomic find-and-modify, reads the user, writes the new session (one
bulk write) and gives the reservations back (one bulk write).

Run it alone with `python bench/login_timing.py [--rounds N]` (or `python -m bench.login_timing`).
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import PASSWORD, BenchError, Client, Server, bearer, sign_up_and_log_in
from crypto.passwords import hash_password, verify_password

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
    # Reference requests on the same server, not logins: what HTTP and a round trip cost.
    references_ms: dict[str, float] = field(default_factory=dict)

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

        def reference(path: str) -> Callable[[], None]:
            def request() -> None:
                if client.get(path).status != 200:
                    raise BenchError(f"GET {path} did not answer 200")

            return request

        references = {
            "GET /health (HTTP and Flask, no database)": reference("/health"),
            "GET /ready (the same and one round trip)": reference("/ready"),
        }
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
        reference_samples: dict[str, list[float]] = {name: [] for name in references}
        for index in range(rounds):
            verify.append(timed(lambda: verify_password(stored, PASSWORD)))
            for name, (action, count) in outcomes.items():
                if index < count:
                    samples[name].append(timed(action))
            for name, action in references.items():
                reference_samples[name].append(timed(action))
    return LoginFigures(
        verification_ms=statistics.median(verify) * 1000,
        logins_ms={name: statistics.median(values) * 1000 for name, values in samples.items()},
        scheme=describe_scheme(stored),
        references_ms={
            name: statistics.median(values) * 1000 for name, values in reference_samples.items()
        },
    )


def main() -> None:
    """Measure each login outcome and print a table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="successful logins timed")
    figures = measure(parser.parse_args().rounds)
    print(f"hashing: {figures.scheme}")
    print(f"{'case':42} {'median ms':>10} {'x floor':>8}")
    print(f"{'one verification (floor)':42} {figures.verification_ms:10.1f} {1:8.2f}")
    for name, value in {**figures.logins_ms, **figures.references_ms}.items():
        print(f"{name:42} {value:10.1f} {value / figures.verification_ms:8.2f}")


if __name__ == "__main__":
    main()
