"""``python -m bench.checker`` runs every step the page's figures come from (its figures, on a
tiny history, mean nothing: no time is asserted)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench import checker


def test_the_checker_benchmark_measures_and_plots(tmp_path: Path) -> None:
    row = checker.measure(300, clients=3, keys=2)
    assert row["operations"] > 200 and row["check"] > 0 and row["read"] > 0
    assert row["steps"] < 3 * row["operations"]  # the cache keeps it about one step each
    assert checker.table([row]).splitlines()[2].startswith(f"| {row['operations']:,} | 3 |")
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("CI installs the bench extra (matplotlib)")
        pytest.skip("matplotlib is not installed (the bench extra)")
    checker.plot([row], tmp_path / "checker.png")
    assert (tmp_path / "checker.png").read_bytes().startswith(b"\x89PNG")
