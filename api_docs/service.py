"""The description of the greeting, health probes, this documentation and the web app."""

from __future__ import annotations

from typing import Any

from api_docs.build import ETAG, path_parameter, refs, success

OPERATIONS: dict[str, dict[str, Any]] = {
    "hello": {
        "tags": ["service"],
        "operationId": "hello",
        "summary": "The tutorial's greeting",
        "responses": {
            "200": {
                "description": "The greeting, as plain text.",
                "content": {
                    "text/plain": {
                        "schema": {"type": "string", "const": "Hello World!"},
                        "example": "Hello World!",
                    }
                },
            }
        },
    },
    "health.health_check": {
        "tags": ["service"],
        "operationId": "health",
        "summary": "Liveness probe",
        "description": "Answers as long as the process serves requests; it "
        "does not touch the database.",
        "responses": {
            "200": success(
                "The process is alive.",
                "HealthEnvelope",
                {"message": "ok", "data": {"status": "ok"}},
            )
        },
    },
    "health.readiness_check": {
        "tags": ["service"],
        "operationId": "ready",
        "summary": "Readiness probe",
        "description": "Answers 200 when the database answers, else 503 "
        "(take the instance out of rotation).\n"
        "`data.degraded` lists housekeeping indexes the "
        "database refused (e.g. `idempotency_expiry`,\n"
        "`rate_limits_expiry` on FerretDB 1.x, which has no "
        "TTL indexes): expired records are then\n"
        "not removed, but every query checks expiry itself, "
        "so answers are unchanged. A refused\n"
        "essential (unique) index answers 503 naming it, "
        "since uniqueness would not be enforced.\n",
        "responses": {
            "200": success(
                "Ready to serve requests.",
                "ReadyEnvelope",
                {
                    "message": "ready",
                    "data": {"status": "ready", "database": "ok", "degraded": []},
                },
            ),
            **refs("NotReady"),
        },
    },
    "docs.openapi_document": {
        "tags": ["documentation"],
        "operationId": "getOpenApiDocument",
        "summary": "This OpenAPI document, as JSON",
        "responses": {
            "200": {
                "description": "The OpenAPI 3.1 document.",
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["openapi", "info", "paths"],
                            "properties": {
                                "openapi": {"type": "string", "const": "3.1.0"},
                                "info": {"type": "object"},
                                "paths": {"type": "object"},
                            },
                        },
                        "example": {
                            "openapi": "3.1.0",
                            "info": {"title": "Book-library API", "version": "1.0.0"},
                            "paths": {},
                        },
                    }
                },
            }
        },
    },
    "docs.swagger_ui": {
        "tags": ["documentation"],
        "operationId": "getDocumentation",
        "summary": "Interactive documentation (Swagger UI)",
        "description": "Swagger UI for this document. Every script, style sheet "
        "and image it uses is served by the\n"
        "application itself (below `/docs/`), so it works with no "
        "internet access.\n",
        "responses": {
            "200": {
                "description": "The Swagger UI page.",
                "content": {
                    "text/html": {
                        "schema": {"type": "string"},
                        "example": '<!doctype html><html lang="en">...</html>',
                    }
                },
            }
        },
    },
    "docs.asset": {
        "tags": ["documentation"],
        "operationId": "getDocumentationAsset",
        "summary": "A script, style sheet or icon of the documentation page",
        "parameters": [
            path_parameter(
                "asset",
                "The file's name.",
                {
                    "type": "string",
                    "enum": [
                        "swagger-ui.css",
                        "index.css",
                        "swagger-ui-bundle.js",
                        "swagger-initializer.js",
                        "favicon-32x32.png",
                    ],
                },
            )
        ],
        "responses": {
            "200": {
                "description": "The file.",
                "headers": ETAG,
                "content": {
                    "text/css": {
                        "schema": {"type": "string"},
                        "example": "html { box-sizing: border-box; }",
                    },
                    "text/javascript": {"schema": {"type": "string"}, "example": '"use strict";'},
                    "image/png": {"schema": {"type": "string", "format": "binary"}},
                },
            },
            **refs("NotModified", "EndpointNotFound"),
        },
    },
    "ui.index": {
        "tags": ["web app"],
        "operationId": "getWebApp",
        "summary": "The browser front end",
        "description": "A single page that signs up, logs in and keeps a shelf through "
        "this API. `/ui` redirects\n"
        "here.\n",
        "responses": {
            "200": {
                "description": "The page.",
                "headers": ETAG,
                "content": {
                    "text/html": {
                        "schema": {"type": "string"},
                        "example": '<!doctype html><html lang="en">...</html>',
                    }
                },
            },
            **refs("NotModified"),
        },
    },
    "ui.asset": {
        "tags": ["web app"],
        "operationId": "getWebAppAsset",
        "summary": "A script, style sheet or icon of the front end",
        "parameters": [
            path_parameter(
                "asset",
                "The file's path below `/ui/`, e.g. `js/app.js`.",
                {"type": "string", "examples": ["js/app.js"]},
            )
        ],
        "responses": {
            "200": {
                "description": "The file.",
                "headers": ETAG,
                "content": {
                    "text/javascript": {"schema": {"type": "string"}, "example": '"use strict";'},
                    "text/css": {"schema": {"type": "string"}, "example": "body { margin: 0; }"},
                    "image/svg+xml": {
                        "schema": {"type": "string"},
                        "example": '<svg xmlns="http://www.w3.org/2000/svg"/>',
                    },
                    "text/html": {
                        "schema": {"type": "string"},
                        "example": '<!doctype html><html lang="en">...</html>',
                    },
                },
            },
            **refs("NotModified", "EndpointNotFound"),
        },
    },
}
