"""Unit tests of validate.py's account rules: names, emails and passwords, at every bound."""

from __future__ import annotations

import pytest

from tests.unit.validation_cases import (
    email_of_length,
    words,
)
from validate import (
    validate_email,
    validate_name,
    validate_password,
)

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
