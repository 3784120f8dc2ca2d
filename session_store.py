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

    def open(
        self,
        session: dict[str, Any],
        known_sessions: dict[str, Any] | None = None,
        password_hash: str | None = None,
    ) -> bool:
        """Store a new session and mark it open on its user; expired entries are dropped.

        known_sessions is the user's session map if the caller has just read it (login has):
        an expired entry stays expired, so a map a moment old finds the same stale ones.
        With password_hash, the session opens only if the user's password is still that one:
        a login that checked a password changed since gets no session (False).
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
        criteria: dict[str, Any] = {"_id": user_id}
        if password_hash is not None:
            criteria["password_hash"] = password_hash
        opened = self._insert_then_update_user({**session, "revoked": False}, criteria, update)
        if not opened:
            # Never on the user's map, so no token of it ever worked; marked for the record.
            self.collection.update_one(
                {"_id": session["_id"]}, {"$set": {"revoked": True, "revoked_at": now()}}
            )
        return opened

    def _insert_then_update_user(
        self, document: dict[str, Any], criteria: dict[str, Any], update: dict[str, Any]
    ) -> bool:
        """Insert a session, then update its user: in one round trip where the server can.

        MongoDB 8.0 and nx-27017 take both writes in one client-level bulk write, in order;
        older servers get them one after the other. Return whether the user matched.
        """
        client = self.collection.database.client
        if isinstance(client, MongoClient):
            writes: list[InsertOne[Any] | UpdateOne] = [
                InsertOne(document, namespace=self.collection.full_name),
                UpdateOne(criteria, update, namespace=self.users.full_name),
            ]
            try:
                return client.bulk_write(writes, ordered=True).matched_count == 1
            except InvalidOperation:
                # Raised before anything is sent: the server predates MongoDB 8.0.
                pass
        self.collection.insert_one(document)
        return self.users.update_one(criteria, update).matched_count == 1

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
            # The database's clock, not this instance's: see retry_delay.
            {
                "$set": {**changes, "generation": generation + 1},
                "$currentDate": {"rotated_at": True},
            },
            return_document=ReturnDocument.AFTER,
        )
        if session is not None:
            self.users.update_one(
                {"_id": parse_object_id(session["user_id"]), f"sessions.{session_id}": {"$gt": 0}},
                {"$set": {f"sessions.{session_id}": _epoch(session)}},
            )
        return session

    def retry_delay(self, session_id: ObjectId, generation: int) -> float | None:
        """Return the seconds since the session moved to generation, by the database's clock.

        Both times come from the one database clock ($currentDate), so a retried refresh is
        judged the same way on every instance, however far their own clocks drift. None if the
        session is no longer at that generation or was never rotated.
        """
        stamped = self.collection.find_one_and_update(
            {"_id": session_id, "generation": generation, "revoked": False},
            {"$currentDate": {"retried_at": True}},
            projection={"rotated_at": 1, "retried_at": 1},
            return_document=ReturnDocument.AFTER,
        )
        if stamped is None or stamped.get("rotated_at") is None:
            return None
        return (as_utc(stamped["retried_at"]) - as_utc(stamped["rotated_at"])).total_seconds()

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
