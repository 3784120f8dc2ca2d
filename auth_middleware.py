"""token_required, its step-up variant password_required, and the access-token checks behind them.

Issuing tokens is auth.sessions' job.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from functools import wraps
from typing import Any, NamedTuple

import jwt
from flask import current_app, g, request

import models
from crypto.keys import ACCESS_TOKEN_TYPE, ALGORITHM, verification_keys
from request_schema.fields import Schema
from web.ratelimit import limit_password_check
from web.request_body import accepts
from web.responses import ApiError

REQUIRED_CLAIMS = ["exp", "iat", "sub", "jti", "sid"]
# Headers that would let a token choose its own key or demand unknown processing (RFC 8725).
FORBIDDEN_HEADERS = frozenset({"jku", "jwk", "x5u", "x5c", "crit"})
# Verified access tokens each app keeps (least recently used first out), so that a token seen
# again skips PyJWT's parsing and HMAC. An entry is about 1 KiB; more live tokens than this
# only mean more tokens verified in full.
ACCESS_TOKEN_CACHE_SIZE = 1024
TOKEN_CACHE_KEY = "verified_access_tokens"

MISSING_TOKEN = "Authentication Token is missing!"
INVALID_TOKEN = "Invalid Authentication token!"
REQUIRES_TOKEN = "requires_token"


# Checking ----------------------------------------------------------------------------------------


def clock() -> float:
    """Return the time that token lifetimes are checked against, in epoch seconds."""
    return time.time()


class VerifiedToken(NamedTuple):
    """An access token's verified claims, the key that verified them, and when they hold."""

    claims: dict[str, Any]
    key: str
    valid_from: int
    expires: int

    def is_valid_at(self, moment: float, leeway: float) -> bool:
        """Apply PyJWT's time checks (from iat and nbf, until before exp), give or take leeway."""
        return self.valid_from - leeway <= moment < self.expires + leeway


class VerifiedTokenCache:
    """A bounded, thread-safe map from access token to its verification, least recent out first.

    It holds only tokens that passed every check; decode_access_token uses an entry only within
    the token's lifetime and while its key may still verify. Sessions are not cached: the
    caller checks them in the database on every request.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[str, VerifiedToken] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """Return how many tokens are held."""
        return len(self._entries)

    def get(self, token: str) -> VerifiedToken | None:
        """Return the token's entry, now the most recently used, or None."""
        with self._lock:
            entry = self._entries.get(token)
            if entry is not None:
                self._entries.move_to_end(token)
            return entry

    def put(self, token: str, entry: VerifiedToken) -> None:
        """Hold a verified token, dropping the least recently used beyond the size."""
        with self._lock:
            self._entries[token] = entry
            self._entries.move_to_end(token)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def discard(self, token: str) -> None:
        """Forget a token."""
        with self._lock:
            self._entries.pop(token, None)


def token_cache() -> VerifiedTokenCache:
    """Return the current app's cache of verified access tokens (made on first use)."""
    cache = current_app.extensions.get(TOKEN_CACHE_KEY)
    if cache is None:
        # setdefault: of two threads making it at once, both use the one stored first.
        cache = current_app.extensions.setdefault(
            TOKEN_CACHE_KEY, VerifiedTokenCache(ACCESS_TOKEN_CACHE_SIZE)
        )
    return cache


def unauthorized(message: str, token_sent: bool) -> ApiError:
    """Return the 401 error, with the WWW-Authenticate challenge RFC 6750 asks for."""
    challenge = 'Bearer error="invalid_token"' if token_sent else "Bearer"
    return ApiError(401, message, "Unauthorized", {"WWW-Authenticate": challenge})


def bearer_token() -> str:
    """Return the bearer token of the Authorization header, or raise the right 401."""
    header = request.headers.get("Authorization", "").strip()
    if not header:
        raise unauthorized(MISSING_TOKEN, token_sent=False)
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer":
        raise unauthorized(INVALID_TOKEN, token_sent=True)
    if not token:
        raise unauthorized(MISSING_TOKEN, token_sent=False)
    if " " in token:
        raise unauthorized(INVALID_TOKEN, token_sent=True)
    return token


def decode_access_token(token: str) -> dict[str, Any]:
    """Return the verified claims of an access token, or raise the 401 for a bad token.

    A token verified before is answered from the app's cache while it is within its lifetime
    and its key still verifies; any other token (new, tampered, expired) is verified in full.
    """
    cache = token_cache()
    now = clock()
    leeway = current_app.config["TOKEN_LEEWAY_SECONDS"]
    cached = cache.get(token)
    if cached is not None:
        if cached.is_valid_at(now, leeway) and _still_verifies(cached.key):
            return dict(cached.claims)
        cache.discard(token)
    verified = verify_access_token(token)
    # PyJWT read the clock itself; checking clock() too puts fresh and cached answers on one clock.
    if not verified.is_valid_at(now, leeway):
        raise unauthorized(INVALID_TOKEN, token_sent=True)
    cache.put(token, verified)
    return dict(verified.claims)


def _still_verifies(key: str) -> bool:
    """Tell whether a key is still SECRET_KEY or one of PREVIOUS_SECRET_KEYS."""
    config = current_app.config
    return key == config["SECRET_KEY"] or key in config["PREVIOUS_SECRET_KEYS"]


def verify_access_token(token: str) -> VerifiedToken:
    """Verify an access token in full with PyJWT, or raise the 401 for a bad token."""
    try:
        header = jwt.get_unverified_header(token)
        key = verification_keys().get(str(header.get("kid")))
        if key is None or FORBIDDEN_HEADERS & header.keys():
            raise jwt.InvalidTokenError("unknown key or forbidden header")
        claims = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            options={"require": REQUIRED_CLAIMS},
            # Instances' clocks differ by a little even with NTP: a token minted a moment
            # "in the future" by another instance, or at its very end, is still good.
            leeway=current_app.config["TOKEN_LEEWAY_SECONDS"],
        )
    except jwt.InvalidTokenError:
        raise unauthorized(INVALID_TOKEN, token_sent=True) from None
    if claims.get("type") != ACCESS_TOKEN_TYPE or not isinstance(claims.get("jti"), str):
        raise unauthorized(INVALID_TOKEN, token_sent=True)
    # PyJWT has read these claims with int() already, so they convert the same way here.
    valid_from = max(int(claims["iat"]), int(claims.get("nbf", claims["iat"])))
    return VerifiedToken(claims, key, valid_from, int(claims["exp"]))


def token_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Call the view with the authenticated, active user as its first argument, or answer 401."""

    @wraps(view)
    def decorated(*args: Any, **kwargs: Any) -> Any:
        claims = decode_access_token(bearer_token())
        current_user = models.User().get_for_session(claims["sub"], claims["sid"])
        if current_user is None:
            raise unauthorized(INVALID_TOKEN, token_sent=True)
        g.session_id = claims["sid"]
        return view(current_user, *args, **kwargs)

    # Read by /openapi.json: the operations that declare bearer security are exactly these.
    setattr(decorated, REQUIRES_TOKEN, True)
    return decorated


def password_required(schema: Schema) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """token_required for a route that also asks for the current password (a step-up check).

    The schema is declared (for /openapi.json; the view checks the body), the token is checked,
    then one attempt of the account's password-check budget is reserved before the view checks
    the password, and given back unless the password turns out wrong.
    """

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        return accepts(schema)(token_required(limit_password_check(view)))

    return decorate
