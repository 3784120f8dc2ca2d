"""The Link header's base URL: built on host_url for a plain path, exactly request.base_url."""

from __future__ import annotations

import pytest
from flask import Flask, request

from web.paging import page_links, request_base_url


@pytest.mark.parametrize(
    ("base_url", "path"),
    [
        ("http://localhost/", "/books/"),
        ("http://localhost/", "/books"),
        ("https://Library.Example.COM/", "/books/"),
        ("http://127.0.0.1:8000/", "/books/"),
        ("http://[::1]:5000/", "/books/"),
        ("http://xn--n3h.net/", "/books/"),
        ("http://localhost/", "/b%C3%A5oks/"),
        ("http://localhost/", "/books/a%20b"),
        ("http://localhost/", "/books/%3F"),
        ("http://localhost/api/", "/books/"),
        ("https://localhost:443/", "/books/"),
    ],
)
def test_the_links_base_is_the_request_base_url(base_url: str, path: str) -> None:
    app = Flask(__name__)
    with app.test_request_context(path, base_url=base_url):
        assert request_base_url() == request.base_url


def test_the_links_of_a_plain_page_name_the_request_url_with_its_parameters() -> None:
    app = Flask(__name__)
    with app.test_request_context("/books/?category=science&page=2", base_url="http://Shelf.Test/"):
        links = page_links(2, 3)

    assert links == (
        '<http://shelf.test/books/?category=science&page=1>; rel="first", '
        '<http://shelf.test/books/?category=science&page=3>; rel="last", '
        '<http://shelf.test/books/?category=science&page=1>; rel="prev", '
        '<http://shelf.test/books/?category=science&page=3>; rel="next"'
    )
