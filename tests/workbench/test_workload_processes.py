"""``ddb workload --check`` against real servers, started as a user starts them.

One v1 server is one correct register per key: every history it gives is linearizable. Three
v2.1 nodes elect a leader but keep three independent stores, so clients that talk to any of
them see a write on one node and miss it on the next: not linearizable, and the checker
shows the read that cannot be placed. That is why v2.2 replicates.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path

import pytest

from workbench.cluster import Cluster
from workbench.harness import DDB, SETUP, Processes

pytestmark = pytest.mark.timeout(90)


async def workload(tmp_path: Path, *args: str) -> tuple[int, str, list[dict]]:
    out = tmp_path / "history.jsonl"
    proc = await asyncio.create_subprocess_exec(
        *DDB,
        "workload",
        *args,
        "--out",
        str(out),
        "--check",
        "--svg",
        str(tmp_path / "h.svg"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode is not None
    events = [json.loads(line) for line in out.read_text().splitlines()]
    return proc.returncode, output.decode(), events


async def test_one_v1_server_gives_a_linearizable_history(
    processes: Processes, tmp_path: Path
) -> None:
    server = processes.start("v1", "server", "--port", "0")
    url = await server.started()
    status, output, events = await workload(tmp_path, url, "--operations", "2000")
    assert status == 0, output
    assert "linearizable: checked 2000 operations over 3 keys" in output
    assert sum(e["type"] == "ok" for e in events) == 2000
    assert {e["f"] for e in events} == {"read", "write"}
    assert (tmp_path / "h.svg").read_text().startswith("<svg")
    again, output, later = await workload(tmp_path, url, "--operations", "300")
    assert again == 0, output  # fresh keys: the second run reads nothing of the first
    assert {e["key"] for e in events}.isdisjoint({e["key"] for e in later})


async def test_a_url_where_nothing_succeeds_is_an_error_not_a_history(
    processes: Processes, tmp_path: Path
) -> None:
    url = await processes.start("v1", "server", "--port", "0").started()
    status, output, _ = await workload(tmp_path, f"{url}/not-the-kv", "--operations", "40")
    assert status == 3
    assert "ddb: error: none of 40 operations succeeded" in output


async def test_three_v2_1_nodes_with_their_own_stores_are_not_linearizable(
    processes: Processes, tmp_path: Path
) -> None:
    cluster = Cluster(processes)
    await cluster.start_registry()
    await cluster.start_nodes(["n1", "n2", "n3"])
    await cluster.wait_for_agreement(timeout=SETUP)
    urls = [cluster.nodes[name].url for name in ("n1", "n2", "n3")]
    status, output, events = await workload(tmp_path, *urls, "--operations", "600")
    assert status == 1, output
    assert "cannot place: " in output and "NOT linearizable" in output
    assert len({e.get("node") for e in events if e["type"] == "ok"}) == 3  # every node answered
    svg = (tmp_path / "h.svg").read_text()
    assert "not linearizable" in svg and "#ef9a9a" in svg  # the stuck operation, in red
