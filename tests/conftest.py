from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from workbench.harness import Processes


@pytest.fixture
def processes() -> Iterator[Processes]:
    """Start ``ddb`` processes; every one is ended when the test ends, pass or fail."""
    procs = Processes()
    try:
        yield procs
    finally:
        procs.stop_all()
        for proc in procs.started:  # pytest shows this output only when the test failed
            lines = proc.log.splitlines()
            shown = "\n".join(lines if len(lines) <= 200 else ["...", *lines[-200:]])
            command = " ".join(proc.args)
            print(f"--- log of ddb {command} (exit {proc.proc.returncode}) ---\n{shown}")


# Fuzzing (tests/fuzz.py): the same examples on every run; --hypothesis-profile=long tries more.
settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    max_examples=120,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "long",
    parent=settings.get_profile("ci"),
    derandomize=False,
    max_examples=1000,
)
settings.load_profile("ci")
