"""PyMongo model classes: User and Books. Methods return public dicts or None, never hashes."""

from __future__ import annotations

import contextlib
import logging
from typing import Any, ClassVar, NamedTuple

from bson import ObjectId
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError, PyMongoError

from crypto.passwords import burn_verification, hash_password, needs_rehash, verify_password
from store import book_keys, shelf_counts, shelf_index, shelf_search
from store.database import get_collection, index_friendly
from store.documents import parse_object_id, to_public
from store.errors import ConcurrentUpdateError, DuplicateError, PreconditionFailedError
from store.shelf_search import BookQuery
from store.timestamps import now
from store.two_factor_records import SECURITY_FIELDS

logger = logging.getLogger(__name__)

UPDATE_ATTEMPTS = 5
USER_FIELDS = ("_id", "name", "email", "active")
BOOK_FIELDS = (
    "_id",
    "title",
    "description",
    "category",
    "isbn",
    "cover",
    "user_id",
    "version",
    "created_at",
    "updated_at",
)


class LoginMatch(NamedTuple):
    """A user whose password matched, with what the rest of the login needs from the same read."""

    user: dict[str, Any]
    security: dict[str, Any]
    sessions: dict[str, Any]
    # The password hash this login was checked against: its session opens only while it holds.
    password_hash: str


class BookUpdate(NamedTuple):
    """An updated book and the cover it had before the update."""

    book: dict[str, Any]
    previous_cover: str


def _login_match(document: dict[str, Any], password_hash: str) -> LoginMatch:
    """Return what a login needs from the user document it read."""
    return LoginMatch(
        to_public(document, USER_FIELDS),
        {field: document[field] for field in SECURITY_FIELDS if field in document},
        document.get("sessions") or {},
        password_hash,
    )


class Model:
    """A collection's model: each subclass names the collection it reads and writes."""

    collection_name: ClassVar[str]

    def __init__(self) -> None:
        self.collection = get_collection(self.collection_name)


class User(Model):
    """User Model"""

    collection_name = "users"

    def create(
        self, name: str, email: str, password: str, email_verified: bool = True
    ) -> dict[str, Any]:
        """Create an active user; raise DuplicateError if an active account has this email."""
        document = {
            "name": name,
            "email": email,
            "email_key": email,
            "password_hash": hash_password(password),
            "active": True,
            "email_verified": email_verified,
            "totp_enabled": False,
            "totp_last_step": 0,
            "created_at": now(),
        }
        try:
            self.collection.insert_one(document)
        except DuplicateKeyError:
            raise DuplicateError("email") from None
        return to_public(document, USER_FIELDS)

    def get_by_id(self, user_id: Any) -> dict[str, Any] | None:
        """Return the active user with this id, or None."""
        object_id = parse_object_id(user_id)
        if object_id is None:
            return None
        document = self.collection.find_one({"_id": object_id}, dict.fromkeys(USER_FIELDS, 1))
        # Truthiness, not identity: nx-27017 gives back a $set boolean as 0 or 1.
        if document is None or not document.get("active"):
            return None
        return to_public(document, USER_FIELDS)

    def get_for_session(self, user_id: Any, session_id: Any) -> dict[str, Any] | None:
        """Return the active user if the session is open on it, in one read, or None."""
        object_id = parse_object_id(user_id)
        if object_id is None or not isinstance(session_id, str):
            return None
        # Unprojected: nx-27017 deep-copies a projected document, which nearly doubles the cost
        # of this read (made by every authenticated request); to_public keeps the public fields.
        document = self.collection.find_one({"_id": object_id})
        if document is None or not document.get("active"):
            return None
        expires = (document.get("sessions") or {}).get(session_id)
        if not isinstance(expires, int | float) or expires <= now().timestamp():
            return None
        return to_public(document, USER_FIELDS)

    def check_password(self, user_id: Any, password: str) -> bool:
        """Tell whether the password is the active user's current one."""
        document = self.collection.find_one(
            {"_id": parse_object_id(user_id)}, {"password_hash": 1, "active": 1}
        )
        if document is None or not document.get("active"):
            burn_verification(password)
            return False
        return verify_password(document["password_hash"], password)

    def set_password(self, user_id: Any, password: str) -> None:
        """Replace the user's password hash."""
        self.collection.update_one(
            {"_id": parse_object_id(user_id)},
            {"$set": {"password_hash": hash_password(password), "updated_at": now()}},
        )

    def get_by_email(self, email: str) -> dict[str, Any] | None:
        """Return the active user with this (normalised) email, or None."""
        document = self.collection.find_one({"email_key": email}, dict.fromkeys(USER_FIELDS, 1))
        return to_public(document, USER_FIELDS)

    def mark_email_verified(self, user_id: Any) -> None:
        """Record that the user proved they read mail sent to their address."""
        self.collection.update_one(
            {"_id": parse_object_id(user_id)}, {"$set": {"email_verified": True}}
        )

    def login(self, email: str, password: str) -> LoginMatch | None:
        """Return the active user whose email and password match, at the same cost either way."""
        document = self.collection.find_one({"email_key": email})
        if document is None:
            burn_verification(password)
            return None
        if not verify_password(document["password_hash"], password):
            return None
        password_hash = document["password_hash"]
        if needs_rehash(password_hash):
            rehashed = hash_password(password)
            # Only over the hash just verified: a password changed meanwhile stays changed.
            result = self.collection.update_one(
                {"_id": document["_id"], "password_hash": password_hash},
                {"$set": {"password_hash": rehashed}},
            )
            if result.modified_count == 1:
                password_hash = rehashed
        return _login_match(document, password_hash)

    def for_passkey_login(self, user_id: Any) -> LoginMatch | None:
        """Return the active user a passkey names, with what its login needs, in one read."""
        object_id = parse_object_id(user_id)
        document = None if object_id is None else self.collection.find_one({"_id": object_id})
        # Truthiness, not identity: nx-27017 gives back a $set boolean as 0 or 1.
        if document is None or not document.get("active"):
            return None
        return _login_match(document, document["password_hash"])

    def update(self, user_id: Any, name: str) -> dict[str, Any] | None:
        """Change an active user's name; return the updated user, or None if it is gone."""
        document = self.collection.find_one_and_update(
            {"_id": parse_object_id(user_id), "active": True},
            {"$set": {"name": name, "updated_at": now()}},
            projection=dict.fromkeys(USER_FIELDS, 1),
            return_document=ReturnDocument.AFTER,
        )
        return to_public(document, USER_FIELDS)

    def disable_account(self, user_id: Any) -> bool:
        """Disable an account and free its email for a new sign-up; its books are kept."""
        object_id = parse_object_id(user_id)
        result = self.collection.update_one(
            {"_id": object_id, "active": True},
            # A unique placeholder rather than removing the key: MongoDB's unique index
            # counts a missing field as null, so two disabled accounts would collide.
            {
                "$set": {
                    "active": False,
                    "email_key": f"disabled:{object_id}",
                    "disabled_at": now(),
                }
            },
        )
        return result.modified_count == 1


class Books(Model):
    """Books Model"""

    collection_name = "books"

    def create(
        self,
        user_id: str,
        fields: dict[str, Any],
        cover: str,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Put a book on its owner's shelf; DuplicateError if its title or ISBN is taken there.

        idempotency_key (the request's key record id) is stored with the book, in the same
        insert, so a retry whose first attempt died after this write still finds the book.
        """
        document = book_keys.new_book(user_id, fields, cover)
        if idempotency_key is not None:
            document["idempotency_key"] = idempotency_key
        document.update(shelf_index.new_book_fields())
        database = self.collection.database
        # Claimed before the insert: until the count is moved, readers count the shelf itself.
        claim = shelf_counts.begin_write(database, user_id)
        try:
            self.collection.insert_one(document)
        except DuplicateKeyError:
            shelf_counts.finish_quietly(database, user_id, claim, {})
            raise DuplicateError(self._taken_field(document)) from None
        try:
            shelf_index.book_written(database, document)
            shelf_counts.finish_write(
                database, user_id, claim, shelf_counts.added(document["category"])
            )
        except PyMongoError:
            # The database failed half-way: undo the book, so the client's retry (after the
            # 503) starts from nothing. Whatever of this is lost stays exact all the same (the
            # claim and the pending mark stand until a reader repairs them).
            self.collection.delete_one({"_id": document["_id"]})
            with contextlib.suppress(PyMongoError):
                shelf_index.book_deleted(database, document)
            shelf_counts.finish_quietly(database, user_id, claim, {})
            raise
        return to_public(document, BOOK_FIELDS)

    def list_for_user(self, user_id: str, query: BookQuery) -> tuple[list[dict[str, Any]], int]:
        """Return one page of a user's shelf, filtered, searched and sorted, and the total."""
        if query.search is not None:
            documents, total = shelf_search.search(self.collection, user_id, query, BOOK_FIELDS)
        else:
            documents, total = shelf_search.list_page(self.collection, user_id, query)
        return [to_public(document, BOOK_FIELDS) for document in documents], total

    def get_by_idempotency_key(self, user_id: str, key_id: str) -> dict[str, Any] | None:
        """Return the user's book created under this Idempotency-Key record id, or None."""
        document = self.collection.find_one(
            index_friendly({"user_id": user_id, "idempotency_key": key_id}),
            dict.fromkeys(BOOK_FIELDS, 1),
        )
        return to_public(document, BOOK_FIELDS)

    def get_for_user(self, book_id: Any, user_id: str) -> dict[str, Any] | None:
        """Return the book if it exists and belongs to this user, else None."""
        object_id = parse_object_id(book_id)
        if object_id is None:
            return None
        # By _id alone and unprojected, the owner checked here: nx-27017 answers that read
        # fastest (a second criterion is filtered, a projection deep-copies the document).
        document = self.collection.find_one({"_id": object_id})
        if document is None or document.get("user_id") != user_id:
            return None
        return to_public(document, BOOK_FIELDS)

    def update(
        self,
        book_id: Any,
        user_id: str,
        changes: dict[str, Any],
        expected_version: int | None = None,
    ) -> BookUpdate | None:
        """Apply changes to the user's book and return it with the cover it replaced.

        None if the book is not theirs; DuplicateError on a taken title or ISBN;
        PreconditionFailedError if expected_version is given and the book is past it.
        """
        object_id = parse_object_id(book_id)
        if object_id is None:
            return None
        database = self.collection.database
        # A change of category moves counts: claimed before the write, as a create is.
        claim = shelf_counts.begin_write(database, user_id) if "category" in changes else None
        try:
            stored = self._compare_and_set(object_id, user_id, changes, expected_version)
        except (DuplicateError, PreconditionFailedError, ConcurrentUpdateError):
            if claim is not None:
                shelf_counts.finish_quietly(database, user_id, claim, {})
            raise
        # (A PyMongoError leaves the claim standing: the write may have landed or not.)
        if stored is not None:
            self._reindex(*stored)
        if claim is not None:
            moves = (
                shelf_counts.moved(stored[0]["category"], stored[1]["category"]) if stored else {}
            )
            shelf_counts.finish_quietly(database, user_id, claim, moves)
        if stored is None:
            return None
        return BookUpdate(to_public(stored[1], BOOK_FIELDS), stored[0]["cover"])

    def _compare_and_set(
        self,
        object_id: ObjectId,
        user_id: str,
        changes: dict[str, Any],
        expected_version: int | None,
    ) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """Write changes over the version read; return the book before and after, or None."""
        # Read, then write only if the version is still the one read: a compare-and-set that
        # tells exactly which cover this update replaced and loses no concurrent edit. Not
        # find_one_and_update: nx-27017 answers it with None instead of DuplicateKeyError.
        for _ in range(UPDATE_ATTEMPTS):
            before = self.collection.find_one({"_id": object_id, "user_id": user_id})
            if before is None:
                return None
            version = before.get("version", 0)
            if expected_version is not None and version != expected_version:
                raise PreconditionFailedError(version)
            fields = {
                **book_keys.update_fields(before, changes, version + 1),
                # In the same write: the book is pending until its new entries are written.
                **shelf_index.changed_fields(before, changes),
            }
            try:
                result = self.collection.update_one(
                    {"_id": object_id, "user_id": user_id, **book_keys.version_filter(before)},
                    {"$set": fields},
                )
            except DuplicateKeyError:
                raise DuplicateError(self._taken_field({**before, **fields})) from None
            if result.matched_count == 1:
                return before, {**before, **fields}
        raise ConcurrentUpdateError("the book kept changing; try again")

    def _reindex(self, before: dict[str, Any], after: dict[str, Any]) -> None:
        """Carry a stored change into the shelf's search terms."""
        try:
            shelf_index.book_written(self.collection.database, after, before)
        except PyMongoError:
            # The change itself is stored and the book stays pending: searches find it all
            # the same, and the first one after REPAIR_AFTER_SECONDS indexes it. Failing the
            # request now would only invite a retry that finds nothing left to change.
            logger.exception("the shelf index missed the update of book %s", after["_id"])

    def _taken_field(self, book: dict[str, Any]) -> str:
        """Tell which unique field another book on the shelf holds: "title" or "isbn"."""
        # Asked of the data, not of the error: drivers and servers word DuplicateKeyError apart.
        clash = self.collection.find_one(
            {"user_id": book["user_id"], "title_key": book["title_key"]}, {"_id": 1}
        )
        return "title" if clash is not None and clash["_id"] != book["_id"] else "isbn"

    def delete(self, book_id: Any, user_id: str) -> dict[str, Any] | None:
        """Delete the user's book and return it, or None if it is not theirs."""
        object_id = parse_object_id(book_id)
        if object_id is None:
            return None
        database = self.collection.database
        claim = shelf_counts.begin_write(database, user_id)
        # (A PyMongoError leaves the claim standing: the delete may have landed or not.)
        document = self.collection.find_one_and_delete({"_id": object_id, "user_id": user_id})
        if document is None:
            shelf_counts.finish_quietly(database, user_id, claim, {})
            return None
        try:
            shelf_index.book_deleted(database, document)
        except PyMongoError:
            # The book is gone; a search drops its leftover entries when it meets them.
            logger.exception("the shelf index missed the deletion of book %s", document["_id"])
        shelf_counts.finish_quietly(
            database, user_id, claim, shelf_counts.removed(document["category"])
        )
        return to_public(document, BOOK_FIELDS)
