"""The v1 HTTP API, in-process with aiohttp's test client."""

from __future__ import annotations

import asyncio
import os
from urllib.parse import quote

import pytest
from aiohttp.test_utils import TestClient

from stages.v1_kv.server import ServerConfig, create_app


@pytest.fixture
async def client(aiohttp_client) -> TestClient:
    return await aiohttp_client(create_app(ServerConfig(max_value_bytes=1000)))


async def assert_error(resp, status: int, code: str) -> str:
    assert resp.status == status
    assert resp.content_type == "application/json"
    body = await resp.json()
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]["message"]


async def test_put_returns_201_when_new_and_200_when_replaced(client: TestClient) -> None:
    first = await client.put("/kv/greeting", data=b"hello")
    assert first.status == 201
    assert await first.json() == {"key": "greeting", "size": 5, "created": True}
    second = await client.put("/kv/greeting", data=b"hello again")
    assert second.status == 200
    resp = await client.get("/kv/greeting")
    assert resp.status == 200
    assert resp.content_type == "application/octet-stream"
    assert await resp.read() == b"hello again"


async def test_binary_values_come_back_byte_for_byte(client: TestClient) -> None:
    value = bytes(range(256)) * 3
    assert (await client.put("/kv/bin", data=value)).status == 201
    assert await (await client.get("/kv/bin")).read() == value


async def test_empty_value_is_a_value(client: TestClient) -> None:
    assert (await client.put("/kv/empty", data=b"")).status == 201
    resp = await client.get("/kv/empty")
    assert resp.status == 200
    assert await resp.read() == b""


@pytest.mark.parametrize("key", ["users/42", "ключ ✓", "100%", "q?x=1#frag", "sp ace"])
async def test_unicode_and_slashed_keys_round_trip(client: TestClient, key: str) -> None:
    path = "/kv/" + quote(key, safe="/")
    assert (await client.put(path, data=key.encode())).status == 201
    assert await (await client.get(path)).read() == key.encode()
    assert (await (await client.get("/kv")).json())["keys"] == [key]


async def test_get_missing_key_is_404_json(client: TestClient) -> None:
    message = await assert_error(await client.get("/kv/nope"), 404, "key_not_found")
    assert "nope" in message


async def test_delete_returns_204_then_404(client: TestClient) -> None:
    await client.put("/kv/k", data=b"v")
    assert (await client.delete("/kv/k")).status == 204
    await assert_error(await client.delete("/kv/k"), 404, "key_not_found")
    await assert_error(await client.get("/kv/k"), 404, "key_not_found")


async def test_list_is_sorted_and_filtered_by_prefix(client: TestClient) -> None:
    for key in ["b", "a/2", "a/1"]:
        await client.put(f"/kv/{key}", data=b"")
    assert await (await client.get("/kv")).json() == {"keys": ["a/1", "a/2", "b"]}
    assert await (await client.get("/kv?prefix=a/")).json() == {"keys": ["a/1", "a/2"]}


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
async def test_key_over_1024_bytes_is_400(client: TestClient, method: str) -> None:
    resp = await client.request(method, "/kv/" + "k" * 2000, data=b"v")
    message = await assert_error(resp, 400, "invalid_key")
    assert "2000 bytes" in message


async def test_empty_key_is_400(client: TestClient) -> None:
    await assert_error(await client.put("/kv/", data=b"v"), 400, "invalid_key")


async def test_value_over_the_limit_is_413_and_nothing_is_stored(client: TestClient) -> None:
    await assert_error(await client.put("/kv/big", data=b"x" * 1001), 413, "value_too_large")
    await assert_error(await client.get("/kv/big"), 404, "key_not_found")
    assert (await client.put("/kv/big", data=b"x" * 1000)).status == 201


async def test_chunked_value_over_the_limit_is_413(client: TestClient) -> None:
    async def chunks():
        for _ in range(20):
            yield b"x" * 100

    resp = await client.put("/kv/big", data=chunks())
    await assert_error(resp, 413, "value_too_large")
    assert (await client.get("/health")).status == 200


async def test_wrong_method_is_405_json_with_allow_header(client: TestClient) -> None:
    resp = await client.patch("/kv/k", data=b"v")
    await assert_error(resp, 405, "method_not_allowed")
    assert "PUT" in resp.headers["Allow"]


async def test_unknown_route_is_404_json(client: TestClient) -> None:
    await assert_error(await client.get("/nowhere"), 404, "not_found")


async def test_health_says_what_the_server_is_and_its_pid(client: TestClient) -> None:
    resp = await client.get("/health")
    assert resp.status == 200
    assert await resp.json() == {"status": "ok", "service": "kv", "keys": 0, "pid": os.getpid()}


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/health"), ("PUT", "/kv/k"), ("GET", "/kv"), ("GET", "/kv/no")]
)
async def test_every_json_body_ends_with_a_newline(
    client: TestClient, method: str, path: str
) -> None:
    resp = await client.request(method, path, data=b"v")
    body = await resp.read()
    assert resp.content_type == "application/json"
    assert body.endswith(b"}\n") and body.count(b"\n") == 1
    assert int(resp.headers["Content-Length"]) == len(body)


async def test_200_concurrent_writers_are_all_read_back_intact(client: TestClient) -> None:
    values = {f"writer/{i}": f"value {i};".encode() * 20 for i in range(200)}
    statuses = await asyncio.gather(*(client.put(f"/kv/{k}", data=v) for k, v in values.items()))
    assert all(resp.status == 201 for resp in statuses)
    for key, value in values.items():
        assert await (await client.get(f"/kv/{key}")).read() == value
    assert len((await (await client.get("/kv?prefix=writer/")).json())["keys"]) == 200
