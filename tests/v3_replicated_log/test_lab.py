"""v3.0 under a real partition: three nodes, each on its own host, the leader cut off alone.

A workload runs on the lab's client host, which reaches both sides of the cut, before the
cut, during it and after the heal. The history must be linearizable; every write a client
was told succeeded (``ok``) must be in every node's committed log once the cluster has
healed, so the cut-off leader acknowledged nothing it could not commit; and every node
must have applied the same log and hold the same data.

As root only (CI runs as root, and there the test must run); the lab is removed when the
test ends, and its history, the hosts' logs and the nodes' write-ahead logs stay in the
test's ``tmp_path``.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from stages.v3_replicated_log import records
from stages.v3_replicated_log.kv import Command
from stages.v3_replicated_log.machine import decode
from stages.v3_replicated_log.storage import MemoryStorage
from stages.v3_replicated_log.wal import FILE_NAME
from tests.v2_1_election.labrun import LabRun, remove_crashed_test_labs, skip_unless_root
from workbench.harness import DDB, LOADED, SETUP, wait_until
from workbench.lab import netns
from workbench.lab.plan import CLIENT, host, node_url
from workbench.nemesis.stages import ReplicatedLog

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

NODES = ["n1", "n2", "n3"]
WORKLOAD = 20.0  # seconds of load: enough for the cut, a new leader, and the heal
ROOT = Path(__file__).parents[2]  # where python -m tests... finds the tests


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[LabRun]:
    skip_unless_root()
    remove_crashed_test_labs()
    run = LabRun(len(NODES), tmp_path)
    try:
        yield run
    finally:
        data = netns.data_path(run.plan.lab)
        if data.exists():  # the lab removes them: keep a copy to read after a failure
            shutil.copytree(data, tmp_path / "data", dirs_exist_ok=True)
        run.down()
        print(f"history, logs and write-ahead logs: {tmp_path}")


def look(lab: LabRun) -> dict[str, Any]:
    """Every node's log and data digest, asked from the client host (see ``labcheck``)."""
    urls = [node_url(node) for node in lab.plan.nodes]
    command = [sys.executable, "-m", "tests.v3_replicated_log.labcheck", *urls]
    where = host(lab.plan.lab, CLIENT).namespace
    done = subprocess.run(netns.in_namespace(where, command), capture_output=True, text=True,
                          timeout=60, cwd=ROOT, check=True)  # fmt: skip
    return dict(json.loads(done.stdout))


async def wait_look(
    lab: LabRun, what: str, timeout: float, condition: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    async def holds() -> bool:
        seen.update(await asyncio.to_thread(look, lab))
        return condition(seen)

    try:
        await wait_until(holds, timeout=timeout, interval=0.2, what=what)
    except AssertionError as exc:
        raise AssertionError(f"{exc}; last seen: {seen.get('logs')}") from None
    return seen


def leaders(seen: dict[str, Any], names: list[str]) -> list[tuple[str, int]]:
    logs = seen["logs"]
    return [(n, logs[n]["term"]) for n in names if (logs[n] or {}).get("role") == "leader"]


def answers(history: Path) -> list[dict[str, Any]]:
    """The answers (not the calls) the history holds so far: whole lines only."""
    text = history.read_text() if history.exists() else ""
    lines = text.splitlines()[: text.count("\n")]
    return [event for line in lines if (event := json.loads(line))["type"] != "invoke"]


def writes_by(history: Path, node: str) -> Counter[str]:
    """How ``node`` answered writes: ``{"ok": 120, "fail": 30, ...}``."""
    return Counter(
        e["type"] for e in answers(history) if e["f"] == "write" and e.get("node") == node
    )


def committed_writes(data: Path, commit: int) -> set[tuple[str, bytes]]:
    """The puts in one node's write-ahead log, up to ``commit``: read as ``ddb v3 wal`` does."""
    kept = MemoryStorage()
    for _, payload in records.scan((data / FILE_NAME).read_bytes())[0]:
        batch = records.decode(payload)
        kept.save(batch.entries, batch.hard_state, batch.commit)
    found = set()
    for entry in kept.load().entries:
        if entry.index <= commit and entry.data is not None:
            command = Command.from_data(entry.data)
            if command.op == "put" and command.value is not None:
                found.add((command.key, decode(command.value)))
    return found


async def test_a_leader_cut_off_alone_acknowledges_no_write_it_cannot_commit(
    lab: LabRun, tmp_path: Path
) -> None:
    stage = ReplicatedLog(tuple(NODES), netns.data_path(lab.plan.lab))
    lab.up(stage="v3", node_flags=stage.flags)
    first = await wait_look(lab, "a leader", SETUP, lambda s: s["caught_up"])
    [(old, old_term)] = leaders(first, NODES)
    majority = [n for n in NODES if n != old]

    history = tmp_path / "history.jsonl"
    load = [*DDB, "lab", "workload", "--lab", lab.plan.lab, "--", "--time", str(WORKLOAD),
            "--check", "--out", str(history)]  # fmt: skip
    workload = subprocess.Popen(load, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        await wait_until(lambda: writes_by(history, old)["ok"] > 0, timeout=SETUP,
                         what=f"{old} to acknowledge writes before the cut")  # fmt: skip
        before = writes_by(history, old)
        lab.partition(majority, [old])  # the registry and the majority on a, the leader on b
        during = await wait_look(
            lab, "the majority to elect a new leader", SETUP,
            lambda s: [n for n, term in leaders(s, majority) if term > old_term] != [],
        )  # fmt: skip
        await wait_until(lambda: writes_by(history, old)["fail"] > before["fail"],
                         timeout=SETUP, what=f"{old}, cut off, to refuse a write")  # fmt: skip
        lab.heal()
        assert workload.poll() is None, f"the workload ended before the heal: raise {WORKLOAD=}"
        output, _ = workload.communicate(timeout=WORKLOAD + 60)
    finally:
        if workload.poll() is None:
            workload.kill()
            workload.communicate()
    print(output)
    assert workload.returncode == 0 and "linearizable:" in output, output

    after = await wait_look(
        lab, "every node to apply the leader's whole log", SETUP + LOADED,
        lambda s: s["caught_up"] and len(set(s["digests"].values())) == 1,
    )  # fmt: skip
    logs = after["logs"]
    assert len({(log["commit"], log["applied"], log["last_index"]) for log in logs.values()}) == 1
    assert None not in after["digests"].values(), after["digests"]
    commit = logs[NODES[0]]["commit"]

    acknowledged = {(e["key"], str(e["value"]).encode()) for e in answers(history)
                    if e["f"] == "write" and e["type"] == "ok"}  # fmt: skip
    for name in NODES:
        missing = acknowledged - committed_writes(stage.data / name, commit)
        assert not missing, f"{name}'s log lacks {len(missing)} acknowledged writes: {missing}"
    new = [n for n, _ in leaders(during, majority)]
    print(f"{old} led at term {old_term} and was cut off alone; {new} led the majority; "
          f"{old}'s answers to writes: {dict(writes_by(history, old))}; "
          f"{len(acknowledged)} acknowledged writes, all in the {commit} committed entries "
          "of every node")  # fmt: skip
