"""What a v2.2 node refuses: replication from a node that does not lead or from an older
term (409, logged), and bad input (the same clear errors as earlier stages)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestServer

from stages.v2_registry.server import RegistryConfig, create_registry_app
from tests.v2_2_replication.nodes import Nodes, nodes_of

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
async def two(aiohttp_server, unused_tcp_port_factory) -> AsyncIterator[Nodes]:
    registry: TestServer = await aiohttp_server(create_registry_app(RegistryConfig(ttl=1.0)))
    async with nodes_of(registry, unused_tcp_port_factory) as nodes:
        await nodes.start("n1")
        await nodes.start("n2")
        await nodes.agree("n2")
        yield nodes


def replicate(sender: str, term: int, key: str = "k", value: str | None = "dg==") -> dict:
    return {"type": "replicate", "sender": sender, "term": term, "key": key, "value": value}


async def test_a_follower_takes_a_write_from_its_leader_at_its_term(two: Nodes) -> None:
    term = (await two.status("n1"))["term"]
    resp = await two.clients["n1"].post("/cluster/replicate", json=replicate("n2", term))
    assert resp.status == 202
    assert await two.read("n1", "k") == b"v"
    resp = await two.clients["n1"].post("/cluster/replicate", json=replicate("n2", term, "k", None))
    assert resp.status == 202 and await two.read("n1", "k") is None  # a delete


@pytest.mark.parametrize(
    ("sender", "term_delta", "why"),
    [
        ("n9", 0, "n9 does not lead; n1 follows n2"),
        ("n2", -1, "older than n1's term"),
    ],
)
async def test_a_follower_refuses_replication_from_a_non_leader_or_an_older_term_and_logs_it(
    two: Nodes, caplog: pytest.LogCaptureFixture, sender: str, term_delta: int, why: str
) -> None:
    term = (await two.status("n1"))["term"]
    with caplog.at_level(logging.WARNING, logger="stages.v2_2_replication.node"):
        resp = await two.clients["n1"].post(
            "/cluster/replicate", json=replicate(sender, term + term_delta)
        )
    assert resp.status == 409
    error = (await resp.json())["error"]
    assert error["code"] == "not_leader" and why in error["message"]
    assert any(why in r.message and r.levelno == logging.WARNING for r in caplog.records)
    assert await two.read("n1", "k") is None


async def test_the_leader_refuses_replication_from_anyone(two: Nodes) -> None:
    term = (await two.status("n2"))["term"]
    resp = await two.clients["n2"].post("/cluster/replicate", json=replicate("n1", term))
    assert resp.status == 409 and "n2 leads at term" in (await resp.json())["error"]["message"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (replicate("n2", 1, key=""), "invalid_message"),
        (replicate("n2", 1, key="a\nb"), "invalid_message"),
        (replicate("n2", 1, value="not base64!"), "invalid_message"),
        (replicate("n2", 1, value=17), "invalid_message"),
        (replicate("n2", -1), "invalid_message"),
        ({**replicate("n2", 1), "extra": 1}, "invalid_message"),
        ({"type": "replicate", "sender": "n2", "term": 1}, "invalid_message"),
    ],
)
async def test_a_malformed_replication_message_is_a_400(two: Nodes, body: dict, code: str) -> None:
    resp = await two.clients["n1"].post("/cluster/replicate", json=body)
    assert resp.status == 400 and (await resp.json())["error"]["code"] == code


async def test_bad_keys_and_large_values_get_v1s_errors_on_leader_and_follower(two: Nodes) -> None:
    for name in ("n1", "n2"):
        client = two.clients[name]
        resp = await client.put("/kv/%FF", data=b"v", allow_redirects=False)
        assert resp.status == 400 and (await resp.json())["error"]["code"] == "invalid_key"
        resp = await client.put("/kv/big", data=b"x" * (1024 * 1024 + 1), allow_redirects=False)
        assert resp.status == 413 and (await resp.json())["error"]["code"] == "value_too_large"


async def test_a_snapshot_comes_only_from_the_leader(two: Nodes) -> None:
    resp = await two.clients["n1"].get("/cluster/snapshot")
    assert resp.status == 409 and (await resp.json())["error"]["code"] == "not_leader"
    assert (await two.clients["n2"].put("/kv/k", data=b"v")).status == 201
    body = await (await two.clients["n2"].get("/cluster/snapshot")).json()
    assert body == {"leader": "n2", "term": body["term"], "items": {"k": "dg=="}}
