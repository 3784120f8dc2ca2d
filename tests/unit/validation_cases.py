"""What the validate.py tests share: valid bodies, wrong JSON types, sized names and emails."""

from __future__ import annotations

VALID_USER = {"name": "Ada Lovelace", "email": "ada@example.com", "password": "Correct-Horse-9"}
VALID_LOGIN = {"email": "ada@example.com", "password": "Correct-Horse-9"}
VALID_PROFILE = {"name": "Ada Lovelace"}
VALID_BOOK = {"title": "Dune", "description": "A desert planet", "category": "science"}

# Every JSON value that is not a string, including MongoDB query operators.
WRONG_TYPES = [None, 1, 1.5, True, [], {}, {"$ne": None}, {"$gt": ""}]
WRONG_TYPE_IDS = ["null", "int", "float", "bool", "array", "object", "op-ne", "op-gt"]


def words(count: int) -> str:
    """Return a name of `count` two-letter words."""
    return " ".join(["Ab"] * count)


def email_of_length(length: int) -> str:
    """Return a well-formed address of exactly `length` characters (200 <= length <= 258)."""
    # 64 + "@" + two 63-character labels (the most RFC 1035 allows) + a shorter one + ".com"
    filler = "d" * (length - 64 - 1 - 64 - 64 - 4)
    address = f"{'x' * 64}@{'b' * 63}.{'c' * 63}.{filler}.com"
    assert len(address) == length
    return address
