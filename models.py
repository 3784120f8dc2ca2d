"""PyMongo model classes: User and Books. Methods return public dicts or None, never hashes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, NamedTuple

from bson import ObjectId
from bson.errors import InvalidId
from pymongo import ASCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

from database import get_db
from passwords import burn_verification, hash_password, needs_rehash, verify_password

USER_FIELDS = ("_id", "name", "email", "active")
BOOK_FIELDS = (
    "_id",
    "title",
    "description",
    "category",
    "cover",
    "user_id",
    "created_at",
    "updated_at",
)


class DuplicateError(Exception):
    """A write refused by a unique index (the email or the shelf title is taken)."""


def parse_object_id(value: Any) -> ObjectId | None:
    """Return the ObjectId a 24-hex string names, or None for anything else."""
    if isinstance(value, ObjectId):
        return value
    if not isinstance(value, str) or len(value) != 24:
        return None
    try:
        return ObjectId(value)
    except InvalidId:
        return None


def to_public(document: dict[str, Any] | None, fields: tuple[str, ...]) -> dict[str, Any] | None:
    """Return the named fields of a document as JSON-ready values (ids and dates as strings)."""
    if document is None:
        return None
    public = {}
    for field in fields:
        value = document.get(field)
        if isinstance(value, ObjectId):
            value = str(value)
        elif isinstance(value, datetime):
            value = _as_utc(value).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        public[field] = value
    if "active" in public:
        public["active"] = bool(public["active"])
    return public


def _as_utc(moment: datetime) -> datetime:
    """Return an aware UTC datetime (stores that drop the zone give naive UTC back)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _now() -> datetime:
    """Return the current time at the millisecond precision BSON stores."""
    moment = datetime.now(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


class User:
    """User Model"""

    def __init__(self) -> None:
        self.collection = get_db().users

    def create(self, name: str, email: str, password: str) -> dict[str, Any]:
        """Create an active user; raise DuplicateError if an active account has this email."""
        document = {
            "name": name,
            "email": email,
            "email_key": email,
            "password_hash": hash_password(password),
            "active": True,
            "created_at": _now(),
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

    def login(self, email: str, password: str) -> dict[str, Any] | None:
        """Return the active user whose email and password match, at the same cost either way."""
        document = self.collection.find_one({"email_key": email})
        if document is None:
            burn_verification(password)
            return None
        if not verify_password(document["password_hash"], password):
            return None
        if needs_rehash(document["password_hash"]):
            self.collection.update_one(
                {"_id": document["_id"]}, {"$set": {"password_hash": hash_password(password)}}
            )
        return to_public(document, USER_FIELDS)

    def update(self, user_id: Any, name: str) -> dict[str, Any] | None:
        """Change an active user's name; return the updated user, or None if it is gone."""
        document = self.collection.find_one_and_update(
            {"_id": parse_object_id(user_id), "active": True},
            {"$set": {"name": name, "updated_at": _now()}},
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
                    "disabled_at": _now(),
                }
            },
        )
        return result.modified_count == 1


class BookUpdate(NamedTuple):
    """An updated book and the cover it had before the update."""

    book: dict[str, Any]
    previous_cover: str


class Books:
    """Books Model"""

    def __init__(self) -> None:
        self.collection = get_db().books

    def create(
        self, user_id: str, title: str, description: str, category: str, cover: str
    ) -> dict[str, Any]:
        """Put a book on its owner's shelf; raise DuplicateError if the title is taken there."""
        now = _now()
        document = {
            "user_id": user_id,
            "title": title,
            "title_key": title_key(title),
            "description": description,
            "category": category,
            "cover": cover,
            "created_at": now,
            "updated_at": now,
        }
        try:
            self.collection.insert_one(document)
        except DuplicateKeyError:
            raise DuplicateError("title") from None
        return to_public(document, BOOK_FIELDS)

    def get_by_user_id(self, user_id: str) -> list[dict[str, Any]]:
        """Return every book on a user's shelf, oldest first."""
        cursor = self.collection.find({"user_id": user_id}, dict.fromkeys(BOOK_FIELDS, 1))
        return [to_public(document, BOOK_FIELDS) for document in cursor.sort("_id", ASCENDING)]

    def get_for_user(self, book_id: Any, user_id: str) -> dict[str, Any] | None:
        """Return the book if it exists and belongs to this user, else None."""
        object_id = parse_object_id(book_id)
        if object_id is None:
            return None
        document = self.collection.find_one(
            {"_id": object_id, "user_id": user_id}, dict.fromkeys(BOOK_FIELDS, 1)
        )
        return to_public(document, BOOK_FIELDS)

    def update(self, book_id: Any, user_id: str, changes: dict[str, str]) -> BookUpdate | None:
        """Apply changes to the user's book; None if not theirs; DuplicateError on a taken title."""
        object_id = parse_object_id(book_id)
        if object_id is None:
            return None
        fields = {**changes, "updated_at": _now()}
        if "title" in changes:
            fields["title_key"] = title_key(changes["title"])
        try:
            before = self.collection.find_one_and_update(
                {"_id": object_id, "user_id": user_id},
                {"$set": fields},
                return_document=ReturnDocument.BEFORE,
            )
        except DuplicateKeyError:
            raise DuplicateError("title") from None
        if before is None:
            return None
        return BookUpdate(to_public({**before, **fields}, BOOK_FIELDS), before["cover"])

    def delete(self, book_id: Any, user_id: str) -> dict[str, Any] | None:
        """Delete the user's book and return it, or None if it is not theirs."""
        object_id = parse_object_id(book_id)
        if object_id is None:
            return None
        document = self.collection.find_one_and_delete({"_id": object_id, "user_id": user_id})
        return to_public(document, BOOK_FIELDS)

    def cover_in_use(self, cover: str) -> bool:
        """Tell whether any book still points at this cover file."""
        return self.collection.count_documents({"cover": cover}, limit=1) > 0


def title_key(title: str) -> str:
    """Return the form of a title that shelf uniqueness compares: trimmed and case-folded."""
    return " ".join(title.split()).casefold()
