"""Two-factor login, password reset by email and email verification, with a real SMTP server."""

from __future__ import annotations

import email
import email.policy
import os
import re
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pyotp
import pytest
from aiosmtpd.controller import Controller

from store.embedded_server import free_port
from tests.helpers import PASSWORD, sign_up
from web import mailer

NEW_PASSWORD = "Brand-New-Horse-7"
CONFIRM = {"password": PASSWORD}
FORGOT_ANSWER = {
    "message": "If an account exists for this email, a password reset link is on its way",
    "data": None,
}


class Mailbox:
    """An aiosmtpd handler keeping every message it receives."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.arrived = threading.Condition()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """Store the message (aiosmtpd's hook name)."""
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.arrived:
            self.messages.append(message)
            self.arrived.notify_all()
        return "250 OK"

    def wait_for(self, count: int, seconds: float = 10.0) -> list[email.message.EmailMessage]:
        """Wait until `count` messages arrived (bounded) and return them all."""
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.messages) >= count, timeout=seconds)
            return list(self.messages)


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    """Run a real SMTP server on loopback for the test."""
    handler = Mailbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    handler.port = controller.port
    yield handler
    controller.stop()


def smtp_settings(mailbox: Any) -> dict[str, Any]:
    """Return the settings that send an app's mail to the test SMTP server."""
    return {
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": mailbox.port,
        "SMTP_STARTTLS": False,
        "PUBLIC_URL": "https://books.example.com",
    }


@pytest.fixture
def smtp_app(make_app, mailbox):
    """Return an app that sends its mail to the test SMTP server."""
    return make_app(**smtp_settings(mailbox))


def body_of(message: email.message.EmailMessage) -> str:
    """Return the decoded text of a message."""
    return message.get_content()


def token_in(message: email.message.EmailMessage) -> str:
    """Return the token of the link in a message."""
    link = re.search(r"https?://\S+token=\S+", body_of(message))[0]
    fragment = urlsplit(link).fragment or urlsplit(link).query
    return unquote(parse_qs(fragment.split("?", 1)[-1])["token"][0])


def login(client: Any, **extra: Any) -> Any:
    """POST /users/login for the signed-up user."""
    return client.post(
        "/users/login", json={"email": "ada@example.com", "password": PASSWORD, **extra}
    )


def bearer(token: str) -> dict[str, str]:
    """Return an Authorization header."""
    return {"Authorization": f"Bearer {token}"}


# Two-factor authentication -----------------------------------------------------------------------


@pytest.fixture
def enrolled(client, user, auth_headers) -> dict[str, Any]:
    """Enable two-factor for the signed-up user; return its secret and recovery codes."""
    setup = client.post("/users/2fa/setup", headers=auth_headers, json=CONFIRM).json["data"]
    totp = pyotp.TOTP(setup["secret"])
    enabled = client.post(
        "/users/2fa/enable", headers=auth_headers, json={**CONFIRM, "otp": totp.now()}
    )
    assert enabled.status_code == 200, enabled.json
    return {"totp": totp, "codes": enabled.json["data"]["recovery_codes"], **setup}


def test_setup_answers_a_secret_its_otpauth_uri_and_a_qr_code(client, user, auth_headers):
    response = client.post("/users/2fa/setup", headers=auth_headers, json=CONFIRM)

    assert response.status_code == 200
    data = response.json["data"]
    uri = urlsplit(data["otpauth_uri"])
    assert uri.scheme == "otpauth" and uri.netloc == "totp"
    assert unquote(uri.path) == "/Book Library:ada@example.com"
    assert parse_qs(uri.query)["secret"] == [data["secret"]]
    assert data["qr_code"].startswith("data:image/svg+xml")
    assert "<svg" in unquote(data["qr_code"])


def test_enable_with_a_wrong_code_is_400_and_leaves_2fa_off(client, user, auth_headers):
    client.post("/users/2fa/setup", headers=auth_headers, json=CONFIRM)

    response = client.post(
        "/users/2fa/enable", headers=auth_headers, json={**CONFIRM, "otp": "123456"}
    )

    assert response.status_code == 400
    assert set(response.json["error"]) == {"otp"}
    assert login(client).status_code == 200


WRONG_PASSWORD = {"password": "Wrong-Horse-1"}
PASSWORD_REFUSALS = [
    ({}, "password is required: send your current password"),
    ({"password": 12345}, "password is required: send your current password"),
    (WRONG_PASSWORD, "password is incorrect"),
]


@pytest.mark.parametrize(("body", "message"), PASSWORD_REFUSALS, ids=["missing", "number", "wrong"])
def test_setup_without_the_right_password_is_400_and_stores_no_secret(
    client, user, auth_headers, db, body, message
):
    response = client.post("/users/2fa/setup", headers=auth_headers, json={"otp": "1", **body})

    assert response.status_code == 400
    assert response.json == {
        "message": "Invalid data",
        "data": None,
        "error": {"password": message},
    }
    assert db.users.find_one({"email": "ada@example.com"}).get("totp_pending") is None


@pytest.mark.parametrize(("body", "message"), PASSWORD_REFUSALS, ids=["missing", "number", "wrong"])
def test_enable_without_the_right_password_is_400_and_leaves_2fa_off(
    client, user, auth_headers, db, body, message
):
    setup = client.post("/users/2fa/setup", headers=auth_headers, json=CONFIRM).json["data"]
    code = pyotp.TOTP(setup["secret"]).now()

    response = client.post("/users/2fa/enable", headers=auth_headers, json={**body, "otp": code})

    assert response.status_code == 400
    assert response.json == {
        "message": "Invalid data",
        "data": None,
        "error": {"password": message},
    }
    assert not db.users.find_one({"email": "ada@example.com"}).get("totp_enabled")
    assert login(client).status_code == 200


def test_setup_without_a_body_is_400_and_stores_no_secret(client, user, auth_headers, db):
    response = client.post("/users/2fa/setup", headers=auth_headers)

    assert response.status_code == 400
    assert response.json == {
        "message": "Please provide your current password",
        "data": None,
        "error": "Bad request",
    }
    assert db.users.find_one({"email": "ada@example.com"}).get("totp_pending") is None


def test_wrong_passwords_at_setup_are_rate_limited(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_PASSWORD_CHECK_PER_ACCOUNT="2 per minute")
    client = app.test_client()
    sign_up(client, "ada@example.com")
    headers = bearer(login(client).json["data"]["token"])

    statuses = [
        client.post("/users/2fa/setup", headers=headers, json=WRONG_PASSWORD).status_code
        for _ in range(3)
    ]
    after = client.post("/users/2fa/setup", headers=headers, json=CONFIRM)

    assert statuses == [400, 400, 429]
    assert after.status_code == 429
    assert after.json["data"] is None


def test_enable_answers_ten_distinct_recovery_codes(enrolled):
    assert len(enrolled["codes"]) == len(set(enrolled["codes"])) == 10


def test_the_secret_and_recovery_codes_are_not_stored_in_clear(enrolled, db):
    stored = str(db.users.find_one({}))

    assert enrolled["secret"] not in stored
    assert not any(code in stored for code in enrolled["codes"])


def test_login_without_a_code_says_one_is_needed_and_issues_no_token(client, enrolled):
    response = login(client)

    assert response.status_code == 401
    assert response.json == {
        "message": "A two-factor authentication code is required",
        "data": None,
        "error": "otp_required",
    }


def test_login_with_the_next_code_works_once(client, enrolled):
    code = enrolled["totp"].at(time.time() + 30)  # one step of clock drift

    first = login(client, otp=code)
    replay = login(client, otp=code)

    assert first.status_code == 200
    assert first.json["data"]["token"]
    assert replay.status_code == 401
    assert replay.json["message"] == "Invalid two-factor authentication code"


def test_a_code_two_steps_away_is_refused(client, enrolled):
    response = login(client, otp=enrolled["totp"].at(time.time() + 90))

    assert response.status_code == 401


def test_the_code_that_enabled_2fa_cannot_be_replayed_to_log_in(client, enrolled):
    response = login(client, otp=enrolled["totp"].now())

    assert response.status_code == 401


def test_a_recovery_code_logs_in_once(client, enrolled):
    code = enrolled["codes"][3]

    assert login(client, otp=code).status_code == 200
    assert login(client, otp=code).status_code == 401
    assert login(client, otp=code.upper().replace("-", " ")).status_code == 401
    assert login(client, otp=enrolled["codes"][4]).status_code == 200


def test_setup_again_while_enabled_is_409(client, auth_headers, enrolled):
    response = client.post("/users/2fa/setup", headers=auth_headers, json=CONFIRM)

    assert response.status_code == 409


@pytest.mark.parametrize(
    ("password", "use_code", "field"),
    [("Wrong-Horse-1", True, "password"), (PASSWORD, False, "otp")],
    ids=["wrong-password", "wrong-code"],
)
def test_disable_needs_the_password_and_a_code(
    client, auth_headers, enrolled, password, use_code, field
):
    code = enrolled["totp"].at(time.time() + 30) if use_code else "000000"

    response = client.post(
        "/users/2fa/disable", headers=auth_headers, json={"password": password, "otp": code}
    )

    assert response.status_code == 400
    assert set(response.json["error"]) == {field}
    assert login(client).json["error"] == "otp_required"


def test_disable_with_password_and_recovery_code_turns_2fa_off(client, auth_headers, enrolled):
    response = client.post(
        "/users/2fa/disable",
        headers=auth_headers,
        json={"password": PASSWORD, "otp": enrolled["codes"][0]},
    )

    assert response.status_code == 200
    assert login(client).status_code == 200


def test_the_secret_is_sealed_with_the_server_key(make_app, user, client, enrolled):
    code = enrolled["totp"].at(time.time() + 30)
    rotated = make_app(SECRET_KEY="another-server-key-of-at-least-32-bytes!!").test_client()
    kept = make_app(
        SECRET_KEY="another-server-key-of-at-least-32-bytes!!",
        PREVIOUS_SECRET_KEYS="test-secret-key-that-is-long-enough-for-hs256!",
    ).test_client()

    assert login(rotated, otp=code).status_code == 401
    assert login(kept, otp=code).status_code == 200


def test_wrong_codes_at_login_are_rate_limited(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_OTP_PER_ACCOUNT="3 per minute")
    client = app.test_client()
    sign_up(client, "ada@example.com")
    token = login(client).json["data"]["token"]
    setup = client.post("/users/2fa/setup", headers=bearer(token), json=CONFIRM)
    code = pyotp.TOTP(setup.json["data"]["secret"]).now()
    client.post("/users/2fa/enable", headers=bearer(token), json={**CONFIRM, "otp": code})

    statuses = [login(client, otp="000000").status_code for _ in range(4)]

    assert statuses == [401, 401, 401, 429]


# Password reset ----------------------------------------------------------------------------------


def test_forgot_sends_a_single_use_reset_link_by_smtp(smtp_app, mailbox):
    client = smtp_app.test_client()
    sign_up(client, "ada@example.com")

    response = client.post("/users/password/forgot", json={"email": " ADA@example.com "})

    assert response.status_code == 202
    assert response.json == FORGOT_ANSWER
    (message,) = mailbox.wait_for(1)
    assert message["To"] == "ada@example.com"
    assert message["Subject"] == "Reset your Book Library password"
    assert "https://books.example.com/ui/#reset?token=" in body_of(message)


def test_forgot_for_an_unknown_email_answers_the_same_and_sends_nothing(smtp_app, mailbox):
    client = smtp_app.test_client()
    sign_up(client, "ada@example.com")

    unknown = client.post("/users/password/forgot", json={"email": "nobody@example.com"})
    known = client.post("/users/password/forgot", json={"email": "ada@example.com"})

    assert unknown.status_code == known.status_code == 202
    assert unknown.json == known.json == FORGOT_ANSWER
    assert [m["To"] for m in mailbox.wait_for(1)] == ["ada@example.com"]


def test_reset_sets_the_password_revokes_every_session_and_works_once(smtp_app, mailbox):
    client = smtp_app.test_client()
    sign_up(client, "ada@example.com")
    session = login(client).json["data"]
    client.post("/users/password/forgot", json={"email": "ada@example.com"})
    token = token_in(mailbox.wait_for(1)[0])

    reset = client.post(
        "/users/password/reset", json={"token": token, "new_password": NEW_PASSWORD}
    )
    again = client.post(
        "/users/password/reset", json={"token": token, "new_password": "Another-Horse-8"}
    )

    assert reset.status_code == 200
    assert reset.json["message"] == "Your password has been reset: log in with the new one"
    assert client.get("/users/", headers=bearer(session["token"])).status_code == 401
    assert (
        client.post(
            "/users/token/refresh", json={"refresh_token": session["refresh_token"]}
        ).status_code
        == 401
    )
    assert login(client).status_code == 401
    assert login(client, password=NEW_PASSWORD).status_code == 200
    assert again.status_code == 400
    assert set(again.json["error"]) == {"token"}


def test_a_weak_new_password_is_refused_and_the_token_survives(smtp_app, mailbox):
    client = smtp_app.test_client()
    sign_up(client, "ada@example.com")
    client.post("/users/password/forgot", json={"email": "ada@example.com"})
    token = token_in(mailbox.wait_for(1)[0])

    weak = client.post("/users/password/reset", json={"token": token, "new_password": "weak"})
    good = client.post("/users/password/reset", json={"token": token, "new_password": NEW_PASSWORD})

    assert weak.status_code == 400
    assert set(weak.json["error"]) == {"new_password"}
    assert good.status_code == 200


def test_an_expired_reset_token_is_refused(smtp_app, mailbox, db):
    client = smtp_app.test_client()
    sign_up(client, "ada@example.com")
    client.post("/users/password/forgot", json={"email": "ada@example.com"})
    token = token_in(mailbox.wait_for(1)[0])
    an_instant_ago = datetime.now(UTC) - timedelta(seconds=1)
    db.email_tokens.update_many({}, {"$set": {"expires_at": an_instant_ago}})

    response = client.post(
        "/users/password/reset", json={"token": token, "new_password": NEW_PASSWORD}
    )

    assert response.status_code == 400
    assert login(client).status_code == 200


@pytest.mark.parametrize("token", ["", "garbage", None, 42, {"$ne": None}])
def test_a_bad_reset_token_is_400(client, user, token):
    response = client.post(
        "/users/password/reset", json={"token": token, "new_password": NEW_PASSWORD}
    )

    assert response.status_code == 400
    assert set(response.json["error"]) == {"token"}
    assert login(client).status_code == 200


def test_reset_links_never_use_the_request_host(make_app, mailbox):
    # With the Host check off ("*"): a foreign Host is otherwise refused before any mail is sent.
    client = make_app(**smtp_settings(mailbox), TRUSTED_HOSTS="*").test_client()
    sign_up(client, "ada@example.com")

    client.post(
        "/users/password/forgot",
        json={"email": "ada@example.com"},
        headers={"Host": "evil.example"},
    )

    assert "evil.example" not in body_of(mailbox.wait_for(1)[0])


def test_without_smtp_the_message_is_written_to_the_instance_mail_folder(app, client, user):
    client.post("/users/password/forgot", json={"email": "ada@example.com"})

    folder = Path(app.config["INSTANCE_PATH"]) / "mail"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not list(folder.glob("*.eml")):
        time.sleep(0.05)
    (written,) = folder.glob("*.eml")
    message = email.message_from_bytes(written.read_bytes(), policy=email.policy.default)
    assert message["To"] == "ada@example.com"
    assert token_in(message)


def test_a_message_file_appears_whole_under_its_eml_name(app, monkeypatch):
    renamed: list[tuple[str, str, bytes]] = []
    real_replace = os.replace

    def recording_replace(source: Any, target: Any) -> None:
        renamed.append((Path(source).name, Path(target).name, Path(source).read_bytes()))
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", recording_replace)
    with app.app_context():
        mailer.send(mailer.build_message("ada@example.com", "Hello", "Body text"))

    folder = Path(app.config["INSTANCE_PATH"]) / "mail"
    ((source, target, content),) = renamed
    assert not source.endswith(".eml") and target.endswith(".eml")
    assert [path.name for path in folder.iterdir()] == [target]
    assert (folder / target).read_bytes() == content
    assert b"Body text" in content


@pytest.mark.parametrize("body", [{}, {"email": "not-an-email"}, {"email": ["a@b.cd"]}])
def test_forgot_with_a_bad_email_is_400(client, body):
    response = client.post("/users/password/forgot", json=body or {"other": 1})

    assert response.status_code == 400
    assert set(response.json["error"]) == {"email"}


# Email verification ------------------------------------------------------------------------------


@pytest.fixture
def verifying_app(make_app, mailbox):
    """Return an app that requires email verification and mails through the test server."""
    return make_app(**smtp_settings(mailbox), REQUIRE_EMAIL_VERIFICATION=True)


def test_with_verification_required_login_waits_for_the_welcome_link(verifying_app, mailbox):
    client = verifying_app.test_client()
    sign_up(client, "ada@example.com")

    refused = login(client)
    (welcome,) = mailbox.wait_for(1)
    token = token_in(welcome)
    verified = client.post("/users/verify", json={"token": token})
    reused = client.post("/users/verify", json={"token": token})

    assert refused.status_code == 403
    assert refused.json["error"] == "email_not_verified"
    assert "token" not in (refused.json["data"] or {})
    assert verified.status_code == 200
    assert verified.json == {
        "message": "Your email address is verified: you can log in",
        "data": None,
    }
    assert login(client).status_code == 200
    assert reused.status_code == 400
    assert reused.json["error"] == {
        "token": "this link is invalid, was already used or has expired"
    }


def test_the_welcome_link_opens_the_web_app(verifying_app, mailbox):
    client = verifying_app.test_client()
    sign_up(client, "ada@example.com")

    (welcome,) = mailbox.wait_for(1)

    assert re.search(r"https://books\.example\.com/ui/#verify\?token=\S+", body_of(welcome))


def test_get_verify_explains_and_leaves_the_token_unspent(verifying_app, mailbox):
    client = verifying_app.test_client()
    sign_up(client, "ada@example.com")
    token = token_in(mailbox.wait_for(1)[0])

    looked = client.get(f"/users/verify?token={token}")
    refused = login(client)
    verified = client.post("/users/verify", json={"token": token})

    assert looked.status_code == 200
    assert looked.json == {
        "message": "Confirm your email address: POST this token to /users/verify, "
        "or open the link in the web app",
        "data": None,
    }
    assert refused.status_code == 403
    assert verified.status_code == 200
    assert login(client).status_code == 200


def test_without_verification_required_nothing_is_mailed_and_login_works(smtp_app, mailbox):
    client = smtp_app.test_client()
    sign_up(client, "ada@example.com")

    assert login(client).status_code == 200
    assert mailbox.wait_for(1, seconds=0.5) == []


def test_a_welcome_token_cannot_reset_the_password_and_still_verifies(verifying_app, mailbox, db):
    client = verifying_app.test_client()
    sign_up(client, "ada@example.com")
    token = token_in(mailbox.wait_for(1)[0])

    misused = client.post(
        "/users/password/reset", json={"token": token, "new_password": NEW_PASSWORD}
    )
    kept = db.email_tokens.count_documents({"purpose": "verify"})
    verified = client.post("/users/verify", json={"token": token})

    assert misused.status_code == 400
    assert misused.json["error"] == {
        "token": "this link is invalid, was already used or has expired"
    }
    assert kept == 1
    assert verified.status_code == 200
    assert login(client).status_code == 200
    new_login = {"email": "ada@example.com", "password": NEW_PASSWORD}
    assert client.post("/users/login", json=new_login).status_code == 401
