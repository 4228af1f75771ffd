"""The v3.0 demo's dashboard over real processes (``ddb v3 demo``, as a user types it): after
a write, ``/api/logs`` shows the three logs committed to the same index; a paused follower
falls behind, and catches up when it resumes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.demo import call, dashboard_url, settled, start_demo
from workbench.harness import SETUP, Processes, wait_until


async def put(url: str, node: str, key: str, value: str) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.put(f"{url}/api/nodes/{node}/kv/{key}", json={"value": value}) as resp,
    ):
        assert resp.status == 200, await resp.text()


async def logs(url: str) -> dict[str, dict[str, Any]]:
    status, body = await call("GET", f"{url}/api/logs")
    assert status == 200, body
    return {row["name"]: row for row in body["logs"]}


def in_step(rows: dict[str, dict[str, Any]], command: str) -> bool:
    """Every node answers, with ``command`` among its last entries, and one index is every
    node's last, committed and applied one: the logs are equal, and wholly applied."""
    every = rows.values()
    indexes = {row[field] for row in every for field in ("last_index", "commit", "applied")}
    return (
        len(indexes) == 1
        and all(row["live"] for row in every)
        and all(command in [entry["command"] for entry in row["entries"]] for row in every)
    )


@pytest.mark.timeout(120)
async def test_after_a_write_every_log_commits_the_same_index_and_a_paused_follower_catches_up(
    processes: Processes, unused_tcp_port_factory, tmp_path: Path
) -> None:
    demo = start_demo(processes, unused_tcp_port_factory, "--data-dir", str(tmp_path), stage="v3")
    url = await dashboard_url(demo)
    state = await settled(url)
    leader = next(n["name"] for n in state["nodes"] if n["role"] == "leader")
    follower = min(n["name"] for n in state["nodes"] if n["name"] != leader)

    await put(url, follower, "greeting", "one")  # the follower's 307 is followed
    rows: dict[str, dict[str, Any]] = {}

    async def settled_on(command: str) -> bool:
        nonlocal rows
        rows = await logs(url)
        return in_step(rows, command)

    await wait_until(lambda: settled_on("put greeting"), timeout=SETUP, what="the logs to agree")
    assert list(rows) == ["n1", "n2", "n3"]
    (leader,) = [name for name, row in rows.items() if row["leader"]]  # one, marked
    follower = min(name for name in rows if name != leader)
    before = rows[follower]["last_index"]

    status, _ = await call("POST", f"{url}/api/nodes/{follower}/pause")
    assert status == 200
    await put(url, leader, "colour", "red")  # a majority: the leader and the other follower
    rows = await logs(url)
    assert (rows[follower]["live"], rows[follower]["last_index"]) == (False, before)
    assert rows[follower]["behind"] >= 1 and rows[leader]["last_index"] > before

    status, _ = await call("POST", f"{url}/api/nodes/{follower}/resume")
    assert status == 200
    await wait_until(
        lambda: settled_on("put colour"), timeout=SETUP, what=f"{follower} to catch up"
    )
    assert demo.stop() == 0
