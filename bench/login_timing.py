"""Login timing: an unknown email must cost what a wrong password costs (prints medians, in ms)."""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app
from config import DEFAULTS
from embedded_server import stop_embedded_server
from passwords import hash_password, verify_password

ROUNDS = 30
PASSWORD = "Correct-Horse-9"


def median_ms(action: callable) -> float:
    """Return the median wall time of ROUNDS calls, in milliseconds."""
    samples = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> None:
    """Measure each login outcome on the embedded database and print a table."""
    with tempfile.TemporaryDirectory() as instance:
        app = create_app({**DEFAULTS, "INSTANCE_PATH": instance, "SECRET_KEY": "b" * 40})
        client = app.test_client()
        for email in ("ada@example.com", "gone@example.com"):
            client.post(
                "/users/", json={"name": "Ada Lovelace", "email": email, "password": PASSWORD}
            )
        token = client.post(
            "/users/login", json={"email": "gone@example.com", "password": PASSWORD}
        ).json["data"]["token"]
        client.delete("/users/", headers={"Authorization": f"Bearer {token}"})

        def login(email: str, password: str) -> callable:
            return lambda: client.post("/users/login", json={"email": email, "password": password})

        stored = hash_password(PASSWORD)
        rows = [
            (
                "one Argon2id verification (floor)",
                median_ms(lambda: verify_password(stored, PASSWORD)),
            ),
            ("login, right password", median_ms(login("ada@example.com", PASSWORD))),
            ("login, wrong password", median_ms(login("ada@example.com", "Wrong-Horse-9"))),
            ("login, unknown email", median_ms(login("nobody@example.com", PASSWORD))),
            ("login, disabled account", median_ms(login("gone@example.com", PASSWORD))),
        ]
        stop_embedded_server(instance)
    floor = rows[0][1]
    print(f"{'case':40} {'median ms':>10} {'x floor':>8}")
    for name, value in rows:
        print(f"{name:40} {value:10.1f} {value / floor:8.2f}")


if __name__ == "__main__":
    main()
