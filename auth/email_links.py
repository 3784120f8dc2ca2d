"""The emails that carry a single-use link: password reset and address verification."""

from __future__ import annotations

from typing import Any

from flask import current_app

from models import User
from store.email_tokens import EmailTokens
from web import mailer
from web.responses import ApiError

# The purposes an emailed token is issued for (and consumed with).
RESET = "reset"
VERIFY = "verify"


def public_base_url() -> str:
    """Return the base of links in emails: PUBLIC_URL, else this server's own address.

    Never the request's Host header: a forged Host would send the victim's reset link, token
    and all, to the attacker's site.
    """
    config = current_app.config
    return config["PUBLIC_URL"] or f"http://{config['HOST']}:{config['PORT']}/"


def send_reset_link(email: str, base_url: str) -> None:
    """Background job: issue a reset token for the account, if any, and mail the link."""
    user = User().get_by_email(email)
    if user is None:
        return
    ttl = current_app.config["RESET_TOKEN_TTL"]
    token = EmailTokens().issue(user["_id"], RESET, ttl)
    body = (
        f"Hello {user['name']},\n\n"
        "Someone asked to reset the password of your Book Library account. If it was you, open\n"
        f"{base_url}ui/#reset?token={token}\n"
        f"within {ttl // 60} minutes, or send this token to POST /users/password/reset:\n"
        f"{token}\n\n"
        "If it was not you, ignore this message: your password stays as it is.\n"
    )
    mailer.send(mailer.build_message(email, "Reset your Book Library password", body))


def send_verification_link(user_id: str, email: str, name: str, base_url: str) -> None:
    """Background job: mail the link that proves the address belongs to the new user."""
    token = EmailTokens().issue(user_id, VERIFY, current_app.config["VERIFY_TOKEN_TTL"])
    body = (
        f"Welcome to Book Library, {name}!\n\n"
        "Confirm your email address by opening\n"
        f"{base_url}ui/#verify?token={token}\n"
        "and pressing the button there, or send this token to POST /users/verify:\n"
        f"{token}\n\n"
        "If you did not sign up, ignore this message.\n"
    )
    mailer.send(mailer.build_message(email, "Confirm your email address", body))


def require_verified_email(state: dict[str, Any]) -> None:
    """Refuse (403) a login whose account has not confirmed its address, when that is required.

    Password and passkey logins alike: both stop here, with the one body clients look for.
    """
    if current_app.config["REQUIRE_EMAIL_VERIFICATION"] and not state.get("email_verified", True):
        raise ApiError(
            403,
            "Please confirm your email address first: use the link we emailed you",
            "email_not_verified",
        )
