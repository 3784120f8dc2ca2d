"""tests/api: the app over a real MongoDB-protocol server (nx-27017) over TCP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.helpers import backend_settings


@pytest.fixture(params=["nx-27017"])
def backend(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    """Yield this kind's database settings, with a database of this test's own."""
    yield from backend_settings(request)
