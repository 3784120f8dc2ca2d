"""Login sessions, their whole life: opened at login, stored, read, rotated by refresh, revoked.

A session is a document here plus its expiry on its user's document (read by every access-token
check); its refresh token is derived from it, and each refresh moves it one generation on.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from datetime import timedelta
from typing import Any

import jwt
from bson import ObjectId
from flask import current_app, request
from pymongo import InsertOne, ReturnDocument, UpdateOne
from pymongo.errors import InvalidOperation

import models
from crypto.keys import ACCESS_TOKEN_TYPE, ALGORITHM, key_id, verification_keys
from store.database import get_db
from store.documents import parse_object_id, to_public
from store.timestamps import as_utc, now
from web.client_address import client_address
from web.responses import ApiError

REFRESH_TOKEN_PATTERN = re.compile(r"rt1\.([0-9a-f]{24})\.([0-9]{1,9})\.([A-Za-z0-9_-]{43})")
USER_AGENT_MAX_LENGTH = 256
INVALID_REFRESH_TOKEN = "Invalid refresh token"
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
        older servers, and clients without the method (PyMongo before 4.9, in-process fakes
        of PyMongo), get them one after the other. Return whether the user matched.
        """
        client = self.collection.database.client
        if callable(getattr(type(client), "bulk_write", None)):
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


# Tokens of a session ----------------------------------------------------------------------------


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
    issued = as_utc(session["issued_at"])
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
    moment = now()
    session = {
        "_id": ObjectId(),
        "user_id": user_id,
        "generation": 0,
        "nonce": secrets.token_hex(16),
        "created_at": moment,
        "issued_at": moment,
        "last_used_at": moment,
        "expires_at": moment + timedelta(seconds=current_app.config["REFRESH_TOKEN_TTL"]),
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
    if session.get("revoked") or as_utc(session["expires_at"]) <= now():
        return False
    return models.User().get_for_session(session["user_id"], str(session["_id"])) is not None


def _rotate(sessions: Sessions, session: dict[str, Any], token: str) -> dict[str, Any] | None:
    """Advance the session one generation if this token is its current one and nobody beat us."""
    if not hmac.compare_digest(session["refresh_hash"], hash_refresh_token(token)):
        return None
    moment = now()
    following = {**session, "generation": session["generation"] + 1}
    changes = {
        "refresh_hash": hash_refresh_token(refresh_token_for(following)),
        "issued_at": moment,
        "last_used_at": moment,
        "expires_at": moment + timedelta(seconds=current_app.config["REFRESH_TOKEN_TTL"]),
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
