"""Login sessions: each session's details, and its expiry on its user's document."""

from __future__ import annotations

from typing import Any

from bson import ObjectId
from pymongo import InsertOne, MongoClient, ReturnDocument, UpdateOne
from pymongo.errors import InvalidOperation

from database import get_db
from models import parse_object_id, to_public
from timestamps import as_utc, now

SESSION_FIELDS = ("_id", "created_at", "last_used_at", "expires_at", "ip", "user_agent")


class Sessions:
    """Login sessions: details here, and each open session's expiry on its user's document.

    The user document's `sessions` map ({session id: expiry epoch seconds}) is what access-token
    checks read, in the same query as the user; this collection holds what refresh and the
    session list need. Closing a session removes it from the map first.
    """

    def __init__(self) -> None:
        db = get_db()
        self.collection = db.sessions
        self.users = db.users

    def open(self, session: dict[str, Any], known_sessions: dict[str, Any] | None = None) -> None:
        """Store a new session and mark it open on its user; expired entries are dropped.

        known_sessions is the user's session map if the caller has just read it (login has):
        an expired entry stays expired, so a map a moment old finds the same stale ones.
        """
        user_id = parse_object_id(session["user_id"])
        if known_sessions is None:
            user = self.users.find_one({"_id": user_id}, {"sessions": 1}) or {}
            known_sessions = user.get("sessions") or {}
        moment = now()
        stale = {
            f"sessions.{sid}": ""
            for sid, expires in known_sessions.items()
            if not isinstance(expires, int | float) or expires <= moment.timestamp()
        }
        update: dict[str, Any] = {"$set": {f"sessions.{session['_id']}": _epoch(session)}}
        if stale:
            update["$unset"] = stale
        self._insert_then_update_user({**session, "revoked": False}, user_id, update)

    def _insert_then_update_user(
        self, document: dict[str, Any], user_id: ObjectId | None, update: dict[str, Any]
    ) -> None:
        """Insert a session, then update its user: in one round trip where the server can.

        MongoDB 8.0 and nx-27017 take both writes in one client-level bulk write, in order;
        older servers and mongomock get them one after the other.
        """
        client = self.collection.database.client
        if isinstance(client, MongoClient):
            writes = [
                InsertOne(document, namespace=self.collection.full_name),
                UpdateOne({"_id": user_id}, update, namespace=self.users.full_name),
            ]
            try:
                client.bulk_write(writes, ordered=True)
                return
            except InvalidOperation:
                # Raised before anything is sent: the server predates MongoDB 8.0.
                pass
        self.collection.insert_one(document)
        self.users.update_one({"_id": user_id}, update)

    def get(self, session_id: Any) -> dict[str, Any] | None:
        """Return a session's stored fields (refresh hash included), or None."""
        object_id = parse_object_id(session_id)
        return None if object_id is None else self.collection.find_one({"_id": object_id})

    def rotate(
        self, session_id: ObjectId, generation: int, changes: dict[str, Any]
    ) -> dict[str, Any] | None:
        """Move a live session from generation to generation + 1, if nobody did it first."""
        session = self.collection.find_one_and_update(
            {"_id": session_id, "generation": generation, "revoked": False},
            {"$set": {**changes, "generation": generation + 1}},
            return_document=ReturnDocument.AFTER,
        )
        if session is not None:
            self.users.update_one(
                {"_id": parse_object_id(session["user_id"]), f"sessions.{session_id}": {"$gt": 0}},
                {"$set": {f"sessions.{session_id}": _epoch(session)}},
            )
        return session

    def list_open(self, user_id: str, open_ids: set[str]) -> list[dict[str, Any]]:
        """Return the user's open sessions, newest first."""
        cursor = self.collection.find({"user_id": user_id, "revoked": False})
        sessions = [
            to_public(session, SESSION_FIELDS)
            for session in cursor.sort("created_at", -1)
            if str(session["_id"]) in open_ids
        ]
        return sessions

    def open_ids(self, user_id: str) -> set[str]:
        """Return the ids of the user's unexpired open sessions (from the user document)."""
        user = self.users.find_one({"_id": parse_object_id(user_id)}, {"sessions": 1}) or {}
        moment = now()
        return {
            sid
            for sid, expires in (user.get("sessions") or {}).items()
            if isinstance(expires, int | float) and expires > moment.timestamp()
        }

    def revoke(self, user_id: str, session_ids: set[str]) -> None:
        """Close sessions: their access and refresh tokens stop working at once."""
        if not session_ids:
            return
        # The user document first: that is what every access-token check reads.
        self.users.update_one(
            {"_id": parse_object_id(user_id)},
            {"$unset": {f"sessions.{sid}": "" for sid in session_ids}},
        )
        self.collection.update_many(
            {"_id": {"$in": [parse_object_id(sid) for sid in session_ids]}, "user_id": user_id},
            {"$set": {"revoked": True, "revoked_at": now()}},
        )

    def revoke_all(self, user_id: str, keep: str | None = None) -> None:
        """Close every session of the user, except `keep` if given."""
        live = self.collection.find({"user_id": user_id, "revoked": False}, {"_id": 1})
        ids = {str(session["_id"]) for session in live}
        self.revoke(user_id, (ids | self.open_ids(user_id)) - {keep})


def _epoch(session: dict[str, Any]) -> int:
    """Return a session's expiry as whole epoch seconds (what the user document keeps)."""
    return int(as_utc(session["expires_at"]).timestamp())
