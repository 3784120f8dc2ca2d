"""What the trial measures: the document's validity and shape, the answers, the microseconds."""

from __future__ import annotations

import timeit
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from bench.schema_trial.cases import CASES, KINDS, TIMED_INPUTS, Case, answer, cover_file, send

BOOK_FIELDS = {"title", "description", "category", "isbn", "cover_image"}
QUERY_FIELDS = {"page", "per_page", "sort", "category", "q"}
ENVELOPE_KEYS = {"message", "data", "error"}


# The document ------------------------------------------------------------------------------------


def spec_errors(document: dict[str, Any]) -> list[str]:
    """Return openapi-spec-validator's complaints about a document (empty when it is valid)."""
    from openapi_spec_validator.shortcuts import get_validator_cls

    validator = get_validator_cls(document)(document)
    errors = validator.iter_errors()
    found = (f"{'/'.join(map(str, e.absolute_path))}: {_short(e.message)}" for e in errors)
    return list(dict.fromkeys(found))


def _short(text: str, limit: int = 120) -> str:
    """Return text cut to limit characters."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def resolve(document: dict[str, Any], node: Any) -> Any:
    """Return node with its local $ref followed, repeatedly."""
    while isinstance(node, dict) and "$ref" in node:
        target: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def _property_names(document: dict[str, Any], schema: Any) -> set[str]:
    """Return the property names of an object schema (through $ref and allOf/anyOf)."""
    schema = resolve(document, schema)
    if not isinstance(schema, dict):
        return set()
    names = set(schema.get("properties", {}))
    for key in ("allOf", "anyOf", "oneOf"):
        for part in schema.get(key, []):
            names |= _property_names(document, part)
    return names


def shape_notes(document: dict[str, Any]) -> list[str]:
    """Return what the document gets wrong about the three requests, beyond the validator."""
    notes = []
    paths = document.get("paths", {})
    create = paths.get("/books/", {}).get("post", {})
    if any(p.get("in") == "formData" for p in create.get("parameters", [])):
        notes.append("form fields described as Swagger 2 `in: formData` parameters")
    multipart = create.get("requestBody", {}).get("content", {}).get("multipart/form-data")
    if multipart is None:
        notes.append("book create: no multipart/form-data body")
    else:
        form_schema = resolve(document, multipart.get("schema"))
        missing = BOOK_FIELDS - _property_names(document, form_schema)
        if missing:
            notes.append("multipart body lacks " + ", ".join(sorted(missing)))
        cover = resolve(document, form_schema.get("properties", {}).get("cover_image", {}))
        if "cover_image" not in missing and cover.get("format") != "binary":
            notes.append("cover_image not a binary string")
    listed = paths.get("/books/", {}).get("get", {}).get("parameters", [])
    absent = QUERY_FIELDS - {p.get("name") for p in listed if p.get("in") == "query"}
    if absent:
        notes.append("list query lacks " + ", ".join(sorted(absent)))
    sign_up = paths.get("/users/", {}).get("post", {})
    refused = resolve(document, sign_up.get("responses", {}).get("400", {}))
    schema = refused.get("content", {}).get("application/json", {}).get("schema", {})
    if not _property_names(document, schema) >= ENVELOPE_KEYS:
        notes.append("400 described in the library's error shape, not the envelope")
    if "201" not in sign_up.get("responses", {}):
        notes.append("sign-up's 201 undescribed")
    return notes


# The answers -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    """One case: our answer, the candidate's, and whether they agree."""

    case: Case
    ours: tuple[int, Any]
    theirs: tuple[int, Any]

    @property
    def exact(self) -> bool:
        """Tell whether the status and the whole body are the same."""
        return self.ours == self.theirs

    @property
    def same_fields(self) -> bool:
        """Tell whether the status and the fields named (or the message) are the same."""
        (status, body), (their_status, their_body) = self.ours, self.theirs
        return status == their_status and _named(body) == _named(their_body)


def _named(body: Any) -> Any:
    """Return what an answer names: the failing fields, else its message."""
    if not isinstance(body, dict):
        return body
    error = body.get("error")
    return set(error) if isinstance(error, dict) else body.get("message")


def answers(app: Flask) -> list[tuple[int, Any]]:
    """Return the app's answer to every case, in order."""
    client = app.test_client()
    return [answer(send(client, case)) for case in CASES]


def compare(ours: list[tuple[int, Any]], theirs: list[tuple[int, Any]]) -> list[Comparison]:
    """Pair our answers with a candidate's, case by case."""
    pairs = zip(ours, theirs, strict=True)
    return [Comparison(case, *pair) for case, pair in zip(CASES, pairs, strict=True)]


# The microseconds --------------------------------------------------------------------------------

# Each timed block lasts about this long; blocks of every candidate alternate, round after round,
# so that the load of a shared machine falls on all of them alike. The fastest block is kept:
# other processes only ever add time, so the minimum is the steadiest estimate of the cost.
BLOCK_SECONDS = 0.02
Timed = tuple[str, str, str, str]  # candidate, kind, "validation" or "request", "valid"/"invalid"


def interleaved_fastest(calls: dict[Timed, Callable[[], Any]], rounds: int) -> dict[Timed, float]:
    """Return the fastest µs of each call over rounds in which every call's block runs once."""
    timers = {key: timeit.Timer(call) for key, call in calls.items()}
    numbers = {}
    for key, timer in timers.items():
        number, seconds = timer.autorange()
        numbers[key] = max(1, round(number * BLOCK_SECONDS / seconds))
    samples: dict[Timed, list[float]] = {key: [] for key in timers}
    for _ in range(rounds):
        for key, timer in timers.items():
            samples[key].append(timer.timeit(numbers[key]) / numbers[key] * 1e6)
    return {key: min(values) for key, values in samples.items()}


def _quietly(validate: Callable[[Any], Any], data: Any) -> Callable[[], Any]:
    """Return a call of validate on data that swallows the library's validation error."""

    def call() -> Any:
        """Validate once; a refusal is an answer here, not a failure."""
        try:
            return validate(data)
        except Exception:
            return None

    return call


def validation_calls(
    name: str, validators: dict[str, Callable[[Any], Any]], with_file: bool
) -> dict[Timed, Callable[[], Any]]:
    """Return the calls validating each kind's valid and invalid input alone."""
    calls = {}
    for kind in KINDS:
        for label, data in zip(("valid", "invalid"), TIMED_INPUTS[kind], strict=True):
            if with_file and "title" in data:
                data = {**data, "cover_image": cover_file()}
            calls[name, kind, "validation", label] = _quietly(validators[kind], data)
    return calls


def request_calls(name: str, app: Flask) -> dict[Timed, Callable[[], Any]]:
    """Return the calls sending each kind's valid and invalid request through the test client."""
    client = app.test_client()
    calls: dict[Timed, Callable[[], Any]] = {}
    for kind in KINDS:
        valid = next(case for case in CASES if case.kind == kind)
        invalid = Case(kind, "timed invalid", TIMED_INPUTS[kind][1])
        for label, case in (("valid", valid), ("invalid", invalid)):
            calls[name, kind, "request", label] = _sender(client, case)
    return calls


def _sender(client: FlaskClient, case: Case) -> Callable[[], Any]:
    """Return a call sending one case with the client."""
    return lambda: send(client, case)
