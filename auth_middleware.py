"""Issuing access tokens and checking them: the token_required decorator lives here."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import wraps
from typing import Any

import jwt
from flask import current_app, request

import models
from responses import ApiError

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ["exp", "iat", "sub", "jti"]
ACCESS_TOKEN_TYPE = "access"
# Headers that would let a token choose its own key or demand unknown processing (RFC 8725).
FORBIDDEN_HEADERS = frozenset({"jku", "jwk", "x5u", "x5c", "crit"})

MISSING_TOKEN = "Authentication Token is missing!"
INVALID_TOKEN = "Invalid Authentication token!"


def issue_access_token(user_id: str) -> str:
    """Return a signed access token for the user, valid for ACCESS_TOKEN_TTL seconds."""
    now = datetime.now(UTC)
    claims = {
        "sub": user_id,
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(seconds=current_app.config["ACCESS_TOKEN_TTL"]),
        "jti": uuid.uuid4().hex,
        "type": ACCESS_TOKEN_TYPE,
    }
    return jwt.encode(claims, current_app.config["SECRET_KEY"], algorithm=ALGORITHM)


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
    """Return the verified claims of an access token, or raise the 401 for a bad token."""
    try:
        if FORBIDDEN_HEADERS & jwt.get_unverified_header(token).keys():
            raise jwt.InvalidTokenError("forbidden header")
        claims = jwt.decode(
            token,
            current_app.config["SECRET_KEY"],
            algorithms=[ALGORITHM],
            options={"require": REQUIRED_CLAIMS},
        )
    except jwt.InvalidTokenError:
        raise unauthorized(INVALID_TOKEN, token_sent=True) from None
    if claims.get("type") != ACCESS_TOKEN_TYPE or not isinstance(claims.get("jti"), str):
        raise unauthorized(INVALID_TOKEN, token_sent=True)
    return claims


def token_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Call the view with the authenticated, active user as its first argument, or answer 401."""

    @wraps(view)
    def decorated(*args: Any, **kwargs: Any) -> Any:
        claims = decode_access_token(bearer_token())
        current_user = models.User().get_by_id(claims["sub"])
        if current_user is None:
            raise unauthorized(INVALID_TOKEN, token_sent=True)
        return view(current_user, *args, **kwargs)

    return decorated
