"""The registry's HTTP API, in-process, with a clock the test moves by hand."""

from __future__ import annotations

import os

import pytest
from aiohttp.test_utils import TestClient

from stages.v2_registry.server import RegistryConfig, create_registry_app
from tests.v2_registry.clocks import FakeClock
from workbench.harness import wait_until


@pytest.fixture
async def client(aiohttp_client, clock: FakeClock) -> TestClient:
    return await aiohttp_client(create_registry_app(RegistryConfig(ttl=5.0), clock=clock))


async def error_code(resp, status: int) -> str:
    assert resp.status == status
    body = await resp.json()
    assert body["error"]["message"]
    return body["error"]["code"]


async def test_first_registration_is_201_and_renewal_200(
    client: TestClient, clock: FakeClock
) -> None:
    first = await client.post("/nodes", json={"name": "n1", "port": 8050})
    assert first.status == 201
    body = await first.json()
    assert body["name"] == "n1" and body["port"] == 8050 and body["ttl"] == 5.0
    assert body["host"] == "127.0.0.1"  # taken from the request's remote address
    assert body["url"] == "http://127.0.0.1:8050"
    clock.now += 2
    renewal = await client.post("/nodes", json={"name": "n1", "port": 8050})
    assert renewal.status == 200
    assert (await renewal.json())["registered_seconds_ago"] == 2.0


async def test_an_explicit_host_is_used_as_given(client: TestClient) -> None:
    resp = await client.post("/nodes", json={"name": "n1", "port": 8050, "host": "node1.local"})
    assert (await resp.json())["url"] == "http://node1.local:8050"


async def test_list_is_sorted_with_urls_and_ages(client: TestClient, clock: FakeClock) -> None:
    for name, port in [("n2", 2), ("n1", 1), ("n3", 3)]:
        await client.post("/nodes", json={"name": name, "port": port})
    clock.now += 1.5
    nodes = (await (await client.get("/nodes")).json())["nodes"]
    assert [n["name"] for n in nodes] == ["n1", "n2", "n3"]
    assert nodes[0] == {
        "name": "n1",
        "host": "127.0.0.1",
        "port": 1,
        "url": "http://127.0.0.1:1",
        "last_seen_seconds_ago": 1.5,
    }


async def test_silent_nodes_are_not_listed_after_the_ttl(
    client: TestClient, clock: FakeClock
) -> None:
    await client.post("/nodes", json={"name": "n1", "port": 1})
    await client.post("/nodes", json={"name": "n2", "port": 2})
    clock.now += 4
    await client.post("/nodes", json={"name": "n2", "port": 2})
    clock.now += 1
    nodes = (await (await client.get("/nodes")).json())["nodes"]
    assert [n["name"] for n in nodes] == ["n2"]
    assert await error_code(await client.get("/nodes/n1"), 404) == "node_not_found"


async def test_get_one_node_and_404(client: TestClient) -> None:
    await client.post("/nodes", json={"name": "n1", "port": 8050})
    assert (await (await client.get("/nodes/n1")).json())["port"] == 8050
    assert await error_code(await client.get("/nodes/nope"), 404) == "node_not_found"
    assert await error_code(await client.get("/nodes/bad name"), 400) == "invalid_name"


async def test_delete_is_204_then_404(client: TestClient) -> None:
    await client.post("/nodes", json={"name": "n1", "port": 8050})
    assert (await client.delete("/nodes/n1")).status == 204
    assert await error_code(await client.delete("/nodes/n1"), 404) == "node_not_found"
    assert (await (await client.get("/nodes")).json())["nodes"] == []


async def test_a_live_name_at_another_address_is_409(client: TestClient, clock: FakeClock) -> None:
    await client.post("/nodes", json={"name": "n1", "port": 8050})
    resp = await client.post("/nodes", json={"name": "n1", "port": 9000})
    assert await error_code(resp, 409) == "name_taken"
    clock.now += 5  # expired: the name is free
    assert (await client.post("/nodes", json={"name": "n1", "port": 9000})).status == 201


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{bad", "invalid_json"),
        (b"", "invalid_json"),
        (b"\xff\xfe", "invalid_json"),
        (b"[1, 2]", "invalid_registration"),
        (b'{"name": "n1"}', "invalid_registration"),
        (b'{"name": "n 1", "port": 8050}', "invalid_registration"),
        (b'{"name": "n1", "port": 70000}', "invalid_registration"),
        (b'{"name": "n1", "port": "8050"}', "invalid_registration"),
        (b'{"name": "n1", "port": 8050, "host": "1.2.3.4:5/x"}', "invalid_registration"),
        (b'{"name": "n1", "port": 8050, "host": "a\\u0000b"}', "invalid_registration"),
        (b'{"name": "n1", "port": 8050, "host": "user@host"}', "invalid_registration"),
        (b"[" * 100_000, "invalid_json"),  # deeper than the JSON parser's stack
    ],
)
async def test_bad_registrations_are_400_and_the_registry_keeps_serving(
    client: TestClient, body: bytes, code: str
) -> None:
    resp = await client.post("/nodes", data=body, headers={"Content-Type": "application/json"})
    assert await error_code(resp, 400) == code
    assert (await client.get("/health")).status == 200


async def test_wrong_method_is_405_json(client: TestClient) -> None:
    assert await error_code(await client.put("/nodes"), 405) == "method_not_allowed"


async def test_health_says_it_is_a_registry_with_nodes_ttl_and_pid(client: TestClient) -> None:
    await client.post("/nodes", json={"name": "n1", "port": 8050})
    resp = await client.get("/health")
    assert await resp.json() == {
        "status": "ok",
        "service": "registry",
        "nodes": 1,
        "ttl": 5.0,
        "max_nodes": 1000,
        "pid": os.getpid(),
    }
    assert (await resp.read()).endswith(b"}\n")  # the shell prompt starts on its own line


async def test_the_sweep_forgets_silent_nodes_and_logs_it(aiohttp_client, caplog) -> None:
    caplog.set_level("INFO")
    client = await aiohttp_client(create_registry_app(RegistryConfig(ttl=0.3)))
    await client.post("/nodes", json={"name": "n1", "port": 8050})
    assert "Registered node n1 at 127.0.0.1:8050" in caplog.text
    await wait_until(lambda: "Node n1 expired after" in caplog.text, timeout=3, what="the sweep")


async def test_beyond_max_nodes_new_names_get_a_409_that_says_so(aiohttp_client, caplog) -> None:
    client = await aiohttp_client(create_registry_app(RegistryConfig(max_nodes=3)))
    for i in range(3):
        assert (await client.post("/nodes", json={"name": f"n{i}", "port": 8050 + i})).status == 201
    caplog.set_level("WARNING")
    for _ in range(5):
        resp = await client.post("/nodes", json={"name": "extra", "port": 9000})
        assert await error_code(resp, 409) == "registry_full"
    assert "limit of 3 nodes" in (await resp.json())["error"]["message"]
    assert caplog.text.count("Registry full") == 1, "one warning, not one line per refusal"
    assert (await client.post("/nodes", json={"name": "n0", "port": 8050})).status == 200
    assert len((await (await client.get("/nodes")).json())["nodes"]) == 3


async def test_a_full_registry_of_a_thousand_still_lists_every_entry(aiohttp_client) -> None:
    client = await aiohttp_client(create_registry_app())
    for i in range(1000):
        resp = await client.post("/nodes", json={"name": f"fake{i:04d}", "port": 1 + i})
        assert resp.status == 201
    assert (await client.post("/nodes", json={"name": "one-more", "port": 2})).status == 409
    body = await (await client.get("/nodes")).json()
    assert [n["name"] for n in body["nodes"]] == [f"fake{i:04d}" for i in range(1000)]
