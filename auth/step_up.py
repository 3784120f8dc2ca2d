"""Step-up: the current password, asked again before the steps that could lock the owner out."""

from __future__ import annotations

from typing import Any

from models import User
from validate import PASSWORD_CONFIRMATION
from web.responses import ApiError


def confirm_password(user_id: str, data: dict[str, Any]) -> None:
    """Refuse (400) unless the body's `password` is the user's current one.

    A stolen access token alone must not reach the steps that can lock the owner out.
    """
    errors = PASSWORD_CONFIRMATION.errors(data)
    if errors:
        raise ApiError(400, "Invalid data", errors)
    if not User().check_password(user_id, data["password"]):
        raise ApiError(400, "Invalid data", {"password": "password is incorrect"})
