"""What the shelf tests share: reading every page of a listing, and what a search must find."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import requests

from request_schema.search import search_words


def search_matches(book: dict[str, Any], q: str) -> bool:
    """Tell whether a search for q must find the book: every word starts a term of it."""
    terms = set(search_words(book["title"])) | set(search_words(book.get("description") or ""))
    return all(any(term.startswith(word) for term in terms) for word in search_words(q))


def follow_pages(get: Callable[[str], Any], first: str) -> tuple[list[str], list[dict[str, Any]]]:
    """Return the ids on every page reached through Link rel="next", and each page's pagination."""
    ids: list[str] = []
    paginations: list[dict[str, Any]] = []
    url = first
    while True:
        response = get(url)
        assert response.status_code == 200, response.json
        body = response.json if isinstance(response.json, dict) else response.json()
        ids += [book["_id"] for book in body["data"]]
        paginations.append(body["pagination"])
        assert response.headers["X-Total-Count"] == str(body["pagination"]["total"])
        links = requests.utils.parse_header_links(response.headers["Link"])
        following = [link["url"] for link in links if link["rel"] == "next"]
        if not following:
            return ids, paginations
        parts = urlsplit(following[0])
        url = f"{parts.path}?{parts.query}"


def assert_agrees(get: Callable[[str], Any], first: str, expected: set[str]) -> None:
    """Assert the pages of first hold exactly expected, once each, as total and pages say."""
    ids, paginations = follow_pages(get, first)
    assert len(ids) == len(set(ids)), first
    assert set(ids) == expected, first
    per_page = paginations[0]["per_page"]
    for pagination in paginations:
        assert pagination["total"] == len(expected), first
        assert pagination["pages"] == math.ceil(len(expected) / per_page), first
    beyond = get(f"{first}&page={len(paginations) + 1}")
    body = beyond.json if isinstance(beyond.json, dict) else beyond.json()
    assert (beyond.status_code, body["data"]) == (200, []), first
