"""Run the trial: `python -m bench.schema_trial [--rounds N] [--cases]` (see the package doc)."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

from flask import Flask

from bench.schema_trial import marshmallow_candidates, ours, pydantic_candidates
from bench.schema_trial.cases import KINDS
from bench.schema_trial.measure import (
    Comparison,
    answers,
    compare,
    interleaved_fastest,
    request_calls,
    shape_notes,
    spec_errors,
    validation_calls,
)


@dataclass(frozen=True)
class Candidate:
    """A way of declaring the requests: its tiny app, its document, its validation alone."""

    name: str
    distributions: tuple[str, ...]
    build: Callable[[], Flask]
    spec: Callable[[Flask], dict[str, Any]]
    validators: Callable[[], dict[str, Callable[[Any], Any]]]
    # The libraries' schemas take the file as a field; ours leaves it to the route.
    validates_file: bool = True

    def version(self) -> str:
        """Return the installed versions of its distributions."""
        return ", ".join(f"{name} {metadata.version(name)}" for name in self.distributions)


CANDIDATES = (
    Candidate("ours", (), ours.build_app, ours.spec, ours.validators, validates_file=False),
    Candidate(
        "APIFlask",
        ("apiflask", "marshmallow"),
        marshmallow_candidates.apiflask_app,
        marshmallow_candidates.apiflask_spec,
        marshmallow_candidates.apiflask_validators,
    ),
    Candidate(
        "flask-smorest",
        ("flask-smorest", "marshmallow"),
        marshmallow_candidates.smorest_app,
        marshmallow_candidates.smorest_spec,
        marshmallow_candidates.smorest_validators,
    ),
    Candidate(
        "flask-openapi3",
        ("flask-openapi3", "pydantic"),
        pydantic_candidates.openapi3_app,
        pydantic_candidates.openapi3_spec,
        pydantic_candidates.openapi3_validators,
    ),
    Candidate(
        "spectree",
        ("spectree", "pydantic"),
        pydantic_candidates.spectree_app,
        pydantic_candidates.spectree_spec,
        pydantic_candidates.spectree_validators,
    ),
)


@dataclass
class Result:
    """What one candidate scored."""

    candidate: Candidate
    spec_errors: list[str]
    notes: list[str]
    comparisons: list[Comparison]
    app: Flask
    microseconds: dict[tuple[str, str, str], float] = field(default_factory=dict)

    def pair(self, kind: str, what: str) -> str:
        """Return the valid / invalid microseconds of one kind's validation or request."""
        valid, invalid = (self.microseconds[kind, what, label] for label in ("valid", "invalid"))
        return f"{valid:,.1f} / {invalid:,.1f}"


def judge(candidate: Candidate, our_answers: list[tuple[int, Any]]) -> Result:
    """Build the candidate's app, check its document and compare its answers with ours."""
    app = candidate.build()
    # A crash is recorded as its 500; its traceback would only drown the tables.
    app.logger.setLevel(logging.CRITICAL)
    document = candidate.spec(app)
    return Result(
        candidate,
        spec_errors(document),
        shape_notes(document),
        compare(our_answers, answers(app)),
        app,
    )


def time_all(results: list[Result], rounds: int) -> None:
    """Time every candidate's validation and requests, interleaved, into its result."""
    calls = {}
    for result in results:
        name = result.candidate.name
        validators = result.candidate.validators()
        calls.update(validation_calls(name, validators, result.candidate.validates_file))
        calls.update(request_calls(name, result.app))
    fastest = interleaved_fastest(calls, rounds)
    for result in results:
        for (name, kind, what, label), value in fastest.items():
            if name == result.candidate.name:
                result.microseconds[kind, what, label] = value


def table(header: list[str], rows: list[list[str]]) -> str:
    """Return a Markdown table."""
    lines = [header, ["---"] * len(header), *rows]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in lines)


def summary(results: list[Result]) -> str:
    """Return the table of the document and the answers of each candidate."""
    rows = []
    for result in results:
        accepted = [c for c in result.comparisons if c.ours[0] < 400]
        refused = [c for c in result.comparisons if c.ours[0] >= 400]
        rows.append(
            [
                result.candidate.name,
                result.candidate.version() or "-",
                "valid" if not result.spec_errors else f"invalid ({len(result.spec_errors)})",
                f"{sum(c.exact for c in accepted)}/{len(accepted)}",
                f"{sum(c.exact for c in refused)}/{len(refused)}",
                f"{sum(c.same_fields for c in refused)}/{len(refused)}",
            ]
        )
    header = [
        "candidate",
        "version",
        "OpenAPI document",
        "accepted as ours",
        "refusals exact",
        "refusals: same status and fields",
    ]
    return table(header, rows)


def timings(results: list[Result]) -> str:
    """Return the tables of microseconds: validation alone, whole request, per kind."""
    header = ["candidate"]
    for kind in KINDS:
        header += [f"{kind}: validation µs", f"{kind}: request µs"]
    rows = [
        [result.candidate.name]
        + [
            cell
            for kind in KINDS
            for cell in (result.pair(kind, "validation"), result.pair(kind, "request"))
        ]
        for result in results
    ]
    title = "Microseconds, fastest of the interleaved rounds, valid / invalid input:"
    return f"{title}\n\n{table(header, rows)}"


def details(results: list[Result], show_cases: bool) -> str:
    """Return each candidate's document problems, crashes and the messages it would override."""
    lines = [
        "A refusal matches exactly only where the candidate called a rule of validate.py (word "
        "count, password classes, ISBN ...): none of the libraries' own messages is ours."
    ]
    for result in results:
        lines.append(f"\n## {result.candidate.name}")
        lines += [f"- spec: {error}" for error in result.spec_errors]
        lines += [f"- document: {note}" for note in result.notes]
        differing = [c for c in result.comparisons if not c.exact]
        for comparison in differing:
            (status, _), (their_status, _) = comparison.ours, comparison.theirs
            if their_status >= 500 or (status < 400) != (their_status < 400):
                label = f"{comparison.case.kind}, {comparison.case.label}"
                lines.append(f"- answers {their_status} where we answer {status}: {label}")
        messages = sorted({message for c in differing for message in _messages(c.theirs[1])})
        lines += [f"- message to override: {message}" for message in messages]
        for comparison in differing if show_cases else []:
            lines.append(f"- {comparison.case.kind}, {comparison.case.label}:")
            lines.append(f"    ours:   {comparison.ours}")
            lines.append(f"    theirs: {comparison.theirs}")
    return "\n".join(lines)


def _messages(body: Any) -> list[str]:
    """Return the field messages of a failure envelope (none for a success or a crash page)."""
    error = body.get("error") if isinstance(body, dict) else None
    return [str(message) for message in error.values()] if isinstance(error, dict) else []


def main() -> None:
    """Measure every candidate that imports and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=30, help="timing rounds (fastest kept)")
    parser.add_argument("--cases", action="store_true", help="print every differing answer")
    arguments = parser.parse_args()
    our_answers = answers(ours.build_app())
    results = []
    for candidate in CANDIDATES:
        try:
            results.append(judge(candidate, our_answers))
        except ImportError as error:
            print(f"{candidate.name}: not installed ({error.name}), skipped")
    time_all(results, arguments.rounds)
    print(summary(results), timings(results), details(results, arguments.cases), sep="\n\n")


if __name__ == "__main__":
    main()
