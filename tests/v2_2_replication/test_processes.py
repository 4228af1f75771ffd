"""v2.2 between real processes, started with the same ``ddb`` commands a user types."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path

import aiohttp
import pytest

from workbench.cluster import Cluster
from workbench.harness import DDB, LOADED, SETUP, DdbProcess, Processes, run_ddb, wait_until

pytestmark = pytest.mark.timeout(120)


class ReplicatedCluster(Cluster):
    late_flags: tuple[str, ...] = ()  # for a node that is not one of the first three

    async def start_node(self, name: str, port: int = 0, *flags: str) -> DdbProcess:
        node = self.processes.start(
            "v2.2", "node", "-ra", self.registry, "--name", name, "--port", str(port), *flags
        )
        self.nodes[name] = node
        await node.started(timeout=SETUP)
        return node


@pytest.fixture(params=["bully", "quorum"])
async def three(processes: Processes, request) -> ReplicatedCluster:
    cluster = ReplicatedCluster(processes)
    await cluster.start_registry()
    flags = ("--election", "quorum", "--voters", "n1,n2,n3") if request.param == "quorum" else ()
    await cluster.start_nodes(["n1", "n2", "n3"], *flags)
    await cluster.wait_for_agreement(timeout=SETUP)
    cluster.late_flags = (*flags, "--non-voter") if flags else ()
    return cluster


async def get(url: str) -> tuple[int, bytes, dict[str, str]]:
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session,
        session.get(url) as resp,
    ):
        return resp.status, await resp.read(), dict(resp.headers)


# Slow: four real nodes, with each election. Real v2.2 nodes taking a write through a
# follower, everywhere, and a paused one catching up, are test_dashboard_processes.py's;
# redirects and copies with both elections, and a late node's catch-up, test_node_http.py's
# (in-process).
@pytest.mark.slow
async def test_three_nodes_redirect_writes_store_them_everywhere_and_catch_up_a_fourth(
    three: ReplicatedCluster,
) -> None:
    leader, _ = await three.wait_for_agreement(timeout=SETUP)
    follower = min(name for name in three.nodes if name != leader)
    async with (
        aiohttp.ClientSession() as session,
        session.put(f"{three.nodes[follower].url}/kv/k", data=b"v", allow_redirects=False) as resp,
    ):
        assert resp.status == 307
        assert resp.headers["Location"] == f"{three.nodes[leader].url}/kv/k"
    for i, name in enumerate(three.nodes):  # ddb kv put to each node in turn
        done = run_ddb("kv", "put", "--url", three.nodes[name].url, f"key{i}", f"value{i}")
        assert done.returncode == 0, done.stderr.decode()
    for name, node in three.nodes.items():
        for i in range(3):
            status, body, headers = await get(f"{node.url}/kv/key{i}")
            assert (status, body) == (200, f"value{i}".encode())
            assert headers["X-DDB-Node"] == name
    late = await three.start_node("n0", 0, *three.late_flags)
    expected = (await get(f"{three.nodes[leader].url}/cluster/replication"))[1]

    async def caught_up() -> bool:
        status, body, _ = await get(f"{late.url}/cluster/replication")
        return status == 200 and json.loads(body)["digest"] == json.loads(expected)["digest"]

    await wait_until(caught_up, timeout=3 + LOADED, what="n0 to copy the leader's store")
    assert (await get(f"{late.url}/kv/key2"))[:2] == (200, b"value2")
    await late.wait_for_log(rf"n0 copied 3 keys from {leader} at term \d+")


@pytest.mark.slow
async def test_a_workload_against_the_leader_without_faults_is_linearizable(
    three: ReplicatedCluster, tmp_path: Path
) -> None:
    urls = [node.url for node in three.nodes.values()]
    out = tmp_path / "history.jsonl"
    proc = await asyncio.create_subprocess_exec(
        *DDB, "workload", *urls, "--route", "leader", "--operations", "1000",
        "--out", str(out), "--check", stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await asyncio.wait_for(proc.communicate(), timeout=90)
    assert proc.returncode == 0, output.decode()
    assert "linearizable: checked 1000 operations" in output.decode()
