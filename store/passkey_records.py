"""Passkeys as stored: WebAuthn challenges (single-use, expiring) and registered credentials."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from store.database import get_db
from store.documents import parse_object_id, to_public
from store.errors import DuplicateError
from store.single_use import keep, spend
from store.timestamps import now

PASSKEY_FIELDS = ("_id", "name", "created_at", "last_used_at")
REGISTRATION = "registration"
LOGIN = "login"


class PasskeyChallenges:
    """Challenges of begun ceremonies, keyed by the challenge itself (base64url)."""

    def __init__(self) -> None:
        self.collection = get_db().passkey_challenges

    def store(self, challenge: str, purpose: str, user_id: str | None, ttl_seconds: int) -> None:
        """Keep a challenge for one ceremony (bound to a user, or to nobody yet for a login)."""
        keep(self.collection, challenge, ttl_seconds, purpose=purpose, user_id=user_id)

    def consume(self, challenge: str, purpose: str, user_id: str | None = None) -> dict | None:
        """Spend a challenge: its record the first time if unexpired, else None.

        Of two requests answering one challenge, one wins. With user_id, only a challenge
        issued to that user is spent.
        """
        criteria: dict[str, Any] = {"_id": challenge, "purpose": purpose}
        if user_id is not None:
            criteria["user_id"] = user_id
        return spend(self.collection, criteria)

    def delete_for_user(self, user_id: str) -> None:
        """Drop every outstanding challenge issued to the user."""
        self.collection.delete_many({"user_id": user_id})


class PasskeyCredentials:
    """Registered credentials: public key, signature counter, transports, name, owner."""

    def __init__(self) -> None:
        self.collection = get_db().passkeys

    def add(self, user_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        """Store a verified credential; DuplicateError if its credential id is registered."""
        moment = now()
        document = {**fields, "user_id": user_id, "created_at": moment, "last_used_at": None}
        try:
            self.collection.insert_one(document)
        except DuplicateKeyError:
            raise DuplicateError("credential_id") from None
        return to_public(document, PASSKEY_FIELDS)

    def count_for_user(self, user_id: str) -> int:
        """Return how many passkeys the user has."""
        return self.collection.count_documents({"user_id": user_id})

    def for_user(self, user_id: str) -> list[dict[str, Any]]:
        """Return the user's stored credentials (internal fields), oldest first."""
        return list(self.collection.find({"user_id": user_id}).sort("created_at", ASCENDING))

    def list_public(self, user_id: str) -> list[dict[str, Any]]:
        """Return the user's passkeys as the API shows them, oldest first."""
        return [to_public(document, PASSKEY_FIELDS) for document in self.for_user(user_id)]

    def by_credential_id(self, credential_id: str) -> dict[str, Any] | None:
        """Return the stored credential with this id (base64url), or None."""
        return self.collection.find_one({"credential_id": credential_id})

    def record_use(self, document: dict[str, Any], sign_count: int, changes: dict) -> bool:
        """Store a login's new counter, only over the counter it was verified against.

        False if another login moved the counter meanwhile: a race must never roll it back.
        """
        result = self.collection.update_one(
            {"_id": document["_id"], "sign_count": document["sign_count"]},
            {"$set": {**changes, "sign_count": sign_count, "last_used_at": now()}},
        )
        return result.matched_count == 1

    def delete(self, user_id: str, passkey_id: Any) -> bool:
        """Remove one of the user's passkeys; False if the id names none of theirs."""
        object_id = parse_object_id(passkey_id)
        if object_id is None:
            return False
        return self.collection.delete_one({"_id": object_id, "user_id": user_id}).deleted_count == 1

    def delete_for_user(self, user_id: str) -> None:
        """Remove every passkey of the user (the account is going)."""
        self.collection.delete_many({"user_id": user_id})
