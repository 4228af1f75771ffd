"""The simulator runs the log core (``ddb simulate --algorithm raft``): its disk, its
clients and history, its checkers, and its command line.

The random runs here are a few seeds; the acceptance run is a thousand:
``ddb simulate --algorithm raft --nemesis crash,pause,partition --drop 0.05
--duplicate 0.05 --trials 1000 --jobs 2``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from stages.v2_1_election.core import HardState
from stages.v3_replicated_log.messages import Entry
from stages.v3_replicated_log.raft import LogReady
from tests.v3_replicated_log.test_unsafe import FAULTS
from workbench.history.checker import check as check_history
from workbench.history.checker import read_history
from workbench.sim.checkers import check
from workbench.sim.logchecks import (
    acknowledged_writes_kept,
    history_lines,
    leader_completeness,
    log_matching,
    state_machine_safety,
    synced_before_sent,
)
from workbench.sim.logsim import LogSimulator
from workbench.sim.simulator import simulate
from workbench.sim.trace import Record

ROOT = Path(__file__).resolve().parents[2]
SEEDS = range(1, 9)


@pytest.mark.parametrize("seed", SEEDS)
def test_every_checker_passes_under_crashes_pauses_partitions_loss_and_duplication(
    seed: int,
) -> None:
    config = replace(FAULTS, seed=seed)
    records = simulate(config).records
    verdicts = check(records, config.election.timings())
    assert [v.name for v in verdicts if v.ok is not True] == [], f"seed {seed}"
    assert any(r["event"] == "op" and r["type"] == "ok" for r in records), "nothing was done"


def test_the_same_seed_gives_the_same_run() -> None:
    config = replace(FAULTS, seed=3, duration=5.0)
    assert simulate(config).to_jsonl() == simulate(config).to_jsonl()


def test_a_crash_loses_what_the_disk_had_not_synced() -> None:
    sim = LogSimulator(replace(FAULTS, seed=1))
    node = sim.nodes["n1"]
    synced = LogReady(HardState(1, "n1"), [], (Entry(1, 1),))
    unsynced = LogReady(HardState(2, "n2"), [], (Entry(2, 2),))
    sim._synced(node, sim.disks["n1"].boot, synced, then_send=False)
    before_crash = sim.disks["n1"].boot
    sim._crash(node)
    sim._synced(node, before_crash, unsynced, then_send=False)  # its write was too late
    disk = sim.disks["n1"]
    assert (disk.hard, disk.entries) == (HardState(1, "n1"), [Entry(1, 1)])


def test_the_clients_history_is_in_the_checkers_format_and_linearizable() -> None:
    records = simulate(replace(FAULTS, seed=2, duration=10.0)).records
    operations = read_history(history_lines(records))
    assert {op.f for op in operations} == {"read", "write", "cas"}
    assert check_history(operations).linearizable is True


def entries(*names: str, term: int = 1) -> list[list[object]]:
    return [[term, name] for name in names]


def test_the_log_checkers_fire_on_hand_made_violations() -> None:
    restored: list[Record] = [
        {"t": 0.0, "event": "restored", "node": n, "term": 0, "entries": []} for n in ("n1", "n2")
    ]
    forked = [
        *restored,
        {"t": 1.0, "event": "log", "node": "n1", "from": 1, "entries": entries("c1.1", "c1.2")},
        {"t": 1.0, "event": "log", "node": "n2", "from": 1, "entries": entries("c2.1")},
        {"t": 1.0, "event": "log", "node": "n2", "from": 2, "entries": entries("c1.2")},
    ]
    assert log_matching(forked).ok is False
    applied = [
        {"t": 1.0, "event": "apply", "node": "n1", "from": 1, "entries": entries("c1.1")},
        {"t": 2.0, "event": "apply", "node": "n2", "from": 1, "entries": entries("c2.1")},
    ]
    assert state_machine_safety(applied).ok is False
    ack = {"t": 1.5, "event": "op", "type": "ok", "f": "write", "index": 1, "entry": "c1.1"}
    assert acknowledged_writes_kept([applied[0], ack, applied[1]]).ok is False
    leader = {"t": 3.0, "event": "role", "node": "n2", "role": "leader", "term": 2}
    assert leader_completeness([*restored, applied[0], leader]).ok is False
    reply = {"type": "append_entries_reply", "success": True, "match_index": 2}
    sent = {"t": 1.0, "event": "send", "from": "n1", "to": "n2", "msg": reply}
    assert synced_before_sent([restored[0], sent, {**restored[0], "t": 2.0}]).ok is False


def test_a_leader_of_an_older_term_elected_later_owes_nothing_to_newer_terms() -> None:
    """Seed 543 of the acceptance run: n3, paused once its term-3 votes were in, counted
    them after n2 had led term 5 and committed entry 1. Raft's property is by term, so that
    is no violation; a leader of term 6 without the entry is one."""
    restored: list[Record] = [
        {"t": 0.0, "event": "restored", "node": n, "term": 0, "entries": []} for n in ("n2", "n3")
    ]
    n2_leads = {"t": 1.0, "event": "role", "node": "n2", "role": "leader", "term": 5}
    logged = {"t": 1.1, "event": "log", "node": "n2", "from": 1, "entries": [[5, "no-op"]]}
    applied = {"t": 1.2, "event": "apply", "node": "n2", "from": 1, "entries": [[5, "no-op"]]}
    late = {"t": 2.0, "event": "role", "node": "n3", "role": "leader", "term": 3}
    assert leader_completeness([*restored, n2_leads, logged, applied, late]).ok is True
    newer = {**late, "term": 6}
    assert leader_completeness([*restored, n2_leads, logged, applied, newer]).ok is False


def ddb(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workbench.sim", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )


def test_simulate_raft_writes_the_history_for_ddb_check(tmp_path: Path) -> None:
    history = tmp_path / "history.jsonl"
    result = ddb("--algorithm", "raft", "--duration", "5", "--history", str(history))
    assert result.returncode == 0, result.stderr
    assert "ok       linearizable" in result.stdout
    first = json.loads(history.read_text().splitlines()[0])
    assert first["type"] == "invoke"


def test_simulate_raft_draws_the_logs_messages_in_the_svg(tmp_path: Path) -> None:
    picture = tmp_path / "run.svg"
    result = ddb("--algorithm", "raft", "--duration", "2", "--svg", str(picture))
    assert result.returncode == 0, result.stderr
    drawn = picture.read_text()
    assert 'marker-end="url(#to-append_entries)"' in drawn
    assert ">append entries reply<" in drawn  # in the legend


def test_unsafe_shortcuts_are_for_raft_and_named() -> None:
    result = ddb("--algorithm", "quorum", "--unsafe", "commit-old-term")
    assert result.returncode == 2 and "for --algorithm raft" in result.stderr
    result = ddb("--algorithm", "raft", "--unsafe", "skip-fsync")
    assert result.returncode == 2 and "unknown shortcut 'skip-fsync'" in result.stderr


def test_a_caught_shortcut_exits_1_and_names_the_broken_promise() -> None:
    result = ddb(
        *("--algorithm", "raft", "--seed", "6", "--unsafe", "no-log-check-on-vote"),
        *("--nemesis", "crash,pause,partition", "--drop", "0.05", "--duplicate", "0.05"),
    )
    assert result.returncode == 1
    assert "raft claims" in result.stdout and "state-machine safety" in result.stdout
