"""The pure cores import no I/O: no asyncio, no aiohttp, not even indirectly.

This is what lets their tests run without an event loop and lets the docs show
the algorithms without HTTP noise. Each module is imported in a fresh
interpreter, so nothing imported by another test can hide a leak.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

PURE = [
    "stages.v1_kv.store",
    "stages.v1_kv.commands",
    "stages.v2_registry.registry",
    "stages.v2_registry.models",
    "stages.v2_registry.membership",
    "stages.v2_registry.watch",
    "stages.v2_1_election.messages",
    "stages.v2_1_election.bully",
    "stages.v2_1_election.bully_config",
    "stages.v2_1_election.core",
    "stages.v2_1_election.quorum",
    "stages.v2_1_election.quorum_config",
    "stages.v2_1_election.quorum_state",
    "stages.v2_1_election.majority",
    "stages.v2_1_election.votefile",
    "stages.v2_2_replication.messages",
    "stages.v2_2_replication.replication",
    "stages.v3_replicated_log.messages",
    "stages.v3_replicated_log.log",
    "stages.v3_replicated_log.raft",
    "stages.v3_replicated_log.kv",
    "stages.v3_replicated_log.storage",
    "stages.v3_replicated_log.records",
    "stages.v3_replicated_log.readindex",
    "stages.v3_replicated_log.machine",
    "stages.v2_1_election.algorithms",
    "stages.v2_1_election.peers",
    "stages.v2_1_election.watch",
    "workbench.lab.plan",
    "workbench.sim.simulator",
    "workbench.sim.world",
    "workbench.sim.algorithms",
    "workbench.sim.checkers",
    "workbench.sim.nemesis",
    "workbench.sim.trials",
    "workbench.sim.svg",
    "workbench.sim.raft",
    "workbench.sim.logsim",
    "workbench.sim.logchecks",
    "workbench.sim.clients",
    "workbench.sim.unsafe",
    "workbench.history.events",
    "workbench.history.edn",
    "workbench.history.register",
    "workbench.history.linear",
    "workbench.history.checker",
    "workbench.history.svg",
]
FORBIDDEN = ("asyncio", "aiohttp")


@pytest.mark.parametrize("module", PURE)
def test_pure_module_imports_neither_asyncio_nor_aiohttp(module: str) -> None:
    check = (
        f"import sys, {module}; "
        f"leaked = [m for m in {FORBIDDEN!r} if m in sys.modules]; "
        "print(','.join(leaked))"
    )
    result = subprocess.run(
        [sys.executable, "-c", check], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"{module} pulls in {result.stdout.strip()}"
