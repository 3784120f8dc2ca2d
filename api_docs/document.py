"""Build the OpenAPI 3.1 document from the app's routes, their declared schemas and the prose."""

from __future__ import annotations

import copy
import re
from typing import Any

from flask import Flask

from api_docs import account_security, books, passkeys, service, sessions, users
from api_docs.build import ref
from api_docs.fields import field_prose
from api_docs.info import EXAMPLES, HEADERS, INFO, PARAMETERS, SECURITY_SCHEMES
from api_docs.responses import RESPONSES
from api_docs.schemas import SCHEMAS
from auth_middleware import REQUIRES_TOKEN
from request_schema.fields import Schema
from web.request_body import SCHEMA_ATTRIBUTE

OPERATIONS: dict[str, dict[str, Any]] = {
    **service.OPERATIONS,
    **users.OPERATIONS,
    **sessions.OPERATIONS,
    **account_security.OPERATIONS,
    **passkeys.OPERATIONS,
    **books.OPERATIONS,
}
ROUTED_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
UNAUTHORIZED = ref("responses", "Unauthorized")
URL_ENCODED = "application/x-www-form-urlencoded"
BEARER: list[dict[str, list[str]]] = [{"bearerAuth": []}]


def build_document(app: Flask) -> dict[str, Any]:
    """Return the OpenAPI document of every described route of the app."""
    components: dict[str, Any] = {
        "securitySchemes": copy.deepcopy(SECURITY_SCHEMES),
        "parameters": copy.deepcopy(PARAMETERS),
        "headers": copy.deepcopy(HEADERS),
        "schemas": copy.deepcopy({**SCHEMAS, **passkeys.SCHEMAS}),
        "examples": copy.deepcopy(EXAMPLES),
        "responses": copy.deepcopy(RESPONSES),
    }
    paths: dict[str, dict[str, Any]] = {}
    for rule in app.url_map.iter_rules():
        # Routes without prose (Flask's own static route) are left out, and a test says so.
        if rule.endpoint not in OPERATIONS:
            continue
        view = app.view_functions[rule.endpoint]
        path = re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", r"{\1}", rule.rule)
        for method in ROUTED_METHODS:
            if method in (rule.methods or ()):
                operation = describe(view, OPERATIONS[rule.endpoint], components["schemas"])
                paths.setdefault(path, {})[method.lower()] = operation
    return {**copy.deepcopy(INFO), "paths": paths, "components": components}


def describe(view: Any, prose: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    """Return one operation: its prose, bearer security if the view needs a token, its request."""
    operation = copy.deepcopy(prose)
    if getattr(view, REQUIRES_TOKEN, False):
        operation["security"] = BEARER
        operation["responses"] = dict(
            sorted({**operation["responses"], "401": UNAUTHORIZED}.items())
        )
    schema: Schema | None = getattr(view, SCHEMA_ATTRIBUTE, None)
    if schema is not None and schema.location == "query":
        operation["parameters"] = query_parameters(schema) + operation.get("parameters", [])
    elif schema is not None:
        for media_type, media in operation["requestBody"]["content"].items():
            # A url-encoded form carries no file: it gets the schema without the binary fields.
            name = schema.name
            if media_type == URL_ENCODED:
                name = schema.name.removesuffix("Form") + "Fields"
            schemas[name] = body_schema(schema, binary=media_type != URL_ENCODED)
            media["schema"] = {"$ref": f"#/components/schemas/{name}"}
    return operation


def body_schema(schema: Schema, binary: bool) -> dict[str, Any]:
    """Return a body's JSON Schema: validate.py's shapes and limits with their prose."""
    described = schema.json_schema(binary)
    if not binary and schema.description:
        described["description"] = "The fields of the multipart form (no file), url-encoded."
    described["properties"] = {
        name: {**field, **field_prose(schema.name, name)}
        for name, field in described["properties"].items()
    }
    return described


def query_parameters(schema: Schema) -> list[dict[str, Any]]:
    """Return a query schema's fields as OpenAPI query parameters."""
    parameters = []
    for field in schema.fields:
        prose = dict(field_prose(schema.name, field.name))
        parameter = {"name": field.name, "in": "query", "required": field.required}
        if "description" in prose:
            parameter["description"] = prose.pop("description")
        parameters.append({**parameter, "schema": {**field.schema, **prose}})
    return parameters
