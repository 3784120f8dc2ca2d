"""The request schemas and their rules: every body, form and query the API takes, declared once;
each field's validator holds its message; errors() answers {field: message}, empty when valid."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from typing import Any, TypeGuard

import email_validator

from request_schema.common_passwords import is_common_password
from request_schema.fields import Field, Schema, string_schema
from request_schema.isbn import isbn_error
from request_schema.search import SEARCH_MAX_LENGTH, search_error

NAME_MIN_WORDS = 2
NAME_MAX_WORDS = 30
NAME_MAX_LENGTH = 100
EMAIL_MAX_LENGTH = 254
PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 128
TITLE_MAX_LENGTH = 200
DESCRIPTION_MAX_LENGTH = 5000
PASSKEY_NAME_MAX_LENGTH = 64

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
PER_PAGE_DEFAULT = 20
PER_PAGE_MAX = 100
SORT_ORDERS = ("title", "-title", "created_at", "-created_at")

# The tutorial's documented spelling; clients written against it keep working.
CATEGORY_ALIASES = {"peotry": "poetry"}

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


def _required_string(
    field: str, blank_ok: bool = False, message: str | None = None
) -> Callable[[Any], str | None]:
    """Return a check that a field is a non-blank string (a non-empty one with blank_ok)."""
    refusal = message or f"{field} is required and must be a string"
    return lambda value: (
        None if _is_string(value) and (value if blank_ok else value.strip()) else refusal
    )


def _new_password_error(password: Any) -> str | None:
    """Return why a new_password is unacceptable: the password rules, named for this field."""
    message = validate_password(password)
    return message.replace("password", "new_password", 1) if message else None


def _whole_number_error(name: str, maximum: int | None) -> Callable[[Any], str | None]:
    """Return a check that a query value is a whole number from 1 (to maximum)."""

    def check(value: Any) -> str | None:
        """Return why the value is not such a number, or None."""
        # Not str.isdigit(): it accepts characters such as "²" that int() refuses.
        if re.fullmatch(r"[0-9]{1,9}", value) and 1 <= int(value) <= (maximum or int(value)):
            return None
        limit = f"between 1 and {maximum}" if maximum else "at least 1"
        return f"{name} must be a whole number {limit}"

    return check


def _sort_error(sort: Any) -> str | None:
    """Return why a sort parameter is refused, or None."""
    return None if sort in SORT_ORDERS else "sort must be one of: " + ", ".join(SORT_ORDERS)


def _true_or_false_error(value: Any) -> str | None:
    """Return why the all parameter is refused, or None."""
    return None if value.lower() in ("true", "false") else "all must be true or false"


# The request schemas. Each field's JSON Schema carries its limits (the constants above) into
# /openapi.json, which adds the prose (api_docs/fields.py); its check is a validator above.
NAME = Field(
    "name",
    string_schema(pattern=r"\S\s+\S", maxLength=NAME_MAX_LENGTH),
    validate_name,
    required=True,
)
NEW_PASSWORD = string_schema(
    format="password", minLength=PASSWORD_MIN_LENGTH, maxLength=PASSWORD_MAX_LENGTH
)
EMAIL = string_schema(format="email", maxLength=EMAIL_MAX_LENGTH)
SECRET = string_schema(format="password", minLength=1)
TOKEN = string_schema(minLength=1)
EMAILED_TOKEN = Field("token", TOKEN, required=True)
PASSWORD_CHECKED_LATER = Field("password", SECRET, required=True)
CURRENT_PASSWORD = Field(
    "password",
    SECRET,
    _required_string("password", True, "password is required: send your current password"),
    required=True,
)
CATEGORY = string_schema(enum=[*CATEGORIES, *CATEGORY_ALIASES])
TITLE = string_schema(pattern=r"\S", maxLength=TITLE_MAX_LENGTH)
BOOK_FIELDS = (
    Field("title", TITLE, _title_error, required=True, missing="title is required"),
    Field("description", string_schema(maxLength=DESCRIPTION_MAX_LENGTH), _description_error),
    Field("category", CATEGORY, _category_error, required=True, missing="category is required"),
    Field("isbn", string_schema(pattern="^([0-9][0-9 -]{8,15}[0-9Xx])?$"), isbn_error),
    # Checked by the route: a missing cover alone has its own answer (CONTRACT.md, section 2).
    Field("cover_image", string_schema(format="binary"), required=True),
)

SIGN_UP = Schema(
    "SignUp",
    "json",
    (
        NAME,
        Field("email", EMAIL, validate_email, required=True),
        Field("password", NEW_PASSWORD, validate_password, required=True),
    ),
)
LOGIN = Schema(
    "Login",
    "json",
    (
        Field("email", string_schema(minLength=1), _required_string("email"), required=True),
        Field("password", SECRET, _required_string("password"), required=True),
        Field("otp", string_schema()),
    ),
)
REFRESH_TOKEN = Field(
    "refresh_token", TOKEN, _required_string("", True, "refresh_token must be a string"), True
)
REFRESH = Schema("RefreshRequest", "json", (REFRESH_TOKEN,))
PROFILE = Schema("ProfileUpdate", "json", (NAME,))
PASSWORD_CHANGE = Schema(
    "PasswordChange",
    "json",
    (
        Field(
            "current_password", SECRET, _required_string("current_password", True), required=True
        ),
        Field("new_password", NEW_PASSWORD, _new_password_error, required=True),
    ),
)
PASSWORD_CONFIRMATION = Schema("PasswordConfirmation", "json", (CURRENT_PASSWORD,))
TWO_FACTOR_ENABLE = Schema(
    "TwoFactorEnable",
    "json",
    (
        PASSWORD_CHECKED_LATER,
        Field("otp", string_schema(pattern=r"^\s*[0-9]{6}\s*$"), required=True),
    ),
)
TWO_FACTOR_DISABLE = Schema(
    "TwoFactorDisable",
    "json",
    (PASSWORD_CHECKED_LATER, Field("otp", string_schema(), required=True)),
)
PASSWORD_FORGOT = Schema("PasswordForgot", "json", (Field("email", EMAIL, validate_email, True),))
PASSWORD_RESET = Schema(
    "PasswordReset",
    "json",
    (EMAILED_TOKEN, Field("new_password", NEW_PASSWORD, _new_password_error, required=True)),
)
EMAIL_VERIFICATION = Schema("EmailVerification", "json", (EMAILED_TOKEN,))
EMAIL_LINK_QUERY = Schema("EmailLinkQuery", "query", (Field("token", string_schema()),))
BOOK_CREATE = Schema("BookCreateForm", "form", BOOK_FIELDS, "A new book, as a multipart form.")
BOOK_UPDATE = Schema(
    "BookUpdateForm",
    "form",
    BOOK_FIELDS,
    "Any subset of a book's fields, and a new cover, as a multipart form.",
    partial=True,
)
BOOK_LIST_QUERY = Schema(
    "BookListQuery",
    "query",
    (
        Field(
            "page",
            {"type": "integer", "minimum": 1, "maximum": 999999999, "default": 1},
            _whole_number_error("page", None),
        ),
        Field(
            "per_page",
            {"type": "integer", "minimum": 1, "maximum": PER_PAGE_MAX, "default": PER_PAGE_DEFAULT},
            _whole_number_error("per_page", PER_PAGE_MAX),
        ),
        Field("category", CATEGORY, _category_error),
        Field(
            "q",
            string_schema(minLength=1, maxLength=SEARCH_MAX_LENGTH, pattern=r"\S"),
            search_error,
        ),
        Field("sort", string_schema(enum=list(SORT_ORDERS), default="created_at"), _sort_error),
    ),
)
SESSIONS_QUERY = Schema(
    "SessionsQuery",
    "query",
    (Field("all", {"type": "boolean", "default": False}, _true_or_false_error),),
)


def _passkey_name_error(name: Any) -> str | None:
    """Return why a passkey's name is refused (1 to 64 characters once trimmed), or None."""
    if not _is_string(name) or not 1 <= len(name.strip()) <= PASSKEY_NAME_MAX_LENGTH:
        return f"name must be a string of 1 to {PASSKEY_NAME_MAX_LENGTH} characters"
    return "name must not contain control characters" if _has_control_characters(name) else None


def _credential(shape: str) -> Field:
    """Return the required `credential` field: a WebAuthn response (`shape`) as a JSON object."""
    message = f"credential must be a WebAuthn {shape} object"

    def check(value: Any) -> str | None:
        """Return why the value is not a JSON object, or None."""
        return None if isinstance(value, dict) else message

    return Field("credential", {"type": "object"}, check, required=True)


PASSKEY_NAME = string_schema(minLength=1, maxLength=PASSKEY_NAME_MAX_LENGTH)
PASSKEY_REGISTRATION = Schema(
    "PasskeyRegistration",
    "json",
    (_credential("RegistrationResponseJSON"), Field("name", PASSKEY_NAME, _passkey_name_error)),
)
PASSKEY_LOGIN_OPTIONS = Schema(
    "PasskeyLoginOptions",
    "json",
    (Field("email", string_schema(), _required_string("email", True, "email must be a string")),),
)
PASSKEY_LOGIN = Schema("PasskeyLogin", "json", (_credential("AuthenticationResponseJSON"),))


def validate_password_change(data: Mapping[str, Any]) -> dict[str, str]:
    """Validate a password change: the current password, and a new one that meets the rules."""
    errors = PASSWORD_CHANGE.errors(data)
    if "new_password" not in errors and data.get("new_password") == data.get("current_password"):
        errors["new_password"] = "new_password must differ from the current password"
    return errors


def validate_book(data: Mapping[str, Any], partial: bool = False) -> dict[str, str]:
    """Validate book fields; with partial=True only the fields present are checked."""
    return (BOOK_UPDATE if partial else BOOK_CREATE).errors(data)


# The validators the routes and tests call by the tutorial's names.
validate_user = SIGN_UP.errors
validate_login = LOGIN.errors
validate_profile = PROFILE.errors
validate_list_query = BOOK_LIST_QUERY.errors
