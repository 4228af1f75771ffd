from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support import Processes


@pytest.fixture
def processes() -> Iterator[Processes]:
    """Start ``ddb`` processes; every one is ended when the test ends, pass or fail."""
    procs = Processes()
    try:
        yield procs
    finally:
        procs.stop_all()
        for proc in procs.started:
            if proc.proc.returncode not in (0, -15, -9, 143):
                print(f"--- log of ddb {' '.join(proc.args)} ---\n{proc.log}")
