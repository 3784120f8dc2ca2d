"""Field and Schema: a request's shape (JSON Schema for the API description) with its checks."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Field:
    """One field of a request: its JSON Schema and the validator that holds its message.

    check None: the shape is only described here; the route checks the value against stored
    state (a token, a password). missing: the message when a required field is absent (else
    check's answer for None).
    """

    name: str
    schema: dict[str, Any]
    check: Callable[[Any], str | None] | None = None
    required: bool = False
    missing: str | None = None

    def error(self, data: Mapping[str, Any], partial: bool) -> str | None:
        """Return why this field of data is invalid, or None."""
        if self.check is None:
            return None
        if self.name not in data:
            if not self.required or partial:
                return None
            return self.missing or self.check(None)
        return self.check(data[self.name])


@dataclass(frozen=True)
class Schema:
    """A request body (JSON or form) or query string: its fields, in the order errors name them."""

    name: str
    location: str  # "json", "form" or "query"
    fields: tuple[Field, ...]
    description: str = ""
    partial: bool = False

    def errors(self, data: Mapping[str, Any]) -> dict[str, str]:
        """Return each failing field with its message; unknown fields are ignored."""
        errors = {}
        for field in self.fields:
            # Inlined Field.error for the common case: a present field with a check (the read
            # path's query runs through here on every shelf listing).
            if field.check is not None and field.name in data:
                message = field.check(data[field.name])
            else:
                message = field.error(data, self.partial)
            if message:
                errors[field.name] = message
        return errors

    def json_schema(self, binary: bool = True) -> dict[str, Any]:
        """Return the schema as a JSON Schema object (without file fields unless binary)."""
        fields = [f for f in self.fields if binary or f.schema.get("format") != "binary"]
        described: dict[str, Any] = {"type": "object"}
        if self.description:
            described["description"] = self.description
        required = [field.name for field in fields if field.required and not self.partial]
        if required:
            described["required"] = required
        described["properties"] = {field.name: field.schema for field in fields}
        return described


def string_schema(description: str = "", **limits: Any) -> dict[str, Any]:
    """Return a JSON Schema string with an optional description and limits."""
    return {"type": "string", **({"description": description} if description else {}), **limits}
