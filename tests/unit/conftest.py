"""tests/unit: pure logic; where a database is needed, mongomock in process."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.helpers import backend_settings


@pytest.fixture(params=["mongomock"])
def backend(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    """Yield this kind's database settings, with a database of this test's own."""
    yield from backend_settings(request)
