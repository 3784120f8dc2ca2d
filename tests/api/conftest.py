"""tests/api: the app on both stores: nx-27017 over TCP (what runs in production) and mongomock.

Tests that need a real server's semantics (wire commands, server-side concurrency) say
`real_server_only`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.helpers import backend_settings


@pytest.fixture(params=["mongomock", "nx-27017"])
def backend(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    """Yield this kind's database settings, with a database of this test's own."""
    yield from backend_settings(request)
