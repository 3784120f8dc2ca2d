"""What a search compares: a text's words, case and accents folded, and the q parameter's rule."""

from __future__ import annotations

import re
import unicodedata

SEARCH_MAX_LENGTH = 200
SEARCH_MAX_WORDS = 10
# The longest word a search tells apart: longer words are indexed and matched by this prefix.
SEARCH_WORD_MAX_LENGTH = 64
WORD_PATTERN = re.compile(r"\w+")


def search_error(search: str) -> str | None:
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
    folded = text.casefold()
    # ASCII has no accents to fold (NFKD leaves it as it is): most titles skip the work.
    if not folded.isascii():
        decomposed = unicodedata.normalize("NFKD", folded)
        folded = "".join(char for char in decomposed if not unicodedata.combining(char))
    words = (word[:SEARCH_WORD_MAX_LENGTH] for word in WORD_PATTERN.findall(folded))
    return list(dict.fromkeys(words))
