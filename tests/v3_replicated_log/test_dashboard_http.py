"""The v3.0 dashboard's ``/api/logs`` in-process, over nodes that are small fakes.

Each child is a sleeping process (so pause, resume and kill act on a real process state),
and an in-process fake node listens on its port: ``/cluster/log`` from a dict the test
changes. The leader is whichever node's answer says so.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import web

from tests.demo import sleeping_children
from workbench.demo.dashboard import create_dashboard_app
from workbench.demo.raftlog import RAFT_LOG_STAGE, SHOWN_ENTRIES
from workbench.demo.supervisor import Supervisor

pytestmark = pytest.mark.timeout(30)

NODES = ("n1", "n2", "n3")


def a_log(role: str, last: int, commit: int | None = None, term: int = 2) -> dict[str, Any]:
    """What a v3.0 node's ``GET /cluster/log`` says, with entries 1 .. ``last``."""
    entries = [{"index": i, "term": 1 if i < 3 else term, "command": f"put k{i}"}
               for i in range(1, last + 1)]  # fmt: skip
    commit = last if commit is None else commit
    return {"name": "?", "role": role, "term": term, "leader": "n1", "last_index": last,
            "commit": commit, "applied": commit, "keys": last, "entries": entries[-8:]}  # fmt: skip


def fake_node(logs: dict[str, dict[str, Any]], name: str) -> web.Application:
    async def get_log(request: web.Request) -> web.Response:
        return web.json_response(logs[name])

    app = web.Application()
    app.router.add_get("/cluster/log", get_log)
    return app


@pytest.fixture
def supervisor(unused_tcp_port_factory) -> Iterator[Supervisor]:
    with sleeping_children(NODES, unused_tcp_port_factory) as supervisor:
        yield supervisor


@pytest.fixture
async def logs(aiohttp_server, supervisor: Supervisor) -> dict[str, dict[str, Any]]:
    logs = {"n1": a_log("leader", 5), "n2": a_log("follower", 5), "n3": a_log("follower", 4, 3)}
    for name, child in supervisor.children.items():
        await aiohttp_server(fake_node(logs, name), port=child.port)
    return logs


@pytest.fixture
async def client(aiohttp_client, supervisor: Supervisor, logs):
    return await aiohttp_client(create_dashboard_app(supervisor, RAFT_LOG_STAGE))


async def shown(client) -> tuple[str | None, dict[str, dict[str, Any]]]:
    resp = await client.get("/api/logs")
    assert resp.status == 200
    body = await resp.json()
    return body["leader"], {row["name"]: row for row in body["logs"]}


async def test_logs_show_each_nodes_indexes_and_last_entries_with_the_leader_marked(
    client,
) -> None:
    leader, rows = await shown(client)
    assert leader == "n1" and list(rows) == list(NODES)
    assert [row["leader"] for row in rows.values()] == [True, False, False]
    n3 = rows["n3"]
    assert (n3["live"], n3["process"], n3["role"], n3["term"]) == (True, "running", "follower", 2)
    assert (n3["last_index"], n3["commit"], n3["applied"], n3["behind"]) == (4, 3, 3, 1)
    assert rows["n2"]["behind"] == 0
    assert rows["n1"]["entries"][:3] == [
        {"index": 1, "term": 1, "command": "put k1"},
        {"index": 2, "term": 1, "command": "put k2"},
        {"index": 3, "term": 2, "command": "put k3"},
    ]


async def test_a_paused_follower_shows_its_last_log_falls_behind_and_catches_up_on_resume(
    client, logs
) -> None:
    await shown(client)  # the dashboard learns every log
    assert (await client.post("/api/nodes/n3/pause")).status == 200
    logs["n1"] = a_log("leader", 9)
    logs["n2"] = a_log("follower", 9)
    logs["n3"] = a_log("follower", 9)  # what it would say, could it answer
    _, rows = await shown(client)
    n3 = rows["n3"]
    assert (n3["process"], n3["live"], n3["last_index"], n3["commit"]) == ("paused", False, 4, 3)
    assert n3["behind"] == 5 and len(n3["entries"]) == 4  # its last known log
    assert (rows["n2"]["live"], rows["n2"]["behind"]) == (True, 0)

    assert (await client.post("/api/nodes/n3/resume")).status == 200
    _, rows = await shown(client)
    assert (rows["n3"]["live"], rows["n3"]["last_index"], rows["n3"]["behind"]) == (True, 9, 0)


async def test_a_node_never_heard_from_or_killed_is_unreachable_not_an_error(client) -> None:
    assert (await client.post("/api/nodes/n2/pause")).status == 200
    assert (await client.post("/api/nodes/n3/kill")).status == 200
    _, rows = await shown(client)
    assert (rows["n2"]["live"], rows["n2"]["last_index"], rows["n2"]["behind"]) == (
        False,
        None,
        None,
    )
    assert rows["n2"]["entries"] == []
    assert (rows["n3"]["process"], rows["n3"]["live"]) == ("dead", False)


async def test_without_a_live_leader_no_node_is_behind(client, logs) -> None:
    logs["n1"] = a_log("candidate", 5, term=3)
    _, rows = await shown(client)
    assert all(row["behind"] is None and not row["leader"] for row in rows.values())


@pytest.mark.parametrize(
    "nonsense",
    [{"role": "follower"}, {**a_log("follower", 2), "commit": -1}, [], {**a_log("leader", 2),
     "entries": [{"index": "one", "term": 1, "command": "x"}]}],
)  # fmt: skip
async def test_an_answer_that_is_not_a_log_counts_as_no_answer(client, logs, nonsense) -> None:
    logs["n2"] = nonsense
    _, rows = await shown(client)
    assert rows["n2"]["live"] is False and rows["n1"]["live"] is True


async def test_at_most_the_last_entries_reach_the_page(client, logs) -> None:
    logs["n1"] = {**a_log("leader", 30), "entries": a_log("leader", 30)["entries"] * 4}
    _, rows = await shown(client)
    assert len(rows["n1"]["entries"]) == SHOWN_ENTRIES
