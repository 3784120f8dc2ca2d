"""Paging links: the RFC 8288 Link header of a paged answer, with the request's other parameters."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import request


def page_links(page: int, pages: int) -> str:
    """Return the RFC 8288 Link header: first, prev, next and last pages, other parameters kept."""
    last = max(pages, 1)
    targets = {"first": 1, "last": last}
    if page > 1:
        targets["prev"] = min(page - 1, last)
    if page < pages:
        targets["next"] = page + 1
    base = request.base_url
    arguments = request.args.to_dict()
    links = []
    for relation, number in targets.items():
        parameters = {**arguments, "page": str(number)}
        links.append(f'<{base}?{urlencode(parameters)}>; rel="{relation}"')
    return ", ".join(links)
