"""Every client survives a registry that answers nonsense, with a one-line error.

The registry itself refuses hosts no URL can carry (see ``test_models``); these
tests stand in for a server that is not our registry at all, or a broken one.
"""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from stages.v1_kv.client import InvalidReply
from stages.v2_registry.client import RegistryClient
from stages.v2_registry.node import MEMBERSHIP, NodeConfig, create_node_app
from workbench.harness import DDB, wait_until

pytestmark = pytest.mark.timeout(30)

NONSENSE = {
    "not JSON": (b"<html>hello</html>", "text/html"),
    "no nodes field": (b'{"peers": []}', "application/json"),
    "a list": (b"[1, 2, 3]", "application/json"),
    "a bad host": (
        b'{"nodes": [{"name": "n1", "host": "1.2.3.4:5/x", "port": 5, '
        b'"last_seen_seconds_ago": 0}], "ttl": 5}',
        "application/json",
    ),
    "a NUL in a host": (
        b'{"nodes": [{"name": "n1", "host": "a\\u0000b", "port": 5, '
        b'"last_seen_seconds_ago": 0}], "ttl": 5}',
        "application/json",
    ),
    "a port out of range": (
        b'{"nodes": [{"name": "n1", "host": "h", "port": 0, "last_seen_seconds_ago": 0}]}',
        "application/json",
    ),
}


async def nonsense_registry(aiohttp_server, body: bytes, content_type: str) -> TestServer:
    async def answer(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type=content_type)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    return await aiohttp_server(app)


@pytest.mark.parametrize("kind", NONSENSE)
async def test_the_registry_client_raises_invalid_reply_for_nonsense(aiohttp_server, kind) -> None:
    server = await nonsense_registry(aiohttp_server, *NONSENSE[kind])
    async with RegistryClient(str(server.make_url(""))) as client:
        with pytest.raises(InvalidReply, match="is not the server expected here"):
            await client.nodes()


@pytest.mark.parametrize("kind", NONSENSE)
async def test_ddb_nodes_prints_one_line_for_a_registry_that_answers_nonsense(
    aiohttp_server, kind
) -> None:
    server = await nonsense_registry(aiohttp_server, *NONSENSE[kind])
    proc = await asyncio.create_subprocess_exec(
        *DDB,
        "nodes",
        "--registry",
        str(server.make_url("")).rstrip("/"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        _, stderr = await asyncio.wait_for(proc.communicate(), timeout=20)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 1, stderr
    lines = stderr.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ddb: error:"), lines
    assert "is not the server expected here" in lines[0]


async def test_a_node_keeps_running_against_a_registry_that_answers_nonsense(
    aiohttp_server, aiohttp_client, caplog
) -> None:
    server = await nonsense_registry(aiohttp_server, *NONSENSE["a bad host"])
    config = NodeConfig("n1", str(server.make_url("")).rstrip("/"), 9001, heartbeat_interval=0.1)
    app = create_node_app(config)
    node = await aiohttp_client(app)
    await wait_until(
        lambda: app[MEMBERSHIP].failures >= 3, timeout=10, what="three failed heartbeats"
    )
    assert "is not the server expected here" in caplog.text
    assert (await node.get("/health")).status == 200, "the node serves on regardless"
    assert (await node.put("/kv/a", data=b"1")).status == 201
