"""A user's two-factor state on the user's document: the secret, used steps, recovery codes."""

from __future__ import annotations

from typing import Any

from store.database import get_db
from store.documents import parse_object_id

# The user document's fields the login and two-factor steps read (never shown to clients).
SECURITY_FIELDS = (
    "email_verified",
    "totp_enabled",
    "totp_secret",
    "totp_pending",
    "totp_last_step",
)


class TwoFactorRecords:
    """Two-factor and verification state on user documents, changed by single atomic updates."""

    def __init__(self) -> None:
        self.users = get_db().users

    def state(self, user_id: Any) -> dict[str, Any]:
        """Return the user's two-factor and verification state (internal fields)."""
        document = self.users.find_one(
            {"_id": parse_object_id(user_id)}, dict.fromkeys(SECURITY_FIELDS, 1)
        )
        return document or {}

    def set_pending(self, user_id: Any, sealed_secret: str) -> None:
        """Keep a new TOTP secret until a first code proves the app has it."""
        self.users.update_one(
            {"_id": parse_object_id(user_id)}, {"$set": {"totp_pending": sealed_secret}}
        )

    def enable(
        self, user_id: Any, sealed_secret: str, step: int, recovery_digests: list[str]
    ) -> bool:
        """Turn two-factor on with the pending secret, if it is still the pending one."""
        result = self.users.update_one(
            {"_id": parse_object_id(user_id), "totp_pending": sealed_secret},
            {
                "$set": {
                    "totp_enabled": True,
                    "totp_secret": sealed_secret,
                    "totp_pending": None,
                    "totp_last_step": step,
                    "recovery_codes": dict.fromkeys(recovery_digests, 1),
                }
            },
        )
        return result.modified_count == 1

    def disable(self, user_id: Any) -> None:
        """Turn two-factor off and forget its secret and recovery codes."""
        self.users.update_one(
            {"_id": parse_object_id(user_id)},
            {
                "$set": {
                    "totp_enabled": False,
                    "totp_secret": None,
                    "totp_pending": None,
                    "totp_last_step": 0,
                    "recovery_codes": {},
                }
            },
        )

    def claim_step(self, user_id: Any, step: int) -> bool:
        """Accept a code's time step once: False if it (or a later one) was already used."""
        result = self.users.update_one(
            {"_id": parse_object_id(user_id), "totp_last_step": {"$lt": step}},
            {"$set": {"totp_last_step": step}},
        )
        return result.modified_count == 1

    def use_recovery_code(self, user_id: Any, digest: str) -> bool:
        """Spend a recovery code: True once, False after (or if it was never one)."""
        field = f"recovery_codes.{digest}"
        result = self.users.update_one(
            {"_id": parse_object_id(user_id), field: {"$gt": 0}}, {"$unset": {field: ""}}
        )
        return result.modified_count == 1
