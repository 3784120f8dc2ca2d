"""Schemathesis fuzzes the running server (gunicorn, embedded nx-27017) with the document the app
generates (/openapi.json).

Every documented operation gets the document's examples, Schemathesis's coverage cases and a
bounded, seeded run of generated requests, valid and invalid. Each response must be no 5xx and
conform to the document (status, content type, headers, body); an authenticated operation that
answers 2xx must also refuse the same request without a token and with an invalid one. A second
test sends every authenticated operation a missing and several invalid tokens outright, so the
auth check does not depend on the fuzzer reaching a 2xx.

The server is `make run`'s own command (LiveServer in tests/live/server.py) on an instance
folder and database of its own, with rate limits off, so nothing generated here reaches another
test.
"""

from __future__ import annotations

import email
import email.policy
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pyotp
import pytest
import requests
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from auth.two_factor import TOTP_PERIOD
from store.embedded_server import stop_embedded_server
from tests.api_document import generated_document
from tests.helpers import PASSWORD, image_bytes
from tests.live.server import LiveServer

pytestmark = pytest.mark.integration

CONFORMANCE_CHECKS = [
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
CHECKS = [not_a_server_error, *CONFORMANCE_CHECKS, ignored_auth]
# Bounded and reproducible: a fixed seed, and at most this many generated requests per operation
# (on top of the document's examples and Schemathesis's coverage cases).
MAX_EXAMPLES = 25
SEED = 20260601
# Operations that end the session they are called with, and the one that disables the account:
# they get a new login of a scratch account, or a new account, so the shared token stays valid.
SESSION_ENDING = {("POST", "/users/logout"), ("DELETE", "/users/sessions")}
ACCOUNT_ENDING = {("DELETE", "/users/")}
UNKNOWN_ID = "665f1c2e8b3a4d5e6f708192"
MISSING_TOKEN = "Authentication Token is missing!"
INVALID_TOKEN = "Invalid Authentication token!"
# App bugs the run finds, by "METHOD /path": "BUG: ...". That operation's tests become strict
# expected failures (Schemathesis makes one test per operation, which a mark cannot single out).
KNOWN_BUGS: dict[str, str] = {}

schema = schemathesis.openapi.from_dict(
    generated_document(),
    config=schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "generation": {
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
                "database": "none",
            },
            # The one health check that depends on the machine's speed, not on the document.
            "suppress-health-check": ["too_slow"],
        }
    ),
)
SECURED_OPERATIONS = sorted(
    (method.upper(), path)
    for path, item in schema.raw_schema["paths"].items()
    for method, operation in item.items()
    if isinstance(operation, dict) and operation.get("security")
)


class Accounts:
    """Accounts on the live server: one shared by most requests, new sessions or accounts."""

    def __init__(self) -> None:
        self.url = ""
        self.shared_token = ""
        self.scratch_email = ""

    def open(self, url: str) -> None:
        """Point at a started server and make the shared and the scratch accounts."""
        self.url = url
        self.shared_token = self.new_account()["token"]
        self.scratch_email = self.new_account()["email"]

    def headers_for(self, operation: schemathesis.APIOperation) -> dict[str, str]:
        """Return the Authorization an operation needs: none, the shared one, or a fresh one."""
        key = (operation.method.upper(), operation.path)
        if key not in SECURED_OPERATIONS:
            return {}
        if key in ACCOUNT_ENDING:
            token = self.new_token()
        elif key in SESSION_ENDING:
            token = self.log_in(self.scratch_email)["token"]
        else:
            token = self.shared_token
        return {"Authorization": f"Bearer {token}"}

    def new_token(self) -> str:
        """Sign up a new account, log it in and return its access token."""
        return self.new_account()["token"]

    def new_account(self) -> dict[str, str]:
        """Sign up a new account and log it in; return its email and login data (tokens...)."""
        email = f"fuzz-{uuid.uuid4().hex}@example.com"
        body = {"name": "Fuzzy Tester", "email": email, "password": PASSWORD}
        created = requests.post(f"{self.url}/users/", json=body, timeout=30)
        assert created.status_code == 201, created.text
        return {"email": email, **self.log_in(email)}

    def log_in(self, email: str) -> dict[str, str]:
        """Open a new session of an account; return the login data (tokens...)."""
        body = {"email": email, "password": PASSWORD}
        login = requests.post(f"{self.url}/users/login", json=body, timeout=30)
        assert login.status_code == 200, login.text
        return login.json()["data"]


ACCOUNTS = Accounts()


@pytest.fixture(scope="module")
def live_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Yield a live server of this module's own, its accounts ready."""
    server = LiveServer(tmp_path_factory.mktemp("schemathesis") / "instance")
    server.start()
    try:
        ACCOUNTS.open(server.url)
        yield server
    finally:
        server.stop()
        stop_embedded_server(server.instance)


@pytest.fixture(autouse=True)
def expect_known_bugs(request: pytest.FixtureRequest) -> None:
    """Mark the test of an operation listed in KNOWN_BUGS as a strict expected failure."""
    for label, reason in KNOWN_BUGS.items():
        if request.node.name.endswith(f"[{label}]"):
            request.applymarker(pytest.mark.xfail(strict=True, reason=reason))


@schema.parametrize()
def test_api_conforms_to_its_document(case: schemathesis.Case, live_api: LiveServer) -> None:
    headers = ACCOUNTS.headers_for(case.operation)
    case.call_and_validate(base_url=live_api.url, headers=headers, checks=CHECKS, timeout=30)


def forged_token() -> str:
    """Return a well-formed access token signed with a key the server does not have."""
    claims = {"sub": UNKNOWN_ID, "sid": UNKNOWN_ID, "iat": 1, "nbf": 1, "exp": 4102444800}
    return jwt.encode({**claims, "jti": "x" * 32, "type": "access"}, "k" * 48, algorithm="HS256")


def logged_out_token() -> str:
    """Return a real access token whose session has ended."""
    token = ACCOUNTS.log_in(ACCOUNTS.scratch_email)["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert requests.post(f"{ACCOUNTS.url}/users/logout", headers=headers, timeout=30).ok
    return token


BAD_AUTHORIZATIONS = {
    "no header": lambda: None,
    "no token": lambda: "Bearer ",
    "garbage": lambda: "Bearer not-a-token",
    "another scheme": lambda: f"Basic {ACCOUNTS.shared_token}",
    "forged": lambda: f"Bearer {forged_token()}",
    "logged out": lambda: f"Bearer {logged_out_token()}",
}


@pytest.mark.parametrize("bad", BAD_AUTHORIZATIONS)
@pytest.mark.parametrize(
    "method, path", SECURED_OPERATIONS, ids=[f"{m} {p}" for m, p in SECURED_OPERATIONS]
)
def test_every_authenticated_operation_refuses_a_missing_or_invalid_token(
    live_api: LiveServer, method: str, path: str, bad: str
) -> None:
    operation = schema[path][method]
    authorization = BAD_AUTHORIZATIONS[bad]()
    headers = {} if authorization is None else {"Authorization": authorization}
    names = re.findall(r"\{([^}]+)\}", path)
    case = operation.Case(path_parameters=dict.fromkeys(names, UNKNOWN_ID), headers=headers)

    response = case.call(base_url=live_api.url, timeout=30)

    assert response.status_code == 401
    assert response.json()["message"] == (MISSING_TOKEN if bad.startswith("no ") else INVALID_TOKEN)
    assert response.headers["www-authenticate"][0].startswith("Bearer")
    case.validate_response(response, checks=CONFORMANCE_CHECKS)


# The success paths, which generated requests seldom reach ---------------------------------------


class Api:
    """The live server's documented operations; every answer runs every check."""

    def __init__(self, live: LiveServer, token: str | None = None) -> None:
        self.url = live.url
        self.token = token

    def __call__(self, method: str, path: str, **case_data: Any) -> schemathesis.Response:
        """Send one request of a documented operation, with this API's token if it has one."""
        case = schema[path][method].Case(**case_data)
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else None
        return case.call_and_validate(base_url=self.url, headers=headers, checks=CHECKS, timeout=30)


FORM = "multipart/form-data"
JSON = "application/json"


def cover_form(title: str = "Dune", **fields: Any) -> dict[str, Any]:
    """Return the multipart body of a new book with a real JPEG cover."""
    return {
        "title": title,
        "category": "science",
        "cover_image": image_bytes().getvalue(),
        **fields,
    }


def test_a_book_from_creation_to_deletion_conforms_to_the_document(live_api):
    api, public = Api(live_api, ACCOUNTS.new_token()), Api(live_api)

    created = api("POST", "/books/", body=cover_form(isbn="0-441-17271-7"), media_type=FORM)
    book = created.json()["data"]
    ids = {"book_id": book["_id"]}
    listed = api("GET", "/books/", query={"q": "DUNE", "per_page": 1})
    read = api("GET", "/books/{book_id}", path_parameters=ids)
    etag = read.headers["etag"][0]
    unchanged = api("GET", "/books/{book_id}", path_parameters=ids, headers={"If-None-Match": etag})
    stale = api(
        "PUT",
        "/books/{book_id}",
        path_parameters=ids,
        headers={"If-Match": '"v999"'},
        body={"category": "poetry"},
        media_type=FORM,
    )
    updated = api(
        "PUT",
        "/books/{book_id}",
        path_parameters=ids,
        headers={"If-Match": etag},
        body={"category": "peotry", "cover_image": image_bytes("PNG").getvalue()},
        media_type=FORM,
    )
    cover_name = {"name": updated.json()["data"]["image_url"].rsplit("/", 1)[1]}
    cover = public("GET", "/static/books/{name}", path_parameters=cover_name)
    cover_etag = {"If-None-Match": cover.headers["etag"][0]}
    cover_unchanged = public(
        "GET", "/static/books/{name}", path_parameters=cover_name, headers=cover_etag
    )
    deleted = api("DELETE", "/books/{book_id}", path_parameters=ids)
    gone = api("GET", "/books/{book_id}", path_parameters=ids)

    assert created.status_code == 201
    assert book["isbn"] == "9780441172719"
    assert listed.status_code == 200
    assert [found["_id"] for found in listed.json()["data"]] == [book["_id"]]
    assert read.status_code == 200
    assert unchanged.status_code == 304
    assert stale.status_code == 412
    assert updated.status_code == 200
    assert updated.json()["data"]["category"] == "poetry"
    assert cover.status_code == 200
    assert cover.headers["content-type"][0] in ("image/jpeg", "image/png")
    assert cover_unchanged.status_code == 304
    assert deleted.status_code == 204
    assert gone.status_code == 404


def test_an_idempotent_create_answers_its_first_result_again(live_api):
    api = Api(live_api, ACCOUNTS.new_token())
    key = {"Idempotency-Key": uuid.uuid4().hex}

    first = api("POST", "/books/", headers=key, body=cover_form(), media_type=FORM)
    again = api("POST", "/books/", headers=key, body=cover_form(), media_type=FORM)
    changed = api("POST", "/books/", headers=key, body=cover_form("Emma"), media_type=FORM)

    assert (first.status_code, again.status_code, changed.status_code) == (201, 201, 422)
    assert again.json()["data"]["_id"] == first.json()["data"]["_id"]


def test_sessions_and_account_from_login_to_disabling_conform_to_the_document(live_api):
    account = ACCOUNTS.new_account()
    api, public = Api(live_api, account["token"]), Api(live_api)
    credentials = {"email": account["email"], "password": PASSWORD}
    new_password = "Another-Horse-10"

    second = public("POST", "/users/login", body=credentials, media_type=JSON)
    refresh = {"refresh_token": second.json()["data"]["refresh_token"]}
    refreshed = public("POST", "/users/token/refresh", body=refresh, media_type=JSON)
    sessions = api("GET", "/users/sessions")
    other = next(session["_id"] for session in sessions.json()["data"] if not session["current"])
    revoked = api("DELETE", "/users/sessions/{session_id}", path_parameters={"session_id": other})
    renamed = api("PUT", "/users/", body={"name": "Augusta Ada King"}, media_type=JSON)
    profile = api("GET", "/users/")
    passwords = {"current_password": PASSWORD, "new_password": new_password}
    changed = api("PUT", "/users/password", body=passwords, media_type=JSON)
    others_ended = api("DELETE", "/users/sessions", query={"all": "false"})
    logged_out = api("POST", "/users/logout")
    again = public(
        "POST", "/users/login", body={**credentials, "password": new_password}, media_type=JSON
    )
    disabled = Api(live_api, again.json()["data"]["token"])("DELETE", "/users/")

    assert (second.status_code, refreshed.status_code, sessions.status_code) == (200, 200, 200)
    assert len(sessions.json()["data"]) == 2
    assert (revoked.status_code, renamed.status_code, profile.status_code) == (204, 200, 200)
    assert profile.json()["data"]["name"] == "Augusta Ada King"
    assert (changed.status_code, others_ended.status_code) == (200, 204)
    assert (logged_out.status_code, again.status_code, disabled.status_code) == (204, 200, 204)


def test_two_factor_from_set_up_to_off_conforms_to_the_document(live_api):
    account = ACCOUNTS.new_account()
    api, public = Api(live_api, account["token"]), Api(live_api)
    credentials = {"email": account["email"], "password": PASSWORD}

    confirm = {"password": PASSWORD}
    setup = api("POST", "/users/2fa/setup", body=confirm, media_type=JSON)
    code = pyotp.TOTP(setup.json()["data"]["secret"], interval=TOTP_PERIOD).now()
    enabled = api("POST", "/users/2fa/enable", body={**confirm, "otp": code}, media_type=JSON)
    first, second = enabled.json()["data"]["recovery_codes"][:2]
    without_code = public("POST", "/users/login", body=credentials, media_type=JSON)
    with_code = public("POST", "/users/login", body={**credentials, "otp": first}, media_type=JSON)
    off = {"password": PASSWORD, "otp": second}
    disabled = api("POST", "/users/2fa/disable", body=off, media_type=JSON)

    assert (setup.status_code, enabled.status_code) == (200, 200)
    assert (without_code.status_code, without_code.json()["error"]) == (401, "otp_required")
    assert (with_code.status_code, disabled.status_code) == (200, 200)


def test_a_password_reset_by_email_conforms_to_the_document(live_api):
    account = ACCOUNTS.new_account()
    public = Api(live_api)
    mailbox = live_api.instance / "mail"
    already = set(mailbox.glob("*.eml"))

    forgot = public(
        "POST", "/users/password/forgot", body={"email": account["email"]}, media_type=JSON
    )
    reset_body = {"token": emailed_reset_token(mailbox, already), "new_password": "New-Horse-10"}
    reset = public("POST", "/users/password/reset", body=reset_body, media_type=JSON)
    reused = public("POST", "/users/password/reset", body=reset_body, media_type=JSON)

    assert (forgot.status_code, reset.status_code, reused.status_code) == (202, 200, 400)


def emailed_reset_token(mailbox: Path, already: set[Path], wait_seconds: float = 20) -> str:
    """Return the reset token of the first new email in the server's mail folder."""
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        for path in set(mailbox.glob("*.eml")) - already:
            text = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            match = re.search(r"reset\?token=(\S+)", text.get_content())
            if match:
                return match[1]
        time.sleep(0.1)
    raise AssertionError("no reset email arrived")
