"""Blocking queries: ``GET /nodes?index=N&wait=S`` answers as soon as the list moves on.

Pure (the index), then in-process with a clock the test moves by hand.
"""

from __future__ import annotations

import asyncio
import random
import time

import pytest
from aiohttp.test_utils import TestClient

from stages.v2_registry.blocking import MAX_WAIT, first_index
from stages.v2_registry.client import RegistryClient
from stages.v2_registry.registry import Registry
from stages.v2_registry.server import RegistryConfig, create_registry_app
from tests.v2_registry.clocks import FakeClock

pytestmark = pytest.mark.timeout(30)


def test_the_index_moves_when_a_node_joins_or_leaves_and_not_when_it_renews() -> None:
    told: list[int] = []  # the index at each call of on_change: the watchers are woken
    registry = Registry(ttl=5.0, first_index=100, on_change=lambda: told.append(registry.index))
    registry.register("n1", "127.0.0.1", 1, now=0.0)
    assert registry.index == 101
    registry.register("n1", "127.0.0.1", 1, now=1.0)  # a heartbeat
    assert registry.index == 101
    registry.register("n2", "127.0.0.1", 2, now=1.0)
    registry.deregister("n2")
    registry.deregister("n2")  # unknown by now: nothing changes
    assert registry.index == 103
    registry.expire(now=6.5)  # n1 is silent since 1.0: gone
    assert registry.index == 104 and registry.entries(6.5) == []
    registry.expire(now=9.0)  # nothing left to expire
    assert registry.index == 104
    assert told == [101, 102, 103, 104], "told once each time the index moved, and only then"


def test_a_registry_starts_at_a_random_index_so_a_restart_shows() -> None:
    rng = random.Random(4)
    assert len({first_index(rng) for _ in range(100)}) == 100
    assert all(first_index(rng) > 0 for _ in range(100))


@pytest.fixture
async def client(aiohttp_client, clock: FakeClock) -> TestClient:
    return await aiohttp_client(create_registry_app(RegistryConfig(ttl=0.5), clock=clock))


async def listing(client: TestClient, query: str = "") -> dict:
    resp = await client.get("/nodes" + query)
    assert resp.status == 200
    return await resp.json()


async def still_waiting(task: asyncio.Task, seconds: float = 0.2) -> bool:
    done, _ = await asyncio.wait([task], timeout=seconds)
    return not done


async def test_a_query_with_the_current_index_is_answered_when_a_node_joins(
    client: TestClient,
) -> None:
    index = (await listing(client))["index"]
    query = asyncio.create_task(listing(client, f"?index={index}&wait=20"))
    assert await still_waiting(query), "nothing changed: the registry holds the answer"
    await client.post("/nodes", json={"name": "n1", "port": 8050})
    answer = await asyncio.wait_for(query, timeout=5)
    assert answer["index"] == index + 1
    assert [node["name"] for node in answer["nodes"]] == ["n1"]


async def test_a_deregistration_and_an_expiry_answer_the_waiting_queries(
    client: TestClient, clock: FakeClock
) -> None:
    for name in ("n1", "n2"):
        await client.post("/nodes", json={"name": name, "port": 8050 if name == "n1" else 8051})
    index = (await listing(client))["index"]
    query = asyncio.create_task(listing(client, f"?index={index}&wait=20"))
    assert await still_waiting(query)
    await client.delete("/nodes/n2")
    answer = await asyncio.wait_for(query, timeout=5)
    assert [node["name"] for node in answer["nodes"]] == ["n1"]
    query = asyncio.create_task(listing(client, f"?index={answer['index']}&wait=20"))
    clock.now += 1.0  # n1 falls silent past its TTL: the sweep (every 0.1 s) expires it
    answer = await asyncio.wait_for(query, timeout=5)
    assert answer["nodes"] == []


async def test_a_renewal_wakes_nobody_and_the_wait_ends_with_the_same_list(
    client: TestClient,
) -> None:
    await client.post("/nodes", json={"name": "n1", "port": 8050})
    index = (await listing(client))["index"]
    query = asyncio.create_task(listing(client, f"?index={index}&wait=0.5"))
    await client.post("/nodes", json={"name": "n1", "port": 8050})  # a heartbeat
    assert await still_waiting(query, 0.2)
    answer = await asyncio.wait_for(query, timeout=5)
    assert answer["index"] == index and len(answer["nodes"]) == 1


async def test_an_index_from_before_a_restart_is_answered_at_once(client: TestClient) -> None:
    index = (await listing(client))["index"]
    answer = await asyncio.wait_for(listing(client, f"?index={index + 7}&wait=20"), timeout=2)
    assert answer["index"] == index


@pytest.mark.parametrize(
    "query",
    [
        "?index=abc",
        "?index=-1",
        "?index=1&wait=0",
        "?index=1&wait=-2",
        f"?index=1&wait={MAX_WAIT + 1:g}",
        "?index=1&wait=nan",
        "?index=1&wait=inf",
        "?index=1&wait=soon",
        "?wait=5",
        "?index=" + "9" * 40,
        "?index=\u00b2",  # a digit to str.isdigit, not to int()
    ],
)
async def test_a_bad_blocking_query_is_a_400_saying_what_is_wrong(
    client: TestClient, query: str
) -> None:
    resp = await client.get("/nodes" + query)
    assert resp.status == 400
    body = await resp.json()
    assert body["error"]["code"] == "invalid_query" and body["error"]["message"]


async def test_the_client_watches_the_list(client: TestClient) -> None:
    registry = RegistryClient(str(client.make_url("")).rstrip("/"), timeout=5)
    async with registry:
        nodes, index = await registry.watch_nodes(None, 1.0)
        assert nodes == []
        watch = asyncio.create_task(registry.watch_nodes(index, 3.0))
        assert await still_waiting(watch)
        await registry.register("n1", 8050)
        nodes, again = await asyncio.wait_for(watch, timeout=5)
        assert [node.name for node in nodes] == ["n1"] and again == index + 1


async def test_a_registry_shutting_down_answers_the_waiting_queries(client: TestClient) -> None:
    index = (await listing(client))["index"]
    query = asyncio.create_task(listing(client, f"?index={index}&wait=60"))
    assert await still_waiting(query)
    started = time.monotonic()
    await client.server.close()  # a held query must not hold the shutdown up for a minute
    answer = await asyncio.wait_for(query, timeout=5)
    assert answer["index"] == index
    assert time.monotonic() - started < 2.0
