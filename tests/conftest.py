from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from xdist.remote import Producer
from xdist.scheduler import LoadFileScheduling

from workbench.harness import Processes

ROOT = Path(__file__).resolve().parent.parent


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


# The modules whose tests hold a wall-clock bound (a failover within FAILOVER + LOADED, a node's
# ticks in one second, a shutdown within its limit, the benchmark harness). The suite runs on one
# worker per core (addopts: -n auto --dist loadfile), each module on one worker, so that a
# module's fixtures (a built site, a few hundred simulated runs) are made once. These modules
# are one unit: they run on one worker, one after the other, never two at once, since each
# starts processes that load the machine at the moment another would be measuring.
TIMING = (
    "tests/test_bench.py",
    "tests/v1_kv/test_shutdown.py",
    "tests/v2_registry/test_processes.py",
    "tests/v2_1_election/test_dashboard_browser.py",
    "tests/v2_1_election/test_dashboard_processes.py",
    "tests/v2_1_election/test_handoff.py",
    "tests/v2_1_election/test_hardening.py",
    "tests/v2_1_election/test_idle.py",
    "tests/v2_1_election/test_lab.py",
    "tests/v3_replicated_log/test_lab.py",
    "tests/v2_1_election/test_load.py",
    "tests/v2_1_election/test_processes.py",
    "tests/v2_1_election/test_quorum_processes.py",
    "tests/v2_2_replication/test_dashboard_browser.py",
    "tests/v3_replicated_log/test_dashboard_browser.py",
    "tests/v2_2_replication/test_dashboard_processes.py",
    "tests/workbench/test_nemesis_processes.py",
    "tests/v2_1_election/test_transport.py",
    "tests/v2_1_election/test_walkthrough.py",
    "tests/v2_2_replication/test_processes.py",
    "tests/v3_replicated_log/test_dashboard_processes.py",
    "tests/workbench/test_workload_processes.py",
)


class LoadFileAndTiming(LoadFileScheduling):
    """``--dist loadfile``, with the ``TIMING`` modules as one unit, as if they were one file.

    The unit is chosen by path, here in the controller, which sees test ids but no marks
    (xdist's ``xdist_group`` mark does nothing with pytest 9.2: pytest-xdist issue 1386).
    """

    def _split_scope(self, nodeid: str) -> str:
        module = super()._split_scope(nodeid)
        return "timing" if module in TIMING else module


@pytest.hookimpl(optionalhook=True, tryfirst=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: one worker more than the cores this process may use. Most tests wait (for
    a timer, a process, a socket) more than they compute, so a third worker keeps two cores
    busy: the not-slow run took 97 s instead of 131 s on this 2-core machine. The timing unit
    still runs on one worker, one module at a time. ``PYTEST_XDIST_AUTO_NUM_WORKERS`` decides,
    if it is set."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return int(os.environ["PYTEST_XDIST_AUTO_NUM_WORKERS"])
    return len(os.sched_getaffinity(0)) + 1


@pytest.hookimpl(optionalhook=True, tryfirst=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Producer) -> LoadFileScheduling | None:
    if config.getvalue("dist") != "loadfile":
        return None  # another --dist, asked for on the command line: xdist's own
    missing = [path for path in TIMING if not (ROOT / path).is_file()]
    if missing:
        raise pytest.UsageError(f"tests/conftest.py: TIMING names no such module: {missing}")
    return LoadFileAndTiming(config, log)


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
