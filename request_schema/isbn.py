"""The ISBN rule: an ISBN-10 or ISBN-13 with its check digit, compared as its ISBN-13."""

from __future__ import annotations

import re
from typing import Any

from stdnum import isbn as stdnum_isbn
from stdnum.exceptions import ValidationError

ISBN_SEPARATORS = re.compile(r"[\s-]")
ISBN_LENGTHS = (10, 13)


def isbn_error(isbn: Any) -> str | None:
    """Return why an ISBN is invalid, or None (an empty string clears it)."""
    if not isinstance(isbn, str):
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
