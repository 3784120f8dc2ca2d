"""What the token tests share: forged and altered tokens, and the failures they must earn."""

from __future__ import annotations

import json
import time
import uuid
import warnings
from typing import Any

import jwt
from jwt.utils import base64url_decode, base64url_encode
from jwt.warnings import InsecureKeyLengthWarning

from crypto.keys import key_id
from tests.helpers import TEST_SECRET_KEY

MISSING_TOKEN = {
    "message": "Authentication Token is missing!",
    "data": None,
    "error": "Unauthorized",
}
INVALID_TOKEN = {"message": "Invalid Authentication token!", "data": None, "error": "Unauthorized"}
LOGIN_FAILED = {
    "message": "Error fetching auth token!, invalid email or password",
    "data": None,
    "error": "Unauthorized",
}
BAD_REQUEST_BODY = {"message": "Please provide user details", "data": None, "error": "Bad request"}
USER_FIELDS = {"_id", "name", "email", "active"}
OTHER_KEY = "another-secret-key-of-more-than-32-bytes!!"
DROP = object()
# The open session of each signed-up user, so that forged tokens name a real session.
SESSION_IDS: dict[str, str] = {}


# Helpers ------------------------------------------------------------------------------------------


def assert_missing_token(response: Any) -> None:
    """Assert the 401 a request without a token gets."""
    assert response.status_code == 401
    assert response.json == MISSING_TOKEN
    assert response.headers["WWW-Authenticate"] == "Bearer"


def assert_invalid_token(response: Any) -> None:
    """Assert the 401 a request with a bad token gets."""
    assert response.status_code == 401
    assert response.json == INVALID_TOKEN
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'


def assert_profile(response: Any, user: dict[str, Any]) -> None:
    """Assert the 200 of GET /users/ for this user."""
    assert response.status_code == 200
    assert response.json == {
        "message": "successfully retrieved user profile",
        "data": {field: user[field] for field in USER_FIELDS},
    }


def claims_for(user_id: Any, **changes: Any) -> dict[str, Any]:
    """Return the claims the app issues for a user, with some changed (or dropped with DROP)."""
    now = int(time.time())
    claims = {
        "sub": user_id,
        "iat": now,
        "nbf": now,
        "exp": now + 3600,
        "jti": uuid.uuid4().hex,
        "type": "access",
        "sid": SESSION_IDS.get(str(user_id), "0" * 24),
    }
    for name, value in changes.items():
        if value is DROP:
            del claims[name]
        else:
            claims[name] = value
    return claims


def forge(
    user_id: Any,
    key: str = TEST_SECRET_KEY,
    algorithm: str = "HS256",
    headers: dict[str, Any] | None = None,
    **changes: Any,
) -> str:
    """Return a token signed with PyJWT, by default exactly like the app's own."""
    # The app's key id by default, so that a wrong key is refused for its signature alone.
    headers = {"kid": key_id(TEST_SECRET_KEY), **(headers or {})}
    headers = {name: value for name, value in headers.items() if value is not DROP}
    return jwt.encode(claims_for(user_id, **changes), key, algorithm=algorithm, headers=headers)


def forge_with_longer_hash(user_id: str, algorithm: str) -> str:
    """Return a token signed with the app's key but a stronger HMAC than the app uses."""
    with warnings.catch_warnings():
        # The test key is shorter than PyJWT recommends for HS384/HS512; that is not the point.
        warnings.simplefilter("ignore", InsecureKeyLengthWarning)
        return forge(user_id, algorithm=algorithm)


def segment(data: Any) -> str:
    """Return the base64url segment of a JSON value."""
    return base64url_encode(json.dumps(data).encode()).decode()


def with_claims_changed(token: str, **changes: Any) -> str:
    """Return the token with its payload changed and its original signature kept."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64url_decode(payload))
    claims.update(changes)
    return f"{header}.{segment(claims)}.{signature}"


def bearer(token: str) -> dict[str, str]:
    """Return the Authorization header for a token."""
    return {"Authorization": f"Bearer {token}"}
