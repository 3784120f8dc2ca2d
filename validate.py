"""Input validation: each validator returns a dict of field errors, empty when valid."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any, TypeGuard

import email_validator
from stdnum import isbn as stdnum_isbn
from stdnum.exceptions import ValidationError

NAME_MIN_WORDS = 2
NAME_MAX_WORDS = 30
NAME_MAX_LENGTH = 100
EMAIL_MAX_LENGTH = 254
PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 128
TITLE_MAX_LENGTH = 200
DESCRIPTION_MAX_LENGTH = 5000

CATEGORIES = (
    "romance",
    "poetry",
    "politics",
    "picture book",
    "science",
    "fantasy",
    "horror",
    "thriller",
)
REQUIRED_BOOK_FIELDS = ("title", "category")
SEARCH_MAX_LENGTH = 200
SEARCH_MAX_WORDS = 10
# The longest word a search tells apart: longer words are indexed and matched by this prefix.
SEARCH_WORD_MAX_LENGTH = 64
WORD_PATTERN = re.compile(r"\w+")
PER_PAGE_DEFAULT = 20
PER_PAGE_MAX = 100
SORT_ORDERS = ("title", "-title", "created_at", "-created_at")
ISBN_SEPARATORS = re.compile(r"[\s-]")
ISBN_LENGTHS = (10, 13)

# The tutorial's documented spelling; clients written against it keep working.
CATEGORY_ALIASES = {"peotry": "poetry"}

# Words at the heart of the most-used passwords; a password that is one of them dressed up
# with capitals, digit-for-letter swaps and a few digits or symbols around it is refused.
COMMON_PASSWORD_WORDS = frozenset(
    """password passwort motdepasse contrasena qwerty qwertyuiop azerty asdfgh asdfghjkl
    zxcvbn zxcvbnm letmein welcome admin administrator login iloveyou trustno1 monkey dragon
    master sunshine princess football baseball soccer hockey superman batman starwars shadow
    michael jennifer jordan hunter ranger buster charlie freedom whatever computer internet
    secret summer winter spring autumn abc abcd abcdef abcdefg abcdefgh changeme default
    hello helloworld test tester testing guest user root toor pass passw passwd access
    flower lovely loveme mustang harley killer pepper cheese cookie chocolate banana orange
    america london berlin paris google facebook microsoft apple samsung nintendo pokemon
    qazwsx wsxedc qwe asd zxc aaa qwer""".split()
)
LEET_SWAPS = str.maketrans("@4310$5!7", "aaeiossit")
DESCRIPTION_LAYOUT_CHARACTERS = str.maketrans("", "", "\t\r\n")


def _is_string(value: Any) -> TypeGuard[str]:
    """Tell whether a JSON value is a string (not a number, bool, null, array or object)."""
    return isinstance(value, str)


def _has_control_characters(text: str) -> bool:
    """Tell whether text holds control, format or unassigned characters."""
    return any(unicodedata.category(character).startswith("C") for character in text)


def normalise_name(name: str) -> str:
    """Return the name with surrounding space trimmed and inner runs of space collapsed."""
    return " ".join(name.split())


def normalise_email(email: str) -> str:
    """Return the email as stored and compared: surrounding spaces trimmed, lower-cased."""
    # Only spaces: a trailing newline or tab is refused by validation, not quietly removed.
    return email.strip(" ").lower()


def normalise_category(category: str) -> str:
    """Return the canonical category for an accepted spelling."""
    category = " ".join(category.split()).lower()
    return CATEGORY_ALIASES.get(category, category)


def validate_name(name: Any) -> str | None:
    """Return why a user name is invalid, or None."""
    if not _is_string(name) or not name.strip():
        return "name is required and must be a string"
    words = name.split()
    if _has_control_characters(name):
        return "name must not contain control characters"
    if not NAME_MIN_WORDS <= len(words) <= NAME_MAX_WORDS:
        return f"name must have {NAME_MIN_WORDS} to {NAME_MAX_WORDS} words, e.g. 'Ada Lovelace'"
    if len(normalise_name(name)) > NAME_MAX_LENGTH:
        return f"name must be at most {NAME_MAX_LENGTH} characters"
    return None


def validate_email(email: Any) -> str | None:
    """Return why an email address is invalid, or None."""
    if not _is_string(email) or not email.strip():
        return "email is required and must be a string"
    email = email.strip(" ")
    if len(email) > EMAIL_MAX_LENGTH:
        return f"email must be at most {EMAIL_MAX_LENGTH} characters"
    if not email.isascii():
        # The mailer speaks plain SMTP: no SMTPUTF8 local parts, no IDNA domains to convert.
        return "email must be a valid address such as name@example.com"
    try:
        # Syntax only: whether the domain receives mail is for the verification email to show.
        address = email_validator.validate_email(
            email, check_deliverability=False, allow_smtputf8=False
        )
    except email_validator.EmailNotValidError:
        return "email must be a valid address such as name@example.com"
    if not re.fullmatch(r"[A-Za-z]{2,}", address.ascii_domain.rsplit(".", 1)[-1]):
        # The contract's rule (a TLD of two letters or more); the library allows "a@b.c".
        return "email must be a valid address such as name@example.com"
    return None


def validate_password(password: Any) -> str | None:
    """Return why a new password is unacceptable, or None."""
    if not _is_string(password) or not password:
        return "password is required and must be a string"
    if not PASSWORD_MIN_LENGTH <= len(password) <= PASSWORD_MAX_LENGTH:
        return f"password must be {PASSWORD_MIN_LENGTH} to {PASSWORD_MAX_LENGTH} characters long"
    # Not str.isprintable(): that refuses every space but U+0020, and passphrases may use any.
    if _has_control_characters(password):
        return "password must not contain control characters"
    if not (
        any(character.islower() for character in password)
        and any(character.isupper() for character in password)
        and any(character.isdigit() for character in password)
        and any(not character.isalnum() and not character.isspace() for character in password)
    ):
        return (
            "password must contain a lower-case letter, an upper-case letter, "
            "a digit and a special character"
        )
    if is_common_password(password):
        return "password is too common: it appears in lists of leaked passwords, choose another"
    return None


def is_common_password(password: str) -> bool:
    """Tell whether a password is a well-known one dressed up with swaps, digits and symbols."""
    core = re.sub(r"^[\W\d_]+|[\W\d_]+$", "", password.lower())
    return core.translate(LEET_SWAPS) in COMMON_PASSWORD_WORDS


def validate_user(data: Mapping[str, Any]) -> dict[str, str]:
    """Validate a sign-up body: name, email and password."""
    errors = {
        "name": validate_name(data.get("name")),
        "email": validate_email(data.get("email")),
        "password": validate_password(data.get("password")),
    }
    return {field: message for field, message in errors.items() if message}


def validate_login(data: Mapping[str, Any]) -> dict[str, str]:
    """Validate a login body: both fields non-empty strings, nothing about the policy."""
    errors = {}
    for field in ("email", "password"):
        value = data.get(field)
        if not _is_string(value) or not value.strip():
            errors[field] = f"{field} is required and must be a string"
    return errors


def validate_profile(data: Mapping[str, Any]) -> dict[str, str]:
    """Validate a profile update: only the name can change."""
    message = validate_name(data.get("name"))
    return {"name": message} if message else {}


def validate_password_change(data: Mapping[str, Any]) -> dict[str, str]:
    """Validate a password change: the current password, and a new one that meets the rules."""
    errors = {}
    current = data.get("current_password")
    if not _is_string(current) or not current:
        errors["current_password"] = "current_password is required and must be a string"
    message = validate_password(data.get("new_password"))
    if message:
        errors["new_password"] = message.replace("password", "new_password", 1)
    elif data.get("new_password") == current:
        errors["new_password"] = "new_password must differ from the current password"
    return errors


def validate_book(data: Mapping[str, Any], partial: bool = False) -> dict[str, str]:
    """Validate book fields; with partial=True only the fields present are checked."""
    checks = {
        "title": _title_error,
        "description": _description_error,
        "category": _category_error,
        "isbn": _isbn_error,
    }
    errors = {}
    for field, check in checks.items():
        if field not in data:
            if not partial and field in REQUIRED_BOOK_FIELDS:
                errors[field] = f"{field} is required"
            continue
        message = check(data[field])
        if message:
            errors[field] = message
    return errors


def _title_error(title: Any) -> str | None:
    """Return why a book title is invalid, or None."""
    if not _is_string(title) or not title.strip():
        return "title is required and must not be blank"
    if len(title.strip()) > TITLE_MAX_LENGTH:
        return f"title must be at most {TITLE_MAX_LENGTH} characters"
    if _has_control_characters(title):
        return "title must not contain control characters"
    return None


def _description_error(description: Any) -> str | None:
    """Return why a book description is invalid, or None."""
    if not _is_string(description):
        return "description must be a string"
    if len(description) > DESCRIPTION_MAX_LENGTH:
        return f"description must be at most {DESCRIPTION_MAX_LENGTH} characters"
    # Line breaks and tabs lay out a longer text; NUL and other controls only corrupt it.
    if _has_control_characters(description.translate(DESCRIPTION_LAYOUT_CHARACTERS)):
        return "description must not contain control characters (tab and line breaks are allowed)"
    return None


def _category_error(category: Any) -> str | None:
    """Return why a book category is invalid, or None."""
    if not _is_string(category) or normalise_category(category) not in CATEGORIES:
        return "category must be one of: " + ", ".join(CATEGORIES)
    return None


def _isbn_error(isbn: Any) -> str | None:
    """Return why an ISBN is invalid, or None (an empty string clears it)."""
    if not _is_string(isbn):
        return "isbn must be a string"
    if isbn.strip() and normalise_isbn(isbn) is None:
        return "isbn must be a valid ISBN-10 or ISBN-13 (check digit included)"
    return None


def normalise_isbn(isbn: str) -> str | None:
    """Return the ISBN-13 an ISBN-10 or ISBN-13 stands for, or None if it is not valid.

    python-stdnum checks the digits, the check digit and the 978/979 prefix. It also takes a
    9-digit SBN, the ISBN's 1960s forerunner, and reads fullwidth digits as ASCII ones; the API
    takes neither, so only 10 or 13 ASCII characters reach it.
    """
    compact = ISBN_SEPARATORS.sub("", isbn)
    if len(compact) not in ISBN_LENGTHS or not compact.isascii():
        return None
    try:
        return stdnum_isbn.to_isbn13(stdnum_isbn.validate(compact))
    except ValidationError:
        return None


def _search_error(search: str) -> str | None:
    """Return why a q parameter is refused, or None."""
    if not 1 <= len(search.strip()) <= SEARCH_MAX_LENGTH:
        return f"q must be 1 to {SEARCH_MAX_LENGTH} characters"
    if len(search_words(search)) > SEARCH_MAX_WORDS:
        return f"q must have at most {SEARCH_MAX_WORDS} different words"
    return None


def search_words(text: str) -> list[str]:
    """Return the distinct words of a text as search compares them: case and accents folded.

    A word is a run of letters, digits or underscores; "Café au lait!" gives cafe, au, lait.
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    folded = "".join(char for char in decomposed if not unicodedata.combining(char))
    words = (word[:SEARCH_WORD_MAX_LENGTH] for word in WORD_PATTERN.findall(folded))
    return list(dict.fromkeys(words))


def validate_list_query(args: Mapping[str, str]) -> dict[str, str]:
    """Validate the paging, filter, search and sort parameters of GET /books/."""
    errors = {}
    for name, maximum in (("page", None), ("per_page", PER_PAGE_MAX)):
        if name in args:
            value = args[name]
            # Not str.isdigit(): it accepts characters such as "²" that int() refuses.
            if (
                not re.fullmatch(r"[0-9]{1,9}", value)
                or int(value) < 1
                or (maximum and int(value) > maximum)
            ):
                limit = f"between 1 and {maximum}" if maximum else "at least 1"
                errors[name] = f"{name} must be a whole number {limit}"
    problems = {
        "category": _category_error(args["category"]) if "category" in args else None,
        "q": _search_error(args["q"]) if "q" in args else None,
    }
    errors.update({name: problem for name, problem in problems.items() if problem})
    if "sort" in args and args["sort"] not in SORT_ORDERS:
        errors["sort"] = "sort must be one of: " + ", ".join(SORT_ORDERS)
    return errors
