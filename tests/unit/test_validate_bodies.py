"""Unit tests of validate.py's whole bodies: login, sign-up and profile, every wrong JSON type."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.unit.validation_cases import (
    VALID_BOOK,
    VALID_LOGIN,
    VALID_PROFILE,
    VALID_USER,
    WRONG_TYPE_IDS,
    WRONG_TYPES,
)
from validate import (
    validate_book,
    validate_login,
    validate_profile,
    validate_user,
)

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
