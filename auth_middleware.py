"""Issuing and checking tokens: sessions, refresh rotation, signing keys and token_required."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, NamedTuple

import jwt
from bson import ObjectId
from flask import current_app, g, request

import models
from ratelimit import client_address
from responses import ApiError
from session_store import Sessions

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ["exp", "iat", "sub", "jti", "sid"]
ACCESS_TOKEN_TYPE = "access"
# Headers that would let a token choose its own key or demand unknown processing (RFC 8725).
FORBIDDEN_HEADERS = frozenset({"jku", "jwk", "x5u", "x5c", "crit"})
REFRESH_TOKEN_PATTERN = re.compile(r"rt1\.([0-9a-f]{24})\.([0-9]{1,9})\.([A-Za-z0-9_-]{43})")
USER_AGENT_MAX_LENGTH = 256
# Verified access tokens each app keeps (least recently used first out), so that a token seen
# again skips PyJWT's parsing and HMAC. An entry is about 1 KiB; more live tokens than this
# only mean more tokens verified in full.
ACCESS_TOKEN_CACHE_SIZE = 1024
TOKEN_CACHE_KEY = "verified_access_tokens"

MISSING_TOKEN = "Authentication Token is missing!"
INVALID_TOKEN = "Invalid Authentication token!"
INVALID_REFRESH_TOKEN = "Invalid refresh token"


# Signing keys ------------------------------------------------------------------------------------


def key_id(key: str) -> str:
    """Return the public id of a signing key: a truncated SHA-256, which reveals nothing of it."""
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def verification_keys() -> dict[str, str]:
    """Return every key that may verify a token, by key id: SECRET_KEY, then previous keys."""
    config = current_app.config
    keys = [config["SECRET_KEY"], *config["PREVIOUS_SECRET_KEYS"]]
    return {key_id(key): key for key in keys}


def _mac(key: str, message: str) -> str:
    """Return an unpadded base64url HMAC-SHA256 of message under a key derived for tokens."""
    refresh_key = hmac.new(key.encode(), b"refresh-token", hashlib.sha256).digest()
    digest = hmac.new(refresh_key, message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


# Issuing -----------------------------------------------------------------------------------------


def refresh_token_for(session: dict[str, Any]) -> str:
    """Return the refresh token of a session's current generation (derivable only with the key)."""
    sid, generation = str(session["_id"]), session["generation"]
    mac = _mac(current_app.config["SECRET_KEY"], f"{sid}.{generation}.{session['nonce']}")
    return f"rt1.{sid}.{generation}.{mac}"


def hash_refresh_token(token: str) -> str:
    """Return what is stored of a refresh token: its SHA-256 (it has 256 bits of entropy)."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue_tokens(session: dict[str, Any]) -> dict[str, Any]:
    """Return the access and refresh tokens of a session's current generation.

    Both are derived from the stored session alone, so a client retrying a refresh whose answer it
    lost gets the very same pair back.
    """
    issued = models.as_utc(session["issued_at"])
    ttl = current_app.config["ACCESS_TOKEN_TTL"]
    sid, generation = str(session["_id"]), session["generation"]
    claims = {
        "sub": session["user_id"],
        "sid": sid,
        "iat": issued,
        "nbf": issued,
        "exp": issued + timedelta(seconds=ttl),
        "jti": _mac(current_app.config["SECRET_KEY"], f"jti.{sid}.{generation}")[:32],
        "type": ACCESS_TOKEN_TYPE,
    }
    secret_key = current_app.config["SECRET_KEY"]
    token = jwt.encode(claims, secret_key, algorithm=ALGORITHM, headers={"kid": key_id(secret_key)})
    return {
        "token": token,
        "refresh_token": refresh_token_for(session),
        "expires_in": ttl,
    }


def client_details() -> dict[str, str]:
    """Return the client address and user agent recorded on a session."""
    user_agent = request.headers.get("User-Agent", "")[:USER_AGENT_MAX_LENGTH]
    return {"ip": client_address(), "user_agent": user_agent}


def open_session(
    user_id: str, known_sessions: dict[str, Any] | None = None, password_hash: str | None = None
) -> dict[str, Any] | None:
    """Open a session for a user who just proved their password; return its tokens.

    With password_hash (the hash the password was checked against), None if the password
    changed since: a login racing a password change must not keep a session.
    """
    now = models.now()
    session = {
        "_id": ObjectId(),
        "user_id": user_id,
        "generation": 0,
        "nonce": secrets.token_hex(16),
        "created_at": now,
        "issued_at": now,
        "last_used_at": now,
        "expires_at": now + timedelta(seconds=current_app.config["REFRESH_TOKEN_TTL"]),
        **client_details(),
    }
    session["refresh_hash"] = hash_refresh_token(refresh_token_for(session))
    if not Sessions().open(session, known_sessions, password_hash):
        return None
    return issue_tokens(session)


# Refreshing --------------------------------------------------------------------------------------


def refresh_session(token: Any) -> dict[str, Any]:
    """Rotate a refresh token: a new pair, the same pair for a retry, or 401 (reuse revokes)."""
    match = REFRESH_TOKEN_PATTERN.fullmatch(token) if isinstance(token, str) else None
    if match is None:
        raise _invalid_refresh()
    sessions = Sessions()
    session = sessions.get(match[1])
    generation = int(match[2])
    if session is None or not _mac_matches(session, generation, match[3]):
        raise _invalid_refresh()
    if not _session_is_live(session):
        raise _invalid_refresh()
    if generation == session["generation"]:
        rotated = _rotate(sessions, session, token)
        if rotated is not None:
            return issue_tokens(rotated)
        session = sessions.get(session["_id"]) or session
    if _is_retry_within_grace(sessions, session, generation):
        return issue_tokens(session)
    # An old refresh token came back: it was stolen or leaked. End the whole session.
    sessions.revoke(session["user_id"], {str(session["_id"])})
    raise _invalid_refresh()


def _mac_matches(session: dict[str, Any], generation: int, mac: str) -> bool:
    """Tell whether a refresh token's MAC was made by one of our keys for this session."""
    message = f"{session['_id']}.{generation}.{session['nonce']}"
    return any(hmac.compare_digest(_mac(key, message), mac) for key in verification_keys().values())


def _session_is_live(session: dict[str, Any]) -> bool:
    """Tell whether a session is unrevoked, unexpired, and its user active with it open."""
    if session.get("revoked") or models.as_utc(session["expires_at"]) <= models.now():
        return False
    return models.User().get_for_session(session["user_id"], str(session["_id"])) is not None


def _rotate(sessions: Sessions, session: dict[str, Any], token: str) -> dict[str, Any] | None:
    """Advance the session one generation if this token is its current one and nobody beat us."""
    if not hmac.compare_digest(session["refresh_hash"], hash_refresh_token(token)):
        return None
    now = models.now()
    following = {**session, "generation": session["generation"] + 1}
    changes = {
        "refresh_hash": hash_refresh_token(refresh_token_for(following)),
        "issued_at": now,
        "last_used_at": now,
        "expires_at": now + timedelta(seconds=current_app.config["REFRESH_TOKEN_TTL"]),
        **client_details(),
    }
    return sessions.rotate(session["_id"], session["generation"], changes)


def _is_retry_within_grace(sessions: Sessions, session: dict[str, Any], generation: int) -> bool:
    """Tell whether a token one generation old came back within the retry grace window."""
    if generation != session["generation"] - 1 or session.get("rotated_at") is None:
        return False
    delay = sessions.retry_delay(session["_id"], session["generation"])
    return delay is not None and delay <= current_app.config["REFRESH_GRACE_SECONDS"]


def _invalid_refresh() -> ApiError:
    """Return the one 401 for any refresh token that cannot be used."""
    return ApiError(401, INVALID_REFRESH_TOKEN, "Unauthorized", {"WWW-Authenticate": "Bearer"})


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

    return decorated
