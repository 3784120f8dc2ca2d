"""Fixtures of the book tests: apps that each get an instance folder of their own."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from app import create_app
from store import database
from tests.helpers import base_config


@pytest.fixture
def make_app(backend: dict[str, Any], tmp_path: Path) -> Iterator[Callable[..., Flask]]:
    """Return a factory of apps on the backend under test with extra settings."""
    built: list[Flask] = []

    def build(**settings: Any) -> Flask:
        instance = tmp_path / f"instance-{len(built)}"
        application = create_app({**base_config(instance), **backend, **settings})
        built.append(application)
        return application

    yield build
    for application in built:
        database.close_client(application)
