"""KVClient against a real aiohttp server on a loopback port."""

from __future__ import annotations

import asyncio

import pytest

from stages.v1_kv.client import KeyNotFound, KVClient, RequestFailed, ServerUnavailable
from stages.v1_kv.server import ServerConfig, create_app


@pytest.fixture
async def kv(aiohttp_server):
    server = await aiohttp_server(create_app(ServerConfig(max_value_bytes=4096)))
    async with KVClient(str(server.make_url(""))) as client:
        yield client


async def test_put_get_delete_round_trip(kv: KVClient) -> None:
    assert await kv.put("users/42", b"\x00\xffdata") is True
    assert await kv.put("users/42", b"new") is False
    assert await kv.get("users/42") == b"new"
    assert await kv.keys("users/") == ["users/42"]
    await kv.delete("users/42")
    assert await kv.keys() == []


async def test_keys_with_dot_segments_are_not_normalised(kv: KVClient) -> None:
    await kv.put("a/../b", b"1")
    await kv.put("./x", b"2")
    assert await kv.keys() == ["./x", "a/../b"]
    assert await kv.get("a/../b") == b"1"


async def test_missing_key_raises_key_not_found(kv: KVClient) -> None:
    with pytest.raises(KeyNotFound, match="nope"):
        await kv.get("nope")
    with pytest.raises(KeyNotFound):
        await kv.delete("nope")


async def test_server_errors_become_request_failed_with_code(kv: KVClient) -> None:
    with pytest.raises(RequestFailed) as info:
        await kv.put("big", b"x" * 5000)
    assert (info.value.status, info.value.code) == (413, "value_too_large")


async def test_unreachable_server_raises_server_unavailable(unused_tcp_port: int) -> None:
    async with KVClient(f"http://127.0.0.1:{unused_tcp_port}", timeout=2) as kv:
        with pytest.raises(ServerUnavailable, match="cannot reach"):
            await kv.get("k")


async def test_one_client_serves_many_concurrent_calls(kv: KVClient) -> None:
    await asyncio.gather(*(kv.put(f"k{i}", str(i).encode()) for i in range(200)))
    values = await asyncio.gather(*(kv.get(f"k{i}") for i in range(200)))
    assert values == [str(i).encode() for i in range(200)]
