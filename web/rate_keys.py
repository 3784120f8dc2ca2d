"""What each rate limit counts: its keys (address, account, both) and which answers are failures.

Accounts appear in counter keys only as an HMAC keyed from SECRET_KEY, never as the email.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import ipaddress
from collections.abc import Iterator

from flask import Response, current_app, g, request
from werkzeug.exceptions import HTTPException

from store.ratelimit_storage import fail_open, is_live
from validate import normalise_email
from web.client_address import client_address, parse_address
from web.request_body import is_unicode_text

# IPv6 clients get a whole /64 each, so one client counts once however many addresses it uses.
IPV6_CLIENT_PREFIX = 64
USER_ID_KEY = "rate_limit_user_id"
# Set while a login checks the second steps: the password was right (see checking_second_factor).
SECOND_FACTOR_KEY = "rate_limit_second_factor"
OTP_REQUIRED_ERROR = "otp_required"
# Where a known address is remembered: its own counter-collection key, live for REFRESH_TOKEN_TTL.
KNOWN_ADDRESS_PREFIX = "known-address"
DEFAULT_KNOWN_ADDRESS_SECONDS = 30 * 24 * 60 * 60
# HMAC keys for what the counters hold, each derived from SECRET_KEY for one purpose only.
ACCOUNT_HASH_PURPOSE = b"rate-limit account"
ADDRESS_HASH_PURPOSE = b"rate-limit address"


def address_key() -> str:
    """Return the client address as a limit key (an IPv6 client's whole /64)."""
    address = client_address()
    parsed = parse_address(address)
    if isinstance(parsed, ipaddress.IPv6Address):
        return str(ipaddress.ip_network((parsed, IPV6_CLIENT_PREFIX), strict=False))
    return address


def login_account_key() -> str | None:
    """Return a hash of the login body's normalised email, or None if it has no string email."""
    try:
        body = request.get_json(silent=True)
    except (RecursionError, HTTPException):
        # Too deep or too large: the view answers 400 or 413 without checking a password.
        return None
    email = body.get("email") if isinstance(body, dict) else None
    if not isinstance(email, str) or not is_unicode_text(body):
        # A lone surrogate anywhere: the view answers 400 without checking a password.
        return None
    # Hashed: the collection holds no email addresses, and a huge one makes a short key.
    return account_hash(normalise_email(email).encode("utf-8", "surrogatepass"))


def keyed_hash(purpose: bytes, value: bytes) -> str:
    """Return HMAC-SHA256 of value under a key derived from SECRET_KEY for this purpose."""
    secret = current_app.config["SECRET_KEY"]
    secret = secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)
    # Keyed: without SECRET_KEY nobody can tell from a counter key (or a log line) whose it is,
    # as anyone could by hashing candidate emails if the hash were unsalted.
    key = hmac.new(secret, purpose, hashlib.sha256).digest()
    return hmac.new(key, value, hashlib.sha256).hexdigest()


def account_hash(normalised_email: bytes) -> str:
    """Return the keyed hash that names an account (its normalised email) in counters and logs."""
    return keyed_hash(ACCOUNT_HASH_PURPOSE, normalised_email)


def account_address_key() -> str | None:
    """Return the login's account hash joined with the client address key, or None."""
    account = login_account_key()
    return None if account is None else f"{account}|{address_key()}"


def known_address_key(account: str) -> str:
    """Return the counter key remembering that this client address logged in to this account."""
    address = keyed_hash(ADDRESS_HASH_PURPOSE, address_key().encode("utf-8", "surrogatepass"))
    return f"{KNOWN_ADDRESS_PREFIX}/{account}/{address}"


def ceiling_exempt() -> bool:
    """Tell whether the account ceiling skips this login: no account, or a known address."""
    account = login_account_key()
    if account is None:
        return True
    # The storage failing answers "unknown address": the ceiling then fails open by itself.
    return fail_open(False, functools.partial(is_live, known_address_key(account)))


def user_id_key() -> str | None:
    """Return the authenticated user's id that limit_password_check remembered."""
    return g.get(USER_ID_KEY)


@contextlib.contextmanager
def checking_second_factor() -> Iterator[None]:
    """Mark a login's password as right while its second steps run (a 401 then is the code's)."""
    setattr(g, SECOND_FACTOR_KEY, True)
    yield
    # Passed: a 401 after this (a session race) is the password's again.
    setattr(g, SECOND_FACTOR_KEY, False)


def login_failed(response: Response) -> bool:
    """Tell whether a login was refused for its password (not for its two-factor code)."""
    return response.status_code == 401 and not g.get(SECOND_FACTOR_KEY, False)


def otp_failed(response: Response) -> bool:
    """Tell whether a login with the right password was refused for a wrong two-factor code."""
    if response.status_code != 401 or not g.get(SECOND_FACTOR_KEY, False):
        return False
    body = response.get_json(silent=True)
    # Asking for the code is the first step of every 2FA login, not a failure.
    return not (isinstance(body, dict) and body.get("error") == OTP_REQUIRED_ERROR)


CREDENTIAL_FIELDS = ("current_password", "password", "otp")


def current_password_wrong(response: Response) -> bool:
    """Tell whether a request was refused for a wrong password or two-factor code."""
    if response.status_code != 400:
        return False
    body = response.get_json(silent=True)
    error = body.get("error") if isinstance(body, dict) else None
    return isinstance(error, dict) and any(field in error for field in CREDENTIAL_FIELDS)
