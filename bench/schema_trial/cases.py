"""The three requests of the trial and the valid and bad inputs each candidate is sent."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from typing import Any

from flask.testing import FlaskClient
from PIL import Image
from werkzeug.datastructures import FileStorage
from werkzeug.test import TestResponse

SIGN_UP = "sign-up"
BOOK_FORM = "book form"
LIST_QUERY = "list query"
KINDS = (SIGN_UP, BOOK_FORM, LIST_QUERY)

VALID_SIGN_UP: dict[str, Any] = {
    "name": "Ada Lovelace",
    "email": "ada@example.com",
    "password": "Correct-Horse-9",
}
VALID_BOOK: dict[str, Any] = {
    "title": "Sketch of the Analytical Engine",
    "description": "Notes by the translator",
    "category": "science",
    "isbn": "978-0-441-17271-9",
}
FULL_QUERY: dict[str, Any] = {
    "page": "2",
    "per_page": "50",
    "sort": "-title",
    "category": "science",
    "q": "analytical engine",
}


def email_tail_error(email: str) -> str | None:
    """Return our message for what the libraries' email checks let through: non-ASCII, a@b.c.

    The part of validate_email a library lacks, without its own run of email_validator (which
    pydantic's EmailStr already makes).
    """
    if email.isascii() and re.fullmatch(r"[A-Za-z]{2,}", email.rsplit(".", 1)[-1]):
        return None
    return "email must be a valid address such as name@example.com"


@dataclass(frozen=True)
class Case:
    """One request: its kind, a label, the JSON body / form fields / query, a cover or not."""

    kind: str
    label: str
    data: Any
    cover: bool = True
    extra: dict[str, Any] = field(default_factory=dict)


def _without(data: dict[str, Any], name: str) -> dict[str, Any]:
    """Return a copy of data without one field."""
    return {key: value for key, value in data.items() if key != name}


CASES: tuple[Case, ...] = (
    Case(SIGN_UP, "valid", VALID_SIGN_UP),
    Case(SIGN_UP, "extra field (role, _id) ignored", {**VALID_SIGN_UP, "role": "admin", "_id": 1}),
    Case(SIGN_UP, "missing name", _without(VALID_SIGN_UP, "name")),
    Case(SIGN_UP, "empty object", {}),
    Case(SIGN_UP, "not an object (array)", [VALID_SIGN_UP]),
    Case(SIGN_UP, "wrong type: email 123", {**VALID_SIGN_UP, "email": 123}),
    Case(SIGN_UP, "wrong type: name null", {**VALID_SIGN_UP, "name": None}),
    Case(SIGN_UP, "too long: name 101 chars", {**VALID_SIGN_UP, "name": "Ada " + "L" * 97}),
    Case(SIGN_UP, "too long: password 129", {**VALID_SIGN_UP, "password": "Aa1!" + "x" * 125}),
    Case(SIGN_UP, "bad email: no TLD", {**VALID_SIGN_UP, "email": "ada@example"}),
    Case(SIGN_UP, "bad email: 1-letter TLD", {**VALID_SIGN_UP, "email": "ada@example.c"}),
    Case(SIGN_UP, "one-word name", {**VALID_SIGN_UP, "name": "Ada"}),
    Case(SIGN_UP, "weak password", {**VALID_SIGN_UP, "password": "password"}),
    Case(SIGN_UP, "common password", {**VALID_SIGN_UP, "password": "P@ssword123"}),
    Case(BOOK_FORM, "valid", VALID_BOOK),
    Case(BOOK_FORM, "valid: peotry", {**VALID_BOOK, "category": "peotry"}),
    Case(BOOK_FORM, "valid: category 'Science '", {**VALID_BOOK, "category": "Science "}),
    Case(BOOK_FORM, "valid: title '1984'", {**VALID_BOOK, "title": "1984"}),
    Case(BOOK_FORM, "extra field (user_id) ignored", {**VALID_BOOK, "user_id": "x"}),
    Case(BOOK_FORM, "missing title", _without(VALID_BOOK, "title")),
    Case(BOOK_FORM, "missing cover only", VALID_BOOK, cover=False),
    Case(BOOK_FORM, "missing title and cover", _without(VALID_BOOK, "title"), cover=False),
    Case(BOOK_FORM, "blank title", {**VALID_BOOK, "title": "   "}),
    Case(BOOK_FORM, "too long: title 201", {**VALID_BOOK, "title": "T" * 201}),
    Case(BOOK_FORM, "bad enum: category", {**VALID_BOOK, "category": "cooking"}),
    Case(BOOK_FORM, "bad ISBN check digit", {**VALID_BOOK, "isbn": "978-0-441-17271-0"}),
    Case(LIST_QUERY, "valid: none", {}),
    Case(LIST_QUERY, "valid: all five", FULL_QUERY),
    Case(LIST_QUERY, "extra parameter ignored", {"foo": "bar"}),
    Case(LIST_QUERY, "wrong type: page=abc", {"page": "abc"}),
    Case(LIST_QUERY, "page=0", {"page": "0"}),
    Case(LIST_QUERY, "too big: per_page=101", {"per_page": "101"}),
    Case(LIST_QUERY, "bad enum: sort", {"sort": "bogus"}),
    Case(LIST_QUERY, "bad enum: category", {"category": "cooking"}),
    Case(LIST_QUERY, "too long: q 201", {"q": "q" * 201}),
    Case(LIST_QUERY, "q of 11 words", {"q": " ".join(f"w{n}" for n in range(11))}),
)

# The inputs timed for validation alone: one valid and one invalid of each kind.
TIMED_INPUTS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    SIGN_UP: (VALID_SIGN_UP, {**_without(VALID_SIGN_UP, "name"), "email": "ada@example"}),
    BOOK_FORM: (VALID_BOOK, {**VALID_BOOK, "category": "cooking"}),
    LIST_QUERY: (FULL_QUERY, {"page": "abc"}),
}

_COVER: bytes | None = None


def cover_bytes() -> bytes:
    """Return a small PNG (the candidates only check that a file was sent)."""
    global _COVER
    if _COVER is None:
        buffer = io.BytesIO()
        Image.new("RGB", (8, 8), "red").save(buffer, "PNG")
        _COVER = buffer.getvalue()
    return _COVER


def cover_file() -> FileStorage:
    """Return the cover as a parsed upload, for timing validation alone."""
    return FileStorage(io.BytesIO(cover_bytes()), "cover.png", "cover_image", "image/png")


def send(client: FlaskClient, case: Case) -> TestResponse:
    """Send one case to the app under test: JSON body, multipart form or query string."""
    if case.kind == SIGN_UP:
        return client.post("/users/", json=case.data)
    if case.kind == BOOK_FORM:
        form = dict(case.data)
        if case.cover:
            form["cover_image"] = (io.BytesIO(cover_bytes()), "cover.png", "image/png")
        return client.post("/books/", data=form, content_type="multipart/form-data")
    return client.get("/books/", query_string=case.data)


def answer(response: TestResponse) -> tuple[int, Any]:
    """Return the status and JSON body of an answer (the text if it is not JSON)."""
    body = response.get_json(silent=True)
    return response.status_code, body if body is not None else response.get_data(as_text=True)
