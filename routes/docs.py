"""The API's documentation: the OpenAPI document at /openapi.json and Swagger UI at /docs."""

from __future__ import annotations

import json
from pathlib import Path

import flask_swagger_ui
from flask import Blueprint, Flask, Response, current_app, request, send_from_directory, url_for
from markupsafe import escape
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response as BaseResponse

from api_docs.document import build_document

docs = Blueprint("docs", __name__)

DOCUMENT_EXTENSION = "openapi_json"
# Swagger UI's own dist files, as the flask-swagger-ui package ships them (no CDN, no npm).
SWAGGER_UI_DIST = Path(flask_swagger_ui.__file__).resolve().parent / "dist"
SWAGGER_UI_FILES = frozenset(
    {"swagger-ui.css", "index.css", "swagger-ui-bundle.js", "favicon-32x32.png"}
)
INITIALIZER = "swagger-initializer.js"

# Everything the page loads comes from this origin. Swagger UI sets inline style attributes,
# draws icons from data: URIs and shows image responses from blob: URLs.
DOCS_CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Book-library API documentation</title>
<link rel="stylesheet" href="{index_css}">
<link rel="stylesheet" href="{swagger_css}">
<link rel="icon" type="image/png" href="{icon}">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{openapi}"></div>
<script src="{bundle}"></script>
<script src="{initializer}"></script>
</body>
</html>
"""

# A file rather than an inline script, so the page's policy needs no 'unsafe-inline' script.
INITIALIZER_SCRIPT = """"use strict";
(function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    domNode: root,
    deepLinking: true,
    persistAuthorization: true,
    displayRequestDuration: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout"
  });
})();
"""


def openapi_json(app: Flask) -> bytes:
    """Return the app's OpenAPI document as JSON bytes, built on first use and kept."""
    # Built from the routes, so once per app (not at import); never again per request.
    if DOCUMENT_EXTENSION not in app.extensions:
        document = build_document(app)
        app.extensions[DOCUMENT_EXTENSION] = json.dumps(document, ensure_ascii=False).encode()
    cached: bytes = app.extensions[DOCUMENT_EXTENSION]
    return cached


@docs.route("/openapi.json", methods=["GET"])
def openapi_document() -> Response:
    """Serve the OpenAPI document."""
    return Response(openapi_json(current_app), mimetype="application/json")


@docs.route("/docs", methods=["GET"])
def swagger_ui() -> BaseResponse:
    """Serve the Swagger UI page; every URL in it is this app's own."""
    urls = {
        "index_css": url_for("docs.asset", asset="index.css"),
        "swagger_css": url_for("docs.asset", asset="swagger-ui.css"),
        "icon": url_for("docs.asset", asset="favicon-32x32.png"),
        "bundle": url_for("docs.asset", asset="swagger-ui-bundle.js"),
        "initializer": url_for("docs.asset", asset=INITIALIZER),
        "openapi": url_for("docs.openapi_document"),
    }
    page = PAGE.format(**{name: escape(url) for name, url in urls.items()})
    return with_docs_policy(Response(page, mimetype="text/html"))


@docs.route("/docs/<asset>", methods=["GET"])
def asset(asset: str) -> BaseResponse:
    """Serve one of the page's scripts, style sheets or icon."""
    if asset == INITIALIZER:
        response = Response(INITIALIZER_SCRIPT, mimetype="text/javascript")
        # Revalidated like the package's files (send_from_directory), not re-sent each time.
        response.cache_control.no_cache = True
        response.add_etag()
        return with_docs_policy(response.make_conditional(request))
    if asset not in SWAGGER_UI_FILES:
        raise NotFound()
    return with_docs_policy(send_from_directory(SWAGGER_UI_DIST, asset))


def with_docs_policy(response: BaseResponse) -> BaseResponse:
    """Give a documentation response its own policy (app-wide security headers keep a view's)."""
    response.headers["Content-Security-Policy"] = DOCS_CONTENT_SECURITY_POLICY
    return response
