"""Unit tests of validate.py's book rules and the normalisers."""

from __future__ import annotations

from typing import Any

import pytest

from request_schema.isbn import normalise_isbn
from request_schema.search import search_words
from tests.unit.validation_cases import (
    VALID_BOOK,
)
from validate import (
    CATEGORIES,
    normalise_category,
    normalise_email,
    normalise_name,
    validate_book,
)

# Book ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", "D"),
        ("title", "T" * 200),
        ("title", "  Dune  "),
        ("description", ""),
        ("description", "D" * 5000),
        *[("category", category) for category in CATEGORIES],
        ("category", "ROMANCE"),
        ("category", "Picture Book"),
        ("category", "picture   book"),
        ("category", " Science "),
        ("category", "peotry"),
        ("category", "Peotry "),
    ],
    ids=[
        "title-1-character",
        "title-200-characters",
        "title-surrounding-spaces",
        "description-empty",
        "description-5000-characters",
        *[f"category-{category}" for category in CATEGORIES],
        "category-upper-case",
        "category-title-case",
        "category-inner-spaces",
        "category-surrounding-spaces",
        "category-tutorial-spelling-peotry",
        "category-Peotry-with-space",
    ],
)
def test_validate_book_accepts(field: str, value: str) -> None:
    assert validate_book({**VALID_BOOK, field: value}) == {}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", ""),
        ("title", "   "),
        ("title", "T" * 201),
        ("title", "Dune\x00"),
        ("description", "D" * 5001),
        ("category", "politicspicture book"),
        ("category", ""),
        ("category", "novel"),
        ("category", "poetryx"),
        ("category", "picturebook"),
    ],
    ids=[
        "title-empty",
        "title-blank",
        "title-201-characters",
        "title-control-character",
        "description-5001-characters",
        "category-tutorial-lost-comma",
        "category-empty",
        "category-novel",
        "category-suffix",
        "category-no-space",
    ],
)
def test_validate_book_refuses(field: str, value: str) -> None:
    errors = validate_book({**VALID_BOOK, field: value})
    assert set(errors) == {field}
    assert field in errors[field]


def test_validate_book_description_is_optional() -> None:
    assert validate_book({"title": "Dune", "category": "science"}) == {}


@pytest.mark.parametrize("missing", ["title", "category"])
def test_validate_book_requires_title_and_category(missing: str) -> None:
    body = {key: value for key, value in VALID_BOOK.items() if key != missing}
    errors = validate_book(body)
    assert set(errors) == {missing}
    assert missing in errors[missing]


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, set()),
        ({"title": "Dune"}, set()),
        ({"description": "D" * 5000}, set()),
        ({"category": "peotry"}, set()),
        ({"title": ""}, {"title"}),
        ({"title": "T" * 201}, {"title"}),
        ({"description": "D" * 5001}, {"description"}),
        ({"category": "novel"}, {"category"}),
        ({"title": "   ", "category": "novel"}, {"title", "category"}),
        ({"title": None}, {"title"}),
    ],
    ids=[
        "nothing",
        "title-only",
        "description-only",
        "category-only",
        "blank-title",
        "long-title",
        "long-description",
        "bad-category",
        "two-bad-fields",
        "null-title",
    ],
)
def test_validate_book_partial_checks_only_present_fields(
    body: dict[str, Any], fields: set[str]
) -> None:
    assert set(validate_book(body, partial=True)) == fields


# Normalisers --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("email", "expected"),
    [
        ("  ADA@Example.COM ", "ada@example.com"),
        ("ada@example.com", "ada@example.com"),
        ("Ada+Books@Mail.Example.org", "ada+books@mail.example.org"),
    ],
)
def test_normalise_email_trims_and_lower_cases(email: str, expected: str) -> None:
    assert normalise_email(email) == expected


@pytest.mark.parametrize(
    ("category", "expected"),
    [
        ("Peotry ", "poetry"),
        ("peotry", "poetry"),
        ("POETRY", "poetry"),
        ("  Picture   Book ", "picture book"),
        ("science", "science"),
    ],
)
def test_normalise_category_gives_the_canonical_name(category: str, expected: str) -> None:
    assert normalise_category(category) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("  Ada   Lovelace ", "Ada Lovelace"),
        ("Ada Lovelace", "Ada Lovelace"),
        ("Grace  Brewster   Hopper", "Grace Brewster Hopper"),
    ],
)
def test_normalise_name_collapses_spaces(name: str, expected: str) -> None:
    assert normalise_name(name) == expected


@pytest.mark.parametrize(
    "description",
    ["A\x00B", "A\x07B", "A\x1bB", "A\x7fB", "A\u200bB", "A\ud800B"],
    ids=["nul", "bell", "escape", "delete", "zero-width-space", "surrogate"],
)
def test_validate_book_refuses_control_characters_in_description(description: str) -> None:
    errors = validate_book({**VALID_BOOK, "description": description})
    assert errors == {
        "description": "description must not contain control characters "
        "(tab and line breaks are allowed)"
    }


def test_validate_book_accepts_tabs_and_line_breaks_in_description() -> None:
    assert validate_book({**VALID_BOOK, "description": "Part one\tend.\r\nPart two\n"}) == {}


def digits_of(zero: str, text: str) -> str:
    """Return text with its ASCII digits written in the script whose zero is given."""
    return text.translate({ord("0") + i: ord(zero) + i for i in range(10)})


@pytest.mark.parametrize(
    "isbn",
    [
        digits_of("\uff10", "9780306406157"),
        digits_of("\u0660", "9780306406157"),
        digits_of("\uff10", "0306406152"),
    ],
    ids=["fullwidth-isbn-13", "arabic-indic-isbn-13", "fullwidth-isbn-10"],
)
def test_validate_book_refuses_isbn_of_non_ascii_digits(isbn: str) -> None:
    assert validate_book({**VALID_BOOK, "isbn": isbn}) == {
        "isbn": "isbn must be a valid ISBN-10 or ISBN-13 (check digit included)"
    }


@pytest.mark.parametrize(
    ("isbn", "isbn13"),
    [
        ("0-306-40615-2", "9780306406157"),
        ("080442957x", "9780804429573"),
        ("978 0306406157", "9780306406157"),
        ("979-10-90636-07-1", "9791090636071"),
        ("0306406152\t", "9780306406157"),
    ],
)
def test_normalise_isbn_answers_the_isbn_13(isbn: str, isbn13: str) -> None:
    assert normalise_isbn(isbn) == isbn13


@pytest.mark.parametrize(
    "isbn",
    [
        "030640615",  # a 9-digit SBN: python-stdnum takes it, the API never did
        "979-10-90636-07-2",  # wrong check digit
        "9770306406157",  # neither 978 nor 979
        "0306406152X",
        "ISBN 0306406152",
    ],
)
def test_normalise_isbn_refuses(isbn: str) -> None:
    assert normalise_isbn(isbn) is None


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Dune: Messiah, dune!", ["dune", "messiah"]),
        ("Café Société", ["cafe", "societe"]),
        ("Straße", ["strasse"]),
        ("\ufb01rst \uff24\uff35\uff2e\uff25", ["first", "dune"]),  # a ligature, full-width
        ("snake_case 42", ["snake_case", "42"]),
        ("  ", []),
    ],
)
def test_search_words_fold_case_accents_and_compatibility_forms(text, words):
    assert search_words(text) == words
