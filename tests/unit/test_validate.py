"""Unit tests of validate.py: both sides of every bound, every wrong JSON type, the normalisers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from validate import (
    CATEGORIES,
    normalise_category,
    normalise_email,
    normalise_isbn,
    normalise_name,
    validate_book,
    validate_email,
    validate_login,
    validate_name,
    validate_password,
    validate_profile,
    validate_user,
)

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


# Name ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "Ada Lovelace",
        "A B",
        words(2),
        words(30),
        "A" * 49 + " " + "B" * 50,
        "Ada   Lovelace",
        "  Ada Lovelace  ",
        "Ünïcödé Nämé",
        "Grace Brewster Murray Hopper",
    ],
    ids=[
        "two-words",
        "two-one-letter-words",
        "2-words",
        "30-words",
        "100-characters",
        "runs-of-spaces",
        "surrounding-spaces",
        "unicode-letters",
        "four-words",
    ],
)
def test_validate_name_accepts(name: str) -> None:
    assert validate_name(name) is None


@pytest.mark.parametrize(
    "name",
    [
        "Ada",
        "  Ada  ",
        words(31),
        "A" * 50 + " " + "B" * 50,
        "",
        "   ",
        "Ada\x00 Lovelace",
        "Ada \x1b[31mLovelace",
        "Ada Love\u200blace",
        "Ada\nLovelace",
        "Ada\tLovelace",
        "Ada Lovelace\x7f",
    ],
    ids=[
        "1-word",
        "1-word-with-spaces",
        "31-words",
        "101-characters",
        "empty",
        "blank",
        "nul",
        "escape-sequence",
        "zero-width-space-Cf",
        "newline",
        "tab",
        "delete",
    ],
)
def test_validate_name_refuses(name: str) -> None:
    message = validate_name(name)
    assert isinstance(message, str)
    assert "name" in message


def test_validate_name_counts_length_after_collapsing_spaces() -> None:
    padded = "A" * 49 + "     " + "B" * 50
    assert len(padded) > 100
    assert validate_name(padded) is None


# Email --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "email",
    [
        "ada@example.com",
        "ada+books@example.com",
        "first.last@mail.example.co.uk",
        "A.Lovelace@Example.COM",
        "a_b-c@sub-domain.example.org",
        "o'brien@example.ie",
        "ada@example.museum",
        " ada@example.com ",
        email_of_length(254),
    ],
    ids=[
        "plain",
        "plus-addressing",
        "subdomains",
        "upper-case",
        "underscore-hyphen",
        "apostrophe",
        "long-tld",
        "surrounding-spaces",
        "254-characters",
    ],
)
def test_validate_email_accepts(email: str) -> None:
    assert validate_email(email) is None


@pytest.mark.parametrize(
    "email",
    [
        "ada@example",
        "ada@example.c",
        "ada@example.123",
        "ada@example.com junk",
        "ada@example.com;evil@example.com",
        "junk ada@example.com",
        ".ada@example.com",
        "ada.@example.com",
        "ada..lovelace@example.com",
        "ada@.example.com",
        "ada@example.com.",
        "ada@example..com",
        "ada@-example.com",
        "ada@example-.com",
        "ada lovelace@example.com",
        "ada@exam ple.com",
        "adaexample.com",
        "ada@@example.com",
        "@example.com",
        "ada@",
        "",
        "   ",
        email_of_length(255),
    ],
    ids=[
        "no-tld",
        "one-letter-tld",
        "numeric-tld",
        "trailing-word",
        "second-address",
        "leading-word",
        "leading-dot",
        "dot-before-at",
        "double-dot-local",
        "dot-after-at",
        "trailing-dot",
        "double-dot-domain",
        "domain-starts-with-hyphen",
        "label-ends-with-hyphen",
        "space-in-local",
        "space-in-domain",
        "no-at",
        "two-ats",
        "no-local-part",
        "no-domain",
        "empty",
        "blank",
        "255-characters",
    ],
)
def test_validate_email_refuses(email: str) -> None:
    message = validate_email(email)
    assert isinstance(message, str)
    assert "email" in message


@pytest.mark.parametrize(
    "email",
    [
        f"ada@{'a' * 64}.com",
        "ada@exam_ple.com",
        "ada@bücher.de",
        "adä@example.com",
        "ada@example.com\ud800",
        "ada@1.2.3.4",
    ],
    ids=[
        "64-character-label",
        "underscore-in-domain",
        "idn-domain",
        "non-ascii-local",
        "surrogate",
        "ip",
    ],
)
def test_validate_email_refuses_what_mail_servers_refuse(email: str) -> None:
    assert validate_email(email) == "email must be a valid address such as name@example.com"


def test_validate_email_accepts_a_63_character_label() -> None:
    assert validate_email(f"ada@{'a' * 63}.com") is None


@pytest.mark.parametrize("email", ["ada@example.com\n", "ada@example.com\r\n"], ids=["lf", "crlf"])
def test_validate_email_refuses_trailing_newline(email: str) -> None:
    message = validate_email(email)
    assert isinstance(message, str)
    assert "email" in message


# Password -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "password",
    [
        "Gq7!mTzk",
        "Gq7!" + "mTzk" * 31,
        "Correct-Horse-9",
        "Correct Horse 9!",
        "Ünïcödé Pass 9!",
        "Пароль-Книга-7",
        "Correct-Horse-9🐎",
        " Gq7!mTzk ",
    ],
    ids=[
        "8-characters",
        "128-characters",
        "hyphens",
        "ascii-spaces",
        "unicode-letters",
        "cyrillic",
        "emoji",
        "surrounding-spaces",
    ],
)
def test_validate_password_accepts(password: str) -> None:
    assert validate_password(password) is None


@pytest.mark.parametrize(
    "password",
    ["Correct\u00a0Horse 9!", "Correct\u3000Horse 9!"],
    ids=["no-break-space", "ideographic-space"],
)
def test_validate_password_accepts_unicode_spaces(password: str) -> None:
    assert validate_password(password) is None


@pytest.mark.parametrize(
    "password",
    [
        "Gq7!mTz",
        "Gq7!" + "mTzk" * 31 + "a",
        "gq7!mtzkx",
        "GQ7!MTZKX",
        "Gq!!mTzkx",
        "Gq77mTzkx",
        "Gq7!mTzk\x00",
        "Gq7!\x1bmTzk",
        "Gq7!\nmTzk",
        "Gq7!\tmTzk",
        "Gq7!mTzk\x7f",
        "Gq7!m\u200bTzk",
        "",
    ],
    ids=[
        "7-characters",
        "129-characters",
        "no-upper-case",
        "no-lower-case",
        "no-digit",
        "no-special-character",
        "nul",
        "escape",
        "newline",
        "tab",
        "delete",
        "zero-width-space",
        "empty",
    ],
)
def test_validate_password_refuses(password: str) -> None:
    message = validate_password(password)
    assert isinstance(message, str)
    assert "password" in message


@pytest.mark.parametrize("password", ["P@ssword123", "Password1!", "Qwerty123!", "Welcome@2024"])
def test_validate_password_refuses_common_password_saying_so(password: str) -> None:
    message = validate_password(password)
    assert isinstance(message, str)
    assert "common" in message


# Login --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        VALID_LOGIN,
        {"email": "x", "password": "x"},
        {"email": "not-an-email", "password": "short"},
        {"email": "ada@example.com", "password": "P@ssword123"},
        {"email": "ada@example.com", "password": "alllowercase"},
        {"email": "  ADA@Example.COM ", "password": "Correct-Horse-9"},
    ],
    ids=[
        "valid",
        "one-character-each",
        "malformed-email-short-password",
        "common-password",
        "password-missing-classes",
        "untrimmed-email",
    ],
)
def test_validate_login_never_checks_the_policy(body: dict[str, Any]) -> None:
    assert validate_login(body) == {}


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"email", "password"}),
        ({"password": "x"}, {"email"}),
        ({"email": "ada@example.com"}, {"password"}),
        ({"email": "", "password": "x"}, {"email"}),
        ({"email": "   ", "password": "x"}, {"email"}),
        ({"email": "ada@example.com", "password": ""}, {"password"}),
        ({"email": "ada@example.com", "password": "   "}, {"password"}),
        ({"email": "", "password": ""}, {"email", "password"}),
    ],
    ids=[
        "empty-body",
        "email-missing",
        "password-missing",
        "email-empty",
        "email-blank",
        "password-empty",
        "password-blank",
        "both-empty",
    ],
)
def test_validate_login_refuses_missing_or_blank_fields(
    body: dict[str, Any], fields: set[str]
) -> None:
    errors = validate_login(body)
    assert set(errors) == fields
    assert all(field in errors[field] for field in fields)


# Whole bodies -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("validator", "body"),
    [
        (validate_user, VALID_USER),
        (validate_login, VALID_LOGIN),
        (validate_profile, VALID_PROFILE),
        (validate_book, VALID_BOOK),
    ],
    ids=["user", "login", "profile", "book"],
)
def test_valid_body_has_no_errors(validator: Callable[..., dict[str, str]], body: dict) -> None:
    assert validator(body) == {}


@pytest.mark.parametrize(
    ("validator", "fields"),
    [
        (validate_user, {"name", "email", "password"}),
        (validate_login, {"email", "password"}),
        (validate_profile, {"name"}),
        (validate_book, {"title", "category"}),
    ],
    ids=["user", "login", "profile", "book"],
)
def test_empty_body_names_every_required_field(
    validator: Callable[..., dict[str, str]], fields: set[str]
) -> None:
    assert set(validator({})) == fields


FIELDS_OF_BODIES = [
    (validate_user, VALID_USER, "name"),
    (validate_user, VALID_USER, "email"),
    (validate_user, VALID_USER, "password"),
    (validate_login, VALID_LOGIN, "email"),
    (validate_login, VALID_LOGIN, "password"),
    (validate_profile, VALID_PROFILE, "name"),
    (validate_book, VALID_BOOK, "title"),
    (validate_book, VALID_BOOK, "description"),
    (validate_book, VALID_BOOK, "category"),
]


@pytest.mark.parametrize("value", WRONG_TYPES, ids=WRONG_TYPE_IDS)
@pytest.mark.parametrize(
    ("validator", "body", "field"),
    FIELDS_OF_BODIES,
    ids=[f"{validator.__name__}-{field}" for validator, _, field in FIELDS_OF_BODIES],
)
def test_wrong_json_type_names_only_that_field(
    validator: Callable[..., dict[str, str]], body: dict[str, Any], field: str, value: Any
) -> None:
    errors = validator({**body, field: value})
    assert set(errors) == {field}
    assert isinstance(errors[field], str)
    assert field in errors[field]


@pytest.mark.parametrize("value", WRONG_TYPES, ids=WRONG_TYPE_IDS)
def test_validate_user_names_every_field_of_the_wrong_type(value: Any) -> None:
    errors = validate_user({"name": value, "email": value, "password": value})
    assert set(errors) == {"name", "email", "password"}


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
