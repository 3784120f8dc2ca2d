"""Under gevent (the server's workers), Argon2 runs off the hub: other greenlets keep running."""

from __future__ import annotations

from tests.helpers import run_script

# A gevent-patched process, as a gunicorn worker is: a ticker greenlet counts how often the hub
# lets it run while the main greenlet hashes and verifies. On the hub itself it never would.
SCRIPT = """
from gevent import monkey

monkey.patch_all()

import json

import gevent

from crypto.passwords import hash_password, verify_password

state = {"ticks": 0, "running": True}


def ticker():
    while state["running"]:
        state["ticks"] += 1
        gevent.sleep(0)


greenlet = gevent.spawn(ticker)
gevent.sleep(0)
before = state["ticks"]
password_hash = hash_password("correct horse battery")
during_hash = state["ticks"] - before
before = state["ticks"]
answers = [
    verify_password(password_hash, "correct horse battery"),
    verify_password(password_hash, "wrong horse battery"),
    verify_password("not an argon2 hash", "correct horse battery"),
]
during_verify = state["ticks"] - before
state["running"] = False
greenlet.join()
print(json.dumps({"hash": during_hash, "verify": during_verify, "answers": answers}))
"""


def test_hashing_and_verifying_leave_the_hub_free_for_other_connections() -> None:
    outcome = run_script(SCRIPT, timeout=120)
    assert outcome["answers"] == [True, False, False]
    assert outcome["hash"] > 0, "the hub ran nothing else while a password was hashed"
    assert outcome["verify"] > 0, "the hub ran nothing else while passwords were verified"


# Without gevent's patches (flask run, the tests, the benchmarks) nothing loads gevent.
PLAIN_PROCESS_SCRIPT = """
import json
import sys

from crypto.passwords import hash_password, verify_password

answer = verify_password(hash_password("correct horse battery"), "correct horse battery")
print(json.dumps({"answer": answer, "gevent": sorted(m for m in sys.modules if "gevent" in m)}))
"""


def test_hashing_outside_gevent_loads_no_gevent() -> None:
    assert run_script(PLAIN_PROCESS_SCRIPT, timeout=120) == {"answer": True, "gevent": []}
