"""Step-up: the current password, asked again before the steps that could lock the owner out."""

from __future__ import annotations

from typing import Any

from models import User
from web.responses import ApiError


def confirm_password(user_id: str, data: dict[str, Any]) -> None:
    """Refuse (400) unless the body's `password` is the user's current one.

    A stolen access token alone must not reach the steps that can lock the owner out.
    """
    password = data.get("password")
    if not isinstance(password, str) or not password:
        raise ApiError(
            400, "Invalid data", {"password": "password is required: send your current password"}
        )
    if not User().check_password(user_id, password):
        raise ApiError(400, "Invalid data", {"password": "password is incorrect"})
