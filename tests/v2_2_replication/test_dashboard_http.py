"""The v2.2 dashboard's ``/api/copies/{key}`` in-process, over nodes that are small fakes.

Each child is a sleeping process (so pause and resume act on a real process state), and an
in-process fake node listens on its port: ``/kv/{key}`` from a dict, ``/cluster/replication``
with a digest. The stage's look is replaced by one that says n1 leads.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import aiohttp
import pytest
from aiohttp import web

from stages.v1_kv.errors import ApiError, json_errors
from stages.v2_1_election.watch import ElectionSeen
from tests.demo import sleeping_children
from workbench.demo.dashboard import create_dashboard_app
from workbench.demo.replication import KEPT_KEYS, REPLICATION_STAGE, Copy, ReplicationWatch
from workbench.demo.supervisor import Child, Supervisor
from workbench.harness import wait_until

NODES = ("n1", "n2", "n3")


def fake_node(name: str, store: dict[str, str]) -> web.Application:
    async def get_value(request: web.Request) -> web.Response:
        key = request.match_info["key"]
        if key not in store:
            raise ApiError(404, "key_not_found", f"no key {key!r}")
        return web.Response(body=store[key].encode())

    async def replication(request: web.Request) -> web.Response:
        return web.json_response({"name": name, "digest": f"{name}-{sorted(store.items())}"})

    app = web.Application(middlewares=[json_errors])
    app.router.add_get("/kv/{key}", get_value)
    app.router.add_get("/cluster/replication", replication)
    return app


async def n1_leads(session: aiohttp.ClientSession, child: Child, age: float | None):
    role = "leader" if child.name == "n1" else "follower"
    return ElectionSeen(child.name, child.url, child.pid, child.state(), age, role, 1, "n1", True)


@pytest.fixture
def supervisor(unused_tcp_port_factory) -> Iterator[Supervisor]:
    with sleeping_children(NODES, unused_tcp_port_factory) as supervisor:
        yield supervisor


@pytest.fixture
async def stores(aiohttp_server, supervisor: Supervisor) -> dict[str, dict[str, str]]:
    stores: dict[str, dict[str, str]] = {name: {} for name in NODES}
    for name, child in supervisor.children.items():
        await aiohttp_server(fake_node(name, stores[name]), port=child.port)
    return stores


@pytest.fixture
async def client(aiohttp_client, supervisor: Supervisor, stores):
    stage = dataclasses.replace(REPLICATION_STAGE, look=n1_leads)
    client = await aiohttp_client(create_dashboard_app(supervisor, stage))

    async def leader_known() -> bool:
        return (await (await client.get("/api/copies/k")).json())["leader"] == "n1"

    await wait_until(leader_known, timeout=5.0, what="the dashboard's first look")
    return client


async def copies(client, key: str) -> dict[str, dict]:
    resp = await client.get(f"/api/copies/{key}")
    assert resp.status == 200
    body = await resp.json()
    assert body["key"] == key and body["leader"] == "n1"
    return {copy["name"]: copy for copy in body["copies"]}


@pytest.mark.timeout(30)
async def test_copies_show_each_nodes_value_and_digest_with_the_leader_marked(
    client, stores
) -> None:
    for store in stores.values():
        store["greeting"] = "hello"
    shown = await copies(client, "greeting")
    assert list(shown) == list(NODES)
    assert [copy["leader"] for copy in shown.values()] == [True, False, False]
    assert all(c["found"] and c["value"] == "hello" and c["live"] for c in shown.values())
    assert not any(copy["stale"] for copy in shown.values())
    assert shown["n2"]["digest"] == "n2-[('greeting', 'hello')]"


@pytest.mark.timeout(30)
async def test_a_copy_that_differs_from_the_leaders_or_is_missing_is_stale(client, stores) -> None:
    stores["n1"]["greeting"], stores["n2"]["greeting"] = "new", "old"
    shown = await copies(client, "greeting")
    assert (shown["n2"]["value"], shown["n2"]["stale"]) == ("old", True)
    assert (shown["n3"]["found"], shown["n3"]["value"], shown["n3"]["stale"]) == (False, None, True)
    assert shown["n1"]["stale"] is False


@pytest.mark.timeout(30)
async def test_a_paused_node_shows_its_last_known_copy_as_stale(client, stores) -> None:
    for store in stores.values():
        store["greeting"] = "before"
    await copies(client, "greeting")  # the dashboard learns every copy
    assert (await client.post("/api/nodes/n3/pause")).status == 200
    stores["n1"]["greeting"] = stores["n2"]["greeting"] = stores["n3"]["greeting"] = "after"
    shown = await copies(client, "greeting")
    n3 = shown["n3"]
    assert (n3["process"], n3["live"], n3["value"], n3["stale"]) == (
        "paused",
        False,
        "before",
        True,
    )
    assert n3["digest"] == "n3-[('greeting', 'before')]"
    assert shown["n2"]["value"] == "after" and not shown["n2"]["stale"]


@pytest.mark.timeout(30)
async def test_a_node_never_heard_from_shows_no_copy(client, stores) -> None:
    assert (await client.post("/api/nodes/n2/pause")).status == 200
    shown = await copies(client, "greeting")
    assert shown["n2"]["live"] is False and shown["n2"]["found"] is False
    assert shown["n2"]["digest"] is None


def test_the_last_known_copies_are_kept_for_a_bounded_number_of_keys() -> None:
    watch = ReplicationWatch()
    for i in range(KEPT_KEYS + 5):
        watch.remember(f"k{i}", "n1", Copy(True, str(i)))
    watch.remember("k5", "n2", Copy())  # asked again: kept as the latest
    watch.remember("new", "n1", Copy())
    assert len(watch.copies) == KEPT_KEYS
    assert "k5" in watch.copies and "k6" not in watch.copies and "k7" in watch.copies
    assert watch.copies["k5"] == {"n1": Copy(True, "5"), "n2": Copy()}
