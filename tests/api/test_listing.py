"""GET /books/: paging, category filter, search, sort, the pagination object and Link headers."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.helpers import add_books, image_bytes


def titles(response: Any) -> list[str]:
    """Return the titles of a listed page."""
    return [book["title"] for book in response.json["data"]]


def links(response: Any) -> dict[str, dict[str, list[str]]]:
    """Return the Link header as {relation: query parameters}."""
    found = re.findall(r'<([^>]+)>; rel="(\w+)"', response.headers["Link"])
    return {relation: parse_qs(urlsplit(url).query) for url, relation in found}


@pytest.fixture
def shelf(client, auth_headers) -> list[dict[str, Any]]:
    """Return 25 books on the signed-up user's shelf."""
    return add_books(client, auth_headers, 25)


def test_first_page_has_20_books_oldest_first_and_the_pagination(client, auth_headers, shelf):
    response = client.get("/books/", headers=auth_headers)

    assert response.status_code == 200
    assert response.json["message"] == "successfully retrieved all books"
    assert titles(response) == [f"Book {n:02d}" for n in range(1, 21)]
    assert response.json["pagination"] == {"page": 1, "per_page": 20, "total": 25, "pages": 2}
    assert response.headers["X-Total-Count"] == "25"


def test_second_page_holds_the_rest(client, auth_headers, shelf):
    response = client.get("/books/?page=2", headers=auth_headers)

    assert titles(response) == [f"Book {n:02d}" for n in range(21, 26)]
    assert response.json["pagination"]["page"] == 2


def test_pages_never_overlap_or_skip(client, auth_headers, shelf):
    seen = []
    for page in range(1, 7):
        response = client.get(f"/books/?per_page=5&page={page}", headers=auth_headers)
        seen += [book["_id"] for book in response.json["data"]]

    assert seen == [book["_id"] for book in shelf]


def test_a_page_past_the_end_is_empty_not_an_error(client, auth_headers, shelf):
    response = client.get("/books/?page=9", headers=auth_headers)

    assert response.status_code == 200
    assert response.json["data"] == []
    assert response.json["pagination"] == {"page": 9, "per_page": 20, "total": 25, "pages": 2}


def test_per_page_bounds(client, auth_headers, shelf):
    one = client.get("/books/?per_page=1", headers=auth_headers)
    hundred = client.get("/books/?per_page=100", headers=auth_headers)

    assert len(one.json["data"]) == 1
    assert one.json["pagination"]["pages"] == 25
    assert len(hundred.json["data"]) == 25


def test_link_header_names_first_prev_next_last_and_keeps_other_parameters(
    client, auth_headers, shelf
):
    response = client.get("/books/?per_page=5&page=3&sort=-title", headers=auth_headers)

    found = links(response)
    assert set(found) == {"first", "prev", "next", "last"}
    assert [found[rel]["page"] for rel in ("first", "prev", "next", "last")] == [
        ["1"],
        ["2"],
        ["4"],
        ["5"],
    ]
    assert found["next"]["sort"] == ["-title"]
    assert found["next"]["per_page"] == ["5"]
    assert response.headers["Link"].startswith("<http://localhost/books/?")


def test_first_page_has_no_prev_and_last_page_no_next(client, auth_headers, shelf):
    first = links(client.get("/books/?per_page=10", headers=auth_headers))
    last = links(client.get("/books/?per_page=10&page=3", headers=auth_headers))

    assert "prev" not in first
    assert "next" in first
    assert "next" not in last
    assert "prev" in last


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("title", [f"Book {n:02d}" for n in range(1, 6)]),
        ("-title", [f"Book {n:02d}" for n in range(25, 20, -1)]),
        ("created_at", [f"Book {n:02d}" for n in range(1, 6)]),
        ("-created_at", [f"Book {n:02d}" for n in range(25, 20, -1)]),
    ],
)
def test_sort_orders(client, auth_headers, shelf, sort, expected):
    response = client.get(f"/books/?sort={sort}&per_page=5", headers=auth_headers)

    assert response.status_code == 200
    assert titles(response) == expected


def test_title_sort_ignores_case(client, auth_headers):
    for title in ("banana", "Apple", "cherry"):
        client.post(
            "/books/",
            headers=auth_headers,
            data={"title": title, "category": "science", "cover_image": (image_bytes(), "c.jpg")},
        )

    response = client.get("/books/?sort=title", headers=auth_headers)

    assert titles(response) == ["Apple", "banana", "cherry"]


@pytest.mark.parametrize("category", ["poetry", "Poetry", "peotry", " POETRY "])
def test_category_filter(client, auth_headers, shelf, category):
    response = client.get("/books/", headers=auth_headers, query_string={"category": category})

    expected = [book["title"] for book in shelf if book["category"] == "poetry"]
    assert titles(response) == expected
    assert response.json["pagination"]["total"] == len(expected) == 9


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("book 07", ["Book 07"]),
        # "1" begins the 1 of "volume 1" (Book 01) and the titles' 10 to 19.
        ("BOOK 1", ["Book 01", *(f"Book {n}" for n in range(10, 20))]),
        ("volume 25 ", ["Book 25"]),
        ("25 VOLUME", ["Book 25"]),
        ("of the SERIES", [f"Book {n:02d}" for n in range(1, 26)]),
        ("vol ser", [f"Book {n:02d}" for n in range(1, 26)]),
        ("nothing like this", []),
        ("ook", []),
        (".*", []),
        ("(", []),
    ],
    ids=[
        "title",
        "title-prefix-case",
        "description",
        "any-order",
        "description-all",
        "prefixes",
        "none",
        "inside-a-word",
        "regex",
        "paren",
    ],
)
def test_search_finds_books_with_a_word_beginning_each_word_of_q(
    client, auth_headers, shelf, q, expected
):
    response = client.get("/books/", headers=auth_headers, query_string={"q": q, "per_page": 100})

    assert response.status_code == 200
    assert titles(response) == expected
    assert response.json["pagination"]["total"] == len(expected)


def test_filter_search_sort_and_paging_combine(client, auth_headers, shelf):
    response = client.get(
        "/books/?category=science&q=book&sort=-title&per_page=2&page=2", headers=auth_headers
    )

    science = sorted(
        (book["title"] for book in shelf if book["category"] == "science"), reverse=True
    )
    assert titles(response) == science[2:4]
    assert response.json["pagination"]["total"] == len(science)


def test_listing_shows_only_the_callers_books(client, auth_headers, other_headers, shelf):
    add_books(client, other_headers, 3)

    mine = client.get("/books/?per_page=100", headers=auth_headers)
    theirs = client.get("/books/?q=Book 01", headers=other_headers)

    assert mine.json["pagination"]["total"] == 25
    assert len(theirs.json["data"]) == 1
    assert theirs.json["data"][0]["_id"] != shelf[0]["_id"]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("page=0", "page"),
        ("page=-1", "page"),
        ("page=abc", "page"),
        ("page=1.5", "page"),
        ("page=²", "page"),
        ("page=9999999999", "page"),
        ("per_page=0", "per_page"),
        ("per_page=101", "per_page"),
        ("per_page=", "per_page"),
        ("category=novel", "category"),
        ("category=politicspicture%20book", "category"),
        ("sort=author", "sort"),
        ("sort=created", "sort"),
        ("q=", "q"),
        ("q=%20%20", "q"),
        ("q=" + "x" * 201, "q"),
    ],
)
def test_bad_parameters_are_400_naming_the_parameter(client, auth_headers, query, parameter):
    response = client.get(f"/books/?{query}", headers=auth_headers)

    assert response.status_code == 400
    assert response.json["message"] == "Invalid data"
    assert response.json["data"] is None
    assert set(response.json["error"]) == {parameter}


def test_unknown_parameters_are_ignored(client, auth_headers, shelf):
    response = client.get("/books/?color=blue&page=1", headers=auth_headers)

    assert response.status_code == 200
    assert len(response.json["data"]) == 20
