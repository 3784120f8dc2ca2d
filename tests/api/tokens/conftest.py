"""Fixtures of the token tests."""

from __future__ import annotations

from typing import Any

import jwt
import pytest
from flask.testing import FlaskClient

from tests.api.tokens.checks import SESSION_IDS
from tests.helpers import log_in


@pytest.fixture
def user_id(client: FlaskClient, user: dict[str, Any]) -> str:
    """Return the id of the signed-up user, after opening a session that forged tokens name."""
    token = log_in(client, user["email"])
    SESSION_IDS[user["_id"]] = jwt.decode(token, options={"verify_signature": False})["sid"]
    return user["_id"]
