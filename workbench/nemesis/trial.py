"""One nemesis run: a fresh cluster, a workload under faults, then the verdict.

1. start a registry and the nodes (``ddb STAGE node``, ephemeral ports) and wait for a leader;
2. run ``ddb workload``'s clients for ``time`` seconds while the nemesis does its worst;
3. heal everything, wait for one leader again and for every node to have caught up;
4. read every key from every node, one after the other (the history's final reads), and ask
   each node for its store's digest;
5. check the history and name what went wrong (:mod:`workbench.nemesis.anomalies`).

What differs per stage (the nodes' flags, when they have caught up, how to read a node's own
copy and its digest) is the :class:`~workbench.nemesis.stages.StageUnderTest` of the run. A
run that went wrong keeps its nodes' logs in ``OUT/run-N.logs/`` (and a v3.0 node's log on
disk in ``OUT/run-N.data/NAME``).
"""

from __future__ import annotations

import asyncio
import json
import random
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from workbench.cluster import Cluster
from workbench.harness import SETUP, Processes, wait_until
from workbench.history.checker import check, read_history
from workbench.history.svg import history_svg
from workbench.history.workload import Recorder, WorkloadConfig, request, run_workload
from workbench.nemesis.anomalies import FinalRead, Finding, name_anomalies
from workbench.nemesis.faults import FAULTS, Nemesis
from workbench.nemesis.stages import StageUnderTest, under_test


@dataclass(frozen=True)
class TrialConfig:
    stage: str = "v2.2"
    election: str = "bully"
    nodes: int = 3
    time: float = 10.0  # seconds of workload
    faults: tuple[str, ...] = FAULTS  # () for none: the same run, without a nemesis
    route: str = "random"
    clients: int = 5
    keys: int = 3
    interval: float = 1.0
    down: float = 2.0
    timeout: float = 1.0  # per request
    check_timeout: float = 60.0


@dataclass
class TrialResult:
    run: int
    seed: int
    linearizable: bool | None
    operations: int
    unknown: int
    findings: list[Finding]
    faults: list[str]
    history: Path
    svg: Path | None = None
    digests: dict[str, str | None] = field(default_factory=dict)

    @property
    def anomalies(self) -> list[str]:
        return sorted({finding.anomaly for finding in self.findings})


async def settle(cluster: Cluster, session: aiohttp.ClientSession, subject: StageUnderTest) -> str:
    """One leader again, and every node caught up, as the stage says; the leader's name."""
    await cluster.wait_for_agreement(timeout=SETUP)
    urls = {name: node.url for name, node in cluster.nodes.items()}
    what = f"every {subject.stage} node to have caught up with the leader"
    await wait_until(lambda: subject.caught_up(session, urls), timeout=SETUP, what=what)
    leader, _ = await cluster.wait_for_agreement(timeout=SETUP)
    return leader


async def final_reads(
    cluster: Cluster, session: aiohttp.ClientSession, recorder: Recorder, keys: list[str],
    timeout: float, leader: str, query: str = "",
) -> list[FinalRead]:  # fmt: skip
    """Read every key from every node (its own copy: ``query``), one read at a time, into
    the history."""
    finals = []
    for name, node in sorted(cluster.nodes.items()):
        process = recorder.new_process()
        for key in keys:
            recorder.record(process, "invoke", "read", key, None)
            answer = await request(session, "read", node.url, key, None, timeout, query)
            recorder.record(process, answer.type, "read", key, answer.value, answer.node,
                            answer.role)  # fmt: skip
            if answer.type != "ok":
                process = recorder.new_process()
                continue
            finals.append(FinalRead(name, name == leader, key, answer.value))
    return finals


# --8<-- [start:run_trial]
async def run_trial(config: TrialConfig, run: int, seed: int, out: Path) -> TrialResult:
    """One run, from a fresh cluster to a named verdict; every process stopped after."""
    names = [f"n{i}" for i in range(1, config.nodes + 1)]
    evidence = out / f"run-{run}"  # the nodes' logs and data, kept if the run went wrong
    subject = under_test(config.stage, config.election, names, evidence.with_suffix(".data"))
    processes = Processes()
    cluster = Cluster(processes, stage=subject.stage)
    history = evidence.with_suffix(".jsonl")
    try:
        await cluster.start_registry()
        await asyncio.gather(*(cluster.start_node(n, 0, *subject.flags(n)) for n in names))
        await cluster.wait_for_agreement(timeout=SETUP)
        workload = WorkloadConfig(
            urls=tuple(cluster.nodes[name].url for name in names),
            clients=config.clients, keys=config.keys, duration=config.time,
            timeout=config.timeout, route=config.route, seed=seed, key_prefix=f"r{run}-",
        )  # fmt: skip
        nemesis = Nemesis(cluster, random.Random(seed), config.faults,
                          config.interval, config.down, subject.flags)  # fmt: skip
        timeout = aiohttp.ClientTimeout(total=config.timeout)
        with history.open("w", encoding="utf-8") as lines:
            clients = asyncio.create_task(run_workload(workload, lines))
            await nemesis.run(clients.done)
            recorder = await clients
            async with aiohttp.ClientSession(timeout=timeout) as session:
                leader = await settle(cluster, session, subject)
                keys = [f"{workload.key_prefix}k{i}" for i in range(config.keys)]
                finals = await final_reads(cluster, session, recorder, keys, config.timeout,
                                           leader, subject.read_query)  # fmt: skip
                digests = {n: await subject.digest(session, cluster.nodes[n].url) for n in names}
    finally:
        processes.stop_all()
        save_logs(processes, evidence.with_suffix(".logs"))
    result = judge(config, run, seed, history, recorder, finals, digests, nemesis.log)
    if result.linearizable and not result.findings:
        for kept in (".logs", ".data"):
            shutil.rmtree(evidence.with_suffix(kept), ignore_errors=True)
    return result


# --8<-- [end:run_trial]


def save_logs(processes: Processes, where: Path) -> None:
    """Each process's log (every life of a restarted node, one after the other) in
    ``where/NAME.log``."""
    where.mkdir(parents=True, exist_ok=True)
    for process in processes.started:
        args = process.args
        name = args[args.index("--name") + 1] if "--name" in args else "registry"
        with (where / f"{name}.log").open("a", encoding="utf-8") as log:
            log.write(f"--- ddb {' '.join(args)} (exit {process.proc.returncode}) ---\n")
            log.write(process.log + "\n")


def judge(
    config: TrialConfig, run: int, seed: int, history: Path, recorder: Recorder,
    finals: list[FinalRead], digests: dict[str, str | None], faults: list[str],
) -> TrialResult:  # fmt: skip
    """Check the history, name its anomalies, and draw the first key that failed."""
    lines = history.read_text(encoding="utf-8").splitlines()
    ops = read_history(lines)
    deadline = time.monotonic() + config.check_timeout
    verdict = check(ops, out_of_time=lambda: time.monotonic() > deadline)
    roles = {number: json.loads(line).get("role") for number, line in enumerate(lines, 1)}
    findings = name_anomalies(ops, finals, digests, verdict.linearizable, roles)
    result = TrialResult(run, seed, verdict.linearizable, recorder.operations, recorder.unknown,
                         findings, faults, history, digests=digests)  # fmt: skip
    if verdict.failed:
        key = verdict.failed[0]
        result.svg = history.with_suffix(".svg")
        result.svg.write_text(history_svg([op for op in ops if op.key == key.key], key))
    return result
