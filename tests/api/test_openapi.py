"""The generated OpenAPI document matches the routes; /openapi.json and /docs serve it offline."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import flask_swagger_ui
import pytest
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from openapi_spec_validator import OpenAPIV31SpecValidator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from api_docs import document as api_document
from request_schema.search import SEARCH_MAX_LENGTH
from routes import docs
from tests.api_document import generated_document
from validate import (
    CATEGORIES,
    PER_PAGE_DEFAULT,
    PER_PAGE_MAX,
    SORT_ORDERS,
    TITLE_MAX_LENGTH,
)
from web.request_body import SCHEMA_ATTRIBUTE

HTTP_METHODS = ("get", "put", "post", "delete", "patch")
# What the app answers without a token; everything else needs `Authorization: Bearer`.
PUBLIC_OPERATIONS = {
    ("get", "/"),
    ("post", "/users/"),
    ("post", "/users/login"),
    ("post", "/users/login/passkey/options"),
    ("post", "/users/login/passkey"),
    ("post", "/users/token/refresh"),
    ("post", "/users/password/forgot"),
    ("post", "/users/password/reset"),
    ("get", "/users/verify"),
    ("post", "/users/verify"),
    ("get", "/health"),
    ("get", "/ready"),
    ("get", "/static/books/{name}"),
    ("get", "/openapi.json"),
    ("get", "/docs"),
    ("get", "/docs/{asset}"),
    ("get", "/ui/"),
    ("get", "/ui/{asset}"),
}
DOCUMENT_URI = "urn:book-library:openapi"
# Routes and documentation need no database: one backend is enough for the tests that use an app.
mongomock_only = pytest.mark.parametrize("backend", ["mongomock"], indirect=True)


def load_document() -> dict[str, Any]:
    """Return the document the app generates (one app, built once per test run)."""
    return generated_document()


def documented_operations(document: dict[str, Any]) -> set[tuple[str, str]]:
    """Return every (method, path) the document describes."""
    return {
        (method, path)
        for path, item in document["paths"].items()
        for method in HTTP_METHODS
        if method in item
    }


def flask_operations(app: Flask) -> set[tuple[str, str]]:
    """Return every (method, path) the app routes, in OpenAPI's path syntax."""
    operations = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", r"{\1}", rule.rule)
        operations |= {(method.lower(), path) for method in rule.methods - {"HEAD", "OPTIONS"}}
    return operations


def concrete_path(path: str) -> str:
    """Return a URL for a templated path, with a well-formed but unknown value in each slot."""
    return re.sub(r"\{[^}]+\}", "665f1c2e8b3a4d5e6f708192", path)


# The document ------------------------------------------------------------------------------------


def test_document_is_valid_openapi_3_1():
    document = load_document()

    OpenAPIV31SpecValidator(document).validate()

    assert document["openapi"] == "3.1.0"


@mongomock_only
def test_every_route_of_the_app_is_documented(app):
    undocumented = flask_operations(app) - documented_operations(load_document())

    assert undocumented == set()


@mongomock_only
def test_every_documented_operation_is_a_route_of_the_app(app):
    unrouted = documented_operations(load_document()) - flask_operations(app)

    assert unrouted == set()


def test_the_bearer_scheme_is_an_http_jwt_bearer():
    schemes = load_document()["components"]["securitySchemes"]

    assert schemes == {
        "bearerAuth": {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": schemes["bearerAuth"]["description"],
        }
    }


def test_exactly_the_authenticated_operations_declare_bearer_security():
    document = load_document()
    secured = set()
    for method, path in documented_operations(document):
        security = document["paths"][path][method].get("security")
        assert security in (None, [{"bearerAuth": []}]), (method, path)
        if security:
            secured.add((method, path))

    assert document.get("security") is None
    assert documented_operations(document) - secured == PUBLIC_OPERATIONS


@mongomock_only
def test_the_app_asks_for_a_token_exactly_where_the_document_declares_security(client):
    document = load_document()
    asks_for_token = set()
    for method, path in documented_operations(document):
        response = client.open(concrete_path(path), method=method.upper(), buffered=True)
        if response.status_code == 401:
            assert response.json["message"] == "Authentication Token is missing!"
            asks_for_token.add((method, path))

    assert asks_for_token == documented_operations(document) - PUBLIC_OPERATIONS


def test_every_authenticated_operation_documents_its_401():
    document = load_document()
    for method, path in documented_operations(document) - PUBLIC_OPERATIONS:
        responses = document["paths"][path][method]["responses"]

        assert responses["401"] == {"$ref": "#/components/responses/Unauthorized"}, (method, path)


def test_every_request_body_and_success_response_has_an_example():
    document = load_document()
    missing = []
    for method, path in documented_operations(document):
        operation = document["paths"][path][method]
        bodies = {"request": operation.get("requestBody", {}).get("content", {})}
        for status, response in operation["responses"].items():
            if status.startswith("2"):
                bodies[status] = response.get("content", {})
        for where, content in bodies.items():
            for media_type, media in content.items():
                binary = media.get("schema", {}).get("format") == "binary"
                if not binary and "example" not in media and "examples" not in media:
                    missing.append(f"{method.upper()} {path} {where} {media_type}")

    assert missing == []


def test_every_example_conforms_to_its_schema():
    document = load_document()
    registry = Registry().with_resource(
        DOCUMENT_URI, Resource.from_contents(document, default_specification=DRAFT202012)
    )
    failures = []
    checked = 0
    for pointer, media in media_objects(document):
        validator = Draft202012Validator(
            {"$ref": f"{DOCUMENT_URI}#{pointer}/schema"}, registry=registry
        )
        examples = [media["example"]] if "example" in media else []
        examples += [example["value"] for example in media.get("examples", {}).values()]
        for example in examples:
            checked += 1
            failures += [f"{pointer}: {error.message}" for error in validator.iter_errors(example)]

    assert failures == []
    assert checked > 50


def media_objects(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Return (JSON pointer, media type object) of every request body and response described."""
    holders = []
    for method, path in documented_operations(document):
        operation = document["paths"][path][method]
        base = f"/paths/{escape_pointer(path)}/{method}"
        if "requestBody" in operation:
            holders.append((f"{base}/requestBody", operation["requestBody"]))
        for status, response in operation["responses"].items():
            holders.append((f"{base}/responses/{status}", response))
    for name, response in document["components"]["responses"].items():
        holders.append((f"/components/responses/{name}", response))
    return [
        (f"{pointer}/content/{escape_pointer(media_type)}", media)
        for pointer, holder in holders
        for media_type, media in holder.get("content", {}).items()
    ]


def escape_pointer(segment: str) -> str:
    """Escape one segment of a JSON pointer."""
    return segment.replace("~", "~0").replace("/", "~1")


# /openapi.json -----------------------------------------------------------------------------------


@mongomock_only
def test_openapi_json_serves_the_generated_document(client):
    response = client.get("/openapi.json")

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.json == load_document()


@mongomock_only
def test_openapi_json_is_built_once_not_per_request(client, monkeypatch):
    loads = []
    original_build = api_document.build_document
    monkeypatch.setattr(
        docs,
        "build_document",
        lambda *args, **kw: loads.append(1) or original_build(*args, **kw),
    )

    first = client.get("/openapi.json")
    second = client.get("/openapi.json")

    assert first.status_code == second.status_code == 200
    assert second.data == first.data
    assert len(loads) == 1


# /docs -------------------------------------------------------------------------------------------


class AssetFinder(HTMLParser):
    """Collect the URLs of the scripts, style sheets and icons a page loads."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str] = []
        self.styles: list[str] = []
        self.icons: list[str] = []
        self.other_urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Sort each URL attribute by what it loads."""
        values = {name: value or "" for name, value in attrs}
        if tag == "script":
            self.scripts.append(values.get("src", ""))
        elif tag == "link" and values.get("rel") == "stylesheet":
            self.styles.append(values["href"])
        elif tag == "link" and values.get("rel") == "icon":
            self.icons.append(values["href"])
        else:
            self.other_urls += [
                values[name] for name in ("src", "href", "action") if name in values
            ]


def docs_page(client: FlaskClient) -> tuple[str, AssetFinder]:
    """Return the /docs page and the assets it loads."""
    response = client.get("/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    finder = AssetFinder()
    finder.feed(page)
    return page, finder


@mongomock_only
def test_docs_page_loads_swagger_ui_from_this_app_only(client):
    page, finder = docs_page(client)

    urls = finder.scripts + finder.styles + finder.icons + finder.other_urls
    assert finder.scripts and finder.styles
    assert all(url for url in finder.scripts), "no inline script"
    for url in urls:
        parts = urlsplit(url)
        assert parts.netloc in ("", "localhost") and parts.scheme in ("", "http"), url
    assert re.findall(r"https?://(?!localhost[:/])[^\s\"'<>]+", page) == []


@pytest.mark.parametrize(
    "kind, content_types",
    [
        ("scripts", {"text/javascript", "application/javascript"}),
        ("styles", {"text/css"}),
        ("icons", {"image/png"}),
    ],
)
@mongomock_only
def test_every_asset_of_the_docs_page_is_served(client, kind, content_types):
    _, finder = docs_page(client)

    for url in getattr(finder, kind):
        response = client.get(url, buffered=True)
        assert response.status_code == 200, url
        assert response.mimetype in content_types, url
        assert response.data


@mongomock_only
def test_swagger_ui_comes_from_the_flask_swagger_ui_package(client):
    dist = Path(flask_swagger_ui.__file__).parent / "dist"

    for name in ("swagger-ui-bundle.js", "swagger-ui.css"):
        assert client.get(f"/docs/{name}", buffered=True).data == (dist / name).read_bytes()


@mongomock_only
def test_swagger_ui_is_set_up_for_bearer_tokens_with_no_outside_calls(client):
    page, finder = docs_page(client)
    script = client.get(finder.scripts[-1]).get_data(as_text=True)

    assert 'data-openapi-url="/openapi.json"' in page
    assert "SwaggerUIBundle(" in script
    assert "persistAuthorization: true" in script
    assert "validatorUrl: null" in script
    assert "http" not in script


@mongomock_only
def test_docs_responses_carry_their_own_content_security_policy(client):
    _, finder = docs_page(client)

    for url in ["/docs", *finder.scripts, *finder.styles]:
        policy = client.get(url, buffered=True).headers["Content-Security-Policy"]
        directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
        assert directives["default-src"] == "'none'"
        assert directives["script-src"] == "'self'"
        assert directives["style-src"] == "'self' 'unsafe-inline'"
        assert directives["connect-src"] == "'self'"
        assert "http" not in policy


@pytest.mark.parametrize("name", ["nope.js", "oauth2-redirect.html", "..%2Fapp.py", "LICENSE"])
@mongomock_only
def test_anything_else_under_docs_is_a_json_404(client, name):
    response = client.get(f"/docs/{name}")

    assert response.status_code == 404
    assert response.json == {"message": "Endpoint Not Found", "data": None, "error": "Not Found"}


# Request shapes come from validate.py ------------------------------------------------------------


@mongomock_only
def test_every_declared_request_schema_is_the_documented_request(app):
    document = load_document()
    checked = 0
    for rule in app.url_map.iter_rules():
        schema = getattr(app.view_functions[rule.endpoint], SCHEMA_ATTRIBUTE, None)
        if schema is None:
            continue
        path = re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            operation = document["paths"][path][method.lower()]
            names = [field.name for field in schema.fields]
            if schema.location == "query":
                documented = [p["name"] for p in operation["parameters"] if p["in"] == "query"]
                assert documented == names, (method, path)
            else:
                media = operation["requestBody"]["content"]
                reference = next(iter(media.values()))["schema"]["$ref"]
                component = document["components"]["schemas"][reference.rsplit("/", 1)[1]]
                assert list(component["properties"]) == names, (method, path)
            checked += 1

    assert checked == 21


def test_the_book_form_is_multipart_with_a_binary_cover_and_validates_limits():
    document = load_document()
    create = document["paths"]["/books/"]["post"]["requestBody"]["content"]
    form = document["components"]["schemas"]["BookCreateForm"]

    assert list(create) == ["multipart/form-data"]
    assert create["multipart/form-data"]["schema"] == {
        "$ref": "#/components/schemas/BookCreateForm"
    }
    assert form["required"] == ["title", "category", "cover_image"]
    assert form["properties"]["cover_image"]["format"] == "binary"
    assert form["properties"]["title"]["maxLength"] == TITLE_MAX_LENGTH
    assert form["properties"]["category"]["enum"] == [*CATEGORIES, "peotry"]
    assert "required" not in document["components"]["schemas"]["BookUpdateForm"]
    assert "cover_image" not in document["components"]["schemas"]["BookUpdateFields"]["properties"]


def test_the_shelf_query_parameters_carry_validates_limits_and_orders():
    parameters = {
        parameter["name"]: parameter
        for parameter in load_document()["paths"]["/books/"]["get"]["parameters"]
    }

    assert parameters["per_page"]["schema"]["maximum"] == PER_PAGE_MAX
    assert parameters["per_page"]["schema"]["default"] == PER_PAGE_DEFAULT
    assert parameters["sort"]["schema"]["enum"] == list(SORT_ORDERS)
    assert parameters["q"]["schema"]["maxLength"] == SEARCH_MAX_LENGTH
    assert parameters["q"]["description"].startswith("Only books having")
    assert all(parameter["in"] == "query" for parameter in parameters.values())
