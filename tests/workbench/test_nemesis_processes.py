"""``ddb nemesis`` as a user runs it: fresh v2.2 clusters, faults, histories, verdicts."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from workbench.harness import DDB, run_ddb
from workbench.history.checker import check, read_history

pytestmark = pytest.mark.timeout(120)


def nemesis(tmp_path: Path, *args: str) -> tuple[int, list[dict], str]:
    done = subprocess.run(
        [*DDB, "nemesis", "--runs", "1", "--out", str(tmp_path), "--json", *args],
        capture_output=True, text=True, timeout=110,
    )  # fmt: skip
    return done.returncode, json.loads(done.stdout or "[]"), done.stderr


@pytest.mark.slow
def test_without_faults_the_leader_route_is_linearizable_and_every_replica_agrees(
    tmp_path: Path,
) -> None:
    status, [run], _ = nemesis(tmp_path, "--faults", "none", "--route", "leader", "--time", "2")
    assert status == 0 and run["linearizable"] is True and run["anomalies"] == []
    assert run["nemesis"] == []
    assert len(run["digests"]) == 3 and len(set(run["digests"].values())) == 1
    lines = Path(run["history"]).read_text().splitlines()
    assert check(read_history(lines)).linearizable is True  # the file says the same
    finals = [json.loads(line) for line in lines[-18:]]  # three keys read back from each node
    assert {event["f"] for event in finals} == {"read"}
    answers = [event for event in finals if event["type"] == "ok"]
    assert sorted(event["node"] for event in answers) == ["n1"] * 3 + ["n2"] * 3 + ["n3"] * 3
    assert {event["role"] for event in answers} == {"leader", "follower"}


@pytest.mark.slow
def test_a_paused_follower_is_logged_resumed_and_the_run_judged(tmp_path: Path) -> None:
    status, [run], _ = nemesis(tmp_path, "--faults", "pause", "--time", "4", "--down", "1")
    moves = run["nemesis"]
    assert any("SIGSTOP" in move for move in moves) and any("SIGCONT" in move for move in moves)
    assert status in (0, 1) and run["linearizable"] in (True, False)
    assert (status == 1) == (run["linearizable"] is False)
    if run["linearizable"] is False:  # reads from any node: usually a stale one, drawn
        assert run["anomalies"] and Path(run["svg"]).read_text().startswith("<svg")


def test_a_wrong_fault_is_a_usage_error_that_says_what_is_allowed() -> None:
    done = run_ddb("nemesis", "--faults", "kill,flood")
    assert done.returncode == 3
    allowed = b"kill, pause, pause-leader, restart, kill-follower, or none"
    assert b"a comma-separated list of " + allowed in done.stderr


def test_a_v3_run_with_the_leader_killed_and_restarted_is_linearizable_and_every_node_agrees(
    tmp_path: Path,
) -> None:
    status, [run], errors = nemesis(
        tmp_path, "--stage", "v3", "--faults", "kill", "--time", "4", "--down", "1"
    )
    assert status == 0, errors
    assert run["linearizable"] is True and run["anomalies"] == [], run
    moves = run["nemesis"]
    assert any("kill -9" in move for move in moves), moves
    assert any("started again" in move for move in moves), moves
    digests = run["digests"]
    assert sorted(digests) == ["n1", "n2", "n3"] and len(set(digests.values())) == 1
    assert None not in digests.values()
    finals = [json.loads(line) for line in Path(run["history"]).read_text().splitlines()[-18:]]
    answers = [event for event in finals if event["type"] == "ok"]  # each node's own copy
    assert sorted(event["node"] for event in answers) == ["n1"] * 3 + ["n2"] * 3 + ["n3"] * 3
    assert not (tmp_path / "run-1.data").exists()  # a run that went right keeps nothing


def test_election_is_v2_2s_and_a_usage_error_with_v3() -> None:
    done = run_ddb("nemesis", "--stage", "v3", "--election", "quorum")
    assert done.returncode == 3
    assert b"--election is v2.2's: a v3 node always elects by Raft's vote" in done.stderr
