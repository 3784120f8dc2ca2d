"""Paging links: the RFC 8288 Link header of a paged answer, with the request's other parameters."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from flask import request

# A path that quoting and unquoting leave as it is (unreserved characters and slashes).
PLAIN_PATH = re.compile(r"[A-Za-z0-9/._~-]*")


def page_links(page: int, pages: int) -> str:
    """Return the RFC 8288 Link header: first, prev, next and last pages, other parameters kept."""
    last = max(pages, 1)
    targets = {"first": 1, "last": last}
    if page > 1:
        targets["prev"] = min(page - 1, last)
    if page < pages:
        targets["next"] = page + 1
    base = request_base_url()
    arguments = request.args.to_dict()
    links = []
    for relation, number in targets.items():
        parameters = {**arguments, "page": str(number)}
        links.append(f'<{base}?{urlencode(parameters)}>; rel="{relation}"')
    return ", ".join(links)


def request_base_url() -> str:
    """Return request.base_url, built on request.host_url when the path needs no quoting.

    Werkzeug makes each of the two by quoting the URL and parsing it back (about 15 us); a page
    that shows covers has made host_url already, and a plain path appends to it unchanged.
    """
    if request.root_path or not PLAIN_PATH.fullmatch(request.path):
        return request.base_url
    return request.host_url + request.path.lstrip("/")
