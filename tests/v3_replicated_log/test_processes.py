"""v3.0 between real processes, started with the same ``ddb`` commands a user types: a write
through a follower, reads from every node, and the value still there after ``kill -9``."""

from __future__ import annotations

import asyncio
import re
import subprocess
from pathlib import Path

import aiohttp
import pytest
from multidict import CIMultiDict

from workbench.cluster import Cluster
from workbench.harness import DDB, SETUP, Processes, wait_until

pytestmark = pytest.mark.timeout(120)

NAMES = ["n1", "n2", "n3"]


@pytest.fixture
async def three(processes: Processes, tmp_path: Path) -> Cluster:
    cluster = Cluster(processes, stage="v3")
    await cluster.start_registry()
    voters = ("--voters", ",".join(NAMES))
    await asyncio.gather(
        *(cluster.start_node(n, 0, *voters, "--data-dir", str(tmp_path / n)) for n in NAMES)
    )
    await cluster.wait_for_agreement(timeout=SETUP)
    return cluster


async def read(session: aiohttp.ClientSession, url: str) -> tuple[int, bytes, CIMultiDict[str]]:
    async with session.get(url, allow_redirects=False) as resp:
        return resp.status, await resp.read(), CIMultiDict(resp.headers)


async def test_a_write_through_a_follower_is_read_everywhere_and_survives_the_leaders_kill_9(
    three: Cluster,
) -> None:
    leader, _ = await three.wait_for_agreement(timeout=SETUP)
    follower = min(name for name in three.nodes if name != leader)
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        async with session.put(f"{three.nodes[follower].url}/kv/k", data=b"v") as resp:
            assert resp.status == 201, await resp.text()
            assert [r.status for r in resp.history] == [307]  # followed to the leader
            index = int(resp.headers["X-Raft-Index"])
            version = resp.headers["ETag"]
        status, body, headers = await read(session, f"{three.nodes[leader].url}/kv/k")
        assert (status, body, headers["ETag"]) == (200, b"v", version)
        assert int(headers["X-Raft-Index"]) >= index  # linearizable: the leader confirmed it

        for name, node in three.nodes.items():  # then each node's own applied state

            async def applied(url: str = f"{node.url}/kv/k?consistency=stale") -> bool:
                status, body, headers = await read(session, url)
                return status == 200 and body == b"v" and headers["ETag"] == version

            await wait_until(applied, timeout=SETUP, what=f"{name} to apply index {index}")

        three.nodes[leader].kill()
        survivors = [name for name in three.nodes if name != leader]
        new_leader, _ = await three.wait_for_agreement(timeout=SETUP, names=survivors)
        assert new_leader != leader
        status, body, headers = await read(session, f"{three.nodes[new_leader].url}/kv/k")
        assert (status, body, headers["ETag"]) == (200, b"v", version)


async def workload(three: Cluster, out: Path, *flags: str) -> asyncio.subprocess.Process:
    urls = [node.url for node in three.nodes.values()]
    return await asyncio.create_subprocess_exec(
        *DDB, "workload", *urls, "--route", "random", "--out", str(out), "--check", *flags,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip


# Slow: 500 operations through real nodes. A v3 workload over real processes, checked, is
# the nemesis run's (tests/workbench/test_nemesis_processes.py, with a leader killed too);
# `ddb workload` itself is test_workload_processes.py's.
@pytest.mark.slow
async def test_a_workload_through_any_node_is_linearizable(three: Cluster, tmp_path: Path) -> None:
    proc = await workload(three, tmp_path / "history.jsonl", "--operations", "500")
    output, _ = await asyncio.wait_for(proc.communicate(), timeout=90)
    assert proc.returncode == 0, output.decode()
    assert "linearizable: checked 500 operations" in output.decode()


@pytest.mark.slow
async def test_a_workload_stays_linearizable_when_the_leader_is_killed(
    three: Cluster, tmp_path: Path
) -> None:
    leader, _ = await three.wait_for_agreement(timeout=SETUP)
    proc = await workload(three, tmp_path / "history.jsonl", "--time", "6")
    url = f"{three.nodes[leader].url}/cluster/log"

    async def busy() -> bool:  # the leader has taken some of the workload's writes
        async with aiohttp.ClientSession() as session, session.get(url) as resp:
            return int((await resp.json())["applied"]) >= 50

    await wait_until(busy, timeout=SETUP, what=f"{leader} to apply 50 entries")
    three.nodes[leader].kill()
    output, _ = await asyncio.wait_for(proc.communicate(), timeout=90)
    assert proc.returncode == 0, output.decode()
    assert "linearizable: checked" in output.decode()
    survivors = [name for name in three.nodes if name != leader]
    assert (await three.wait_for_agreement(timeout=SETUP, names=survivors))[0] != leader


# Slow: three restarts of real processes. A restarted node replaying its log is
# test_node_http.py's (in-process) and test_wal.py's; a leader's kill -9 with its value
# kept, the first test here; the nemesis run kills and restarts a v3 leader too.
@pytest.mark.slow
async def test_every_node_killed_and_restarted_finds_its_log_and_the_value(
    three: Cluster, tmp_path: Path
) -> None:
    """The write-ahead log on disk: after ``kill -9`` of the whole cluster, the restarted
    nodes elect from what they kept, and the acknowledged write is still there."""
    leader, term = await three.wait_for_agreement(timeout=SETUP)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        async with session.put(f"{three.nodes[leader].url}/kv/k", data=b"kept") as resp:
            assert resp.status == 201, await resp.text()
            version = resp.headers["ETag"]
        for node in three.nodes.values():
            node.kill()
        voters = ("--voters", ",".join(NAMES))
        await asyncio.gather(
            *(three.start_node(n, 0, *voters, "--data-dir", str(tmp_path / n)) for n in NAMES)
        )
        for node in three.nodes.values():
            await node.wait_for_log(r"/log: \d+ entries, term [1-9]", timeout=SETUP)
        # The old leader learned its no-op committed from replies, which persist nothing;
        # the write's save carried that commit index along, a hint for this start.
        assert re.search(r"/log: 2 entries, term \d+, voted for \w+, commit [12]\b",
                         three.nodes[leader].log), three.nodes[leader].log  # fmt: skip
        new_leader, new_term = await three.wait_for_agreement(timeout=SETUP)
        assert new_term > term  # the terms were kept: no term is used twice
        status, body, headers = await read(session, f"{three.nodes[new_leader].url}/kv/k")
        assert (status, body, headers["ETag"]) == (200, b"kept", version)
