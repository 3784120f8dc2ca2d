"""A measured trial of request-schema libraries on this API's own requests (issue 14, section 2).

Not part of `make bench` and not a test: the candidates are not dependencies of the project, so
it runs in a throwaway virtualenv outside the project's, from the worktree's root:

    python3.11 -m venv /tmp/trialvenv
    /tmp/trialvenv/bin/pip install --require-hashes -r requirements.lock
    /tmp/trialvenv/bin/pip install openapi-spec-validator==0.9.0 \\
        apiflask flask-smorest flask-openapi3 spectree
    /tmp/trialvenv/bin/python -m bench.schema_trial

For the sign-up body, the book form with its cover and the shelf's query, each candidate that
imports declares the schema its own way (our rules as closely as it allows), builds a tiny Flask
app, and is judged on: its OpenAPI document (openapi-spec-validator), its answers to the same
valid and bad requests against ours (after its public error hook wraps them in our envelope),
and the microseconds of validation alone and of a whole request through Flask's test client.
The libraries are imported inside functions, so the project's ruff and mypy never need them.
"""
