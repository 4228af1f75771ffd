"""Fixtures the registry's tests share."""

from __future__ import annotations

import pytest

from tests.v2_registry.clocks import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
