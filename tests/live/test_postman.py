"""The Postman collection, run by Newman against the live server (gunicorn, embedded database).

clients/postman/ holds the collection, its environment, the cover it uploads and Newman, pinned in
package-lock.json. `make test` installs Newman first (`npm ci`); this test asks make for the same
target, so it also runs on its own on a fresh clone. Every assertion of every request must pass.

Newman cannot read email, so the collection runs in two parts against one server, started without
SMTP so that its messages land in `<instance>/mail/*.eml`: every folder but the last (the existing
requests, two-factor login, passkeys, email verification, asking for a password reset link), then
the reset link's token is read from the mail folder, and the last folder (using the token) runs
with `--env-var resetToken=...` and the environment the first part exported.
"""

from __future__ import annotations

import email
import email.policy
import json
import re
import subprocess
import time
from pathlib import Path

import pytest

from config import PROJECT_ROOT
from store.embedded_server import stop_embedded_server
from tests.live.server import LiveServer

pytestmark = pytest.mark.integration

POSTMAN = PROJECT_ROOT / "clients" / "postman"
COLLECTION = POSTMAN / "book-library.postman_collection.json"
ENVIRONMENT = POSTMAN / "local.postman_environment.json"
NEWMAN = POSTMAN / "node_modules" / ".bin" / "newman"
INSTALLED = "clients/postman/node_modules/.installed"
# The folder that needs the emailed token: the second part of the run.
RESET_FOLDER = "Password reset: use the emailed token"
RESET_SUBJECT = "Reset your Book Library password"
STAT_NAMES = ("requests", "assertions", "testScripts", "prerequestScripts")
# The collection has 103 requests and over 460 assertions: fewer means requests were skipped.
MIN_REQUESTS = 103
MIN_ASSERTIONS = 460
MAIL_WAIT_SECONDS = 15


@pytest.fixture(scope="module")
def newman() -> Path:
    """Install Newman as the Makefile does (a no-op when it is up to date) and return it."""
    subprocess.run(["make", "--no-print-directory", INSTALLED], cwd=PROJECT_ROOT, check=True)
    return NEWMAN


def folders() -> dict[str, int]:
    """Return the collection's top-level folders, in order, with their number of requests."""
    items = json.loads(COLLECTION.read_text())["item"]
    return {folder["name"]: len(folder["item"]) for folder in items}


def failure_lines(run: dict) -> list[str]:
    """Return one line per failed assertion or error of a Newman JSON report."""
    lines = []
    for failure in run["failures"]:
        error = failure.get("error", {})
        where = failure.get("source", {}).get("name", "?")
        lines.append(f"{where}: {error.get('test') or error.get('name')}: {error.get('message')}")
    return lines


def run_newman(newman: Path, report_path: Path, folder_names: list[str], *options: str) -> dict:
    """Run these folders of the collection with Newman; check and return its JSON report's run."""
    folder_options = [option for name in folder_names for option in ("--folder", name)]
    result = subprocess.run(
        [
            str(newman),
            "run",
            str(COLLECTION),
            *folder_options,
            *options,
            "--working-dir",
            str(POSTMAN),
            "--reporters",
            "cli,json",
            "--reporter-json-export",
            str(report_path),
            "--color",
            "off",
            "--timeout-request",
            "30000",
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    print(result.stdout, result.stderr)
    assert report_path.is_file(), f"Newman wrote no report:\n{result.stdout}\n{result.stderr}"
    run = json.loads(report_path.read_text())["run"]
    failures = failure_lines(run)
    assert failures == [], "\n".join(failures)
    assert result.returncode == 0, result.stdout + result.stderr
    for name in STAT_NAMES:
        assert run["stats"][name]["failed"] == 0, name
    return run


def environment_values(path: Path) -> dict[str, str]:
    """Return the variables of an environment file that Newman exported."""
    return {value["key"]: value["value"] for value in json.loads(path.read_text())["values"]}


def reset_token_from_mail(instance: Path, address: str) -> str:
    """Wait for the reset email the server wrote to its mail folder; return its link's token."""
    folder = instance / "mail"
    deadline = time.monotonic() + MAIL_WAIT_SECONDS
    while True:
        # The file is written after the 202, by a background job: it may be missing or partial.
        for path in sorted(folder.glob("*.eml")):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if message["Subject"] == RESET_SUBJECT and message["To"] == address:
                text = message.get_content()
                link = re.search(r"[?&]token=([A-Za-z0-9_-]+)", text)
                # The token is also on a line of its own, after the link: the message is whole.
                if link and f"\n{link[1]}\n" in text:
                    return link[1]
        assert time.monotonic() < deadline, f"no reset email to {address} in {folder}"
        time.sleep(0.1)


def test_postman_collection_passes_against_the_live_server(newman: Path, tmp_path: Path):
    names = folders()
    assert list(names)[-1] == RESET_FOLDER, "the folder that needs the email must come last"
    server = LiveServer(tmp_path / "instance")  # no SMTP_HOST: email goes to instance/mail
    server.start()
    exported = tmp_path / "first-part.postman_environment.json"
    started = time.monotonic()
    try:
        first = run_newman(
            newman,
            tmp_path / "newman-first-part.json",
            [name for name in names if name != RESET_FOLDER],
            "--environment",
            str(ENVIRONMENT),
            "--env-var",
            f"baseUrl={server.url}",
            "--export-environment",
            str(exported),
        )
        address = environment_values(exported)["graceEmail"]
        token = reset_token_from_mail(server.instance, address)
        # Only the account's email was sent: the unknown address got the same 202 and no email.
        mail = list((server.instance / "mail").glob("*.eml"))
        assert len(mail) == 1, mail
        body = email.message_from_bytes(mail[0].read_bytes(), policy=email.policy.default)
        assert f"{server.url}/ui/#reset?token={token}" in body.get_content()
        second = run_newman(
            newman,
            tmp_path / "newman-second-part.json",
            [RESET_FOLDER],
            "--environment",
            str(exported),
            "--env-var",
            f"baseUrl={server.url}",
            "--env-var",
            f"resetToken={token}",
        )
    finally:
        server.stop()
        stop_embedded_server(server.instance)
    elapsed = time.monotonic() - started

    # The second part ran every request of its folder (none skipped for want of a token).
    assert second["stats"]["requests"]["total"] == names[RESET_FOLDER]
    totals = {
        name: sum(run["stats"][name]["total"] for run in (first, second)) for name in STAT_NAMES
    }
    newman_seconds = sum(
        (run["timings"]["completed"] - run["timings"]["started"]) / 1000 for run in (first, second)
    )
    print(f"Newman, both parts: {json.dumps(totals)}, {newman_seconds:.1f} s")
    print(f"both parts, with Newman starting twice and the wait for the email: {elapsed:.1f} s")
    assert totals["requests"] == sum(names.values()) >= MIN_REQUESTS
    assert totals["assertions"] >= MIN_ASSERTIONS
