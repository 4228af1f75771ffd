"""The seam: the handlers reach the data only through the app's ``KVBackend``.

A fake backend records what the handlers ask of it, so these tests see every command a
request turns into, and that the backend's answer alone chooses the status. The last
tests check that v1's own backend, ``LocalKV``, answers byte for byte as v1 always has.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from aiohttp.test_utils import TestClient
from yarl import URL

from stages.v1_kv.backend import KVBackend, LocalKV
from stages.v1_kv.commands import Command, Delete, Put, WriteResult
from stages.v1_kv.server import BACKEND, STORE, ServerConfig, create_app
from stages.v1_kv.store import KVStore


@dataclass
class RecordingBackend:
    """Answers what it is told to, and writes down every call."""

    existed: bool = False
    value: bytes | None = None
    listing: list[str] = field(default_factory=list)
    size: int = 0
    calls: list[object] = field(default_factory=list)

    async def write(self, command: Command) -> WriteResult:
        self.calls.append(command)
        return WriteResult(existed=self.existed)

    async def read(self, key: str) -> bytes | None:
        self.calls.append(("read", key))
        return self.value

    async def keys(self, prefix: str = "") -> list[str]:
        self.calls.append(("keys", prefix))
        return self.listing

    async def count(self) -> int:
        self.calls.append(("count",))
        return self.size


async def client_for(aiohttp_client, backend: KVBackend) -> TestClient:
    return await aiohttp_client(create_app(ServerConfig(max_value_bytes=100), backend=backend))


async def test_put_hands_the_backend_one_put_with_the_decoded_key_and_raw_body(
    aiohttp_client,
) -> None:
    backend = RecordingBackend(existed=False)
    client = await client_for(aiohttp_client, backend)
    resp = await client.put(URL("/kv/users/42%20%C3%A9", encoded=True), data=b"\x00bytes\xff")
    assert resp.status == 201
    assert await resp.json() == {"key": "users/42 é", "size": 7, "created": True}
    assert backend.calls == [Put("users/42 é", b"\x00bytes\xff")]


async def test_the_backends_answer_alone_makes_a_put_a_replace(aiohttp_client) -> None:
    backend = RecordingBackend(existed=True)
    client = await client_for(aiohttp_client, backend)
    resp = await client.put("/kv/k", data=b"v")
    assert resp.status == 200
    assert await resp.json() == {"key": "k", "size": 1, "created": False}
    assert backend.calls == [Put("k", b"v")]


async def test_delete_hands_the_backend_one_delete_and_204s_when_the_key_existed(
    aiohttp_client,
) -> None:
    backend = RecordingBackend(existed=True)
    client = await client_for(aiohttp_client, backend)
    resp = await client.delete("/kv/k")
    assert resp.status == 204
    assert backend.calls == [Delete("k")]


async def test_delete_of_a_key_the_backend_did_not_have_is_the_usual_404(aiohttp_client) -> None:
    backend = RecordingBackend(existed=False)
    client = await client_for(aiohttp_client, backend)
    resp = await client.delete("/kv/k")
    assert resp.status == 404
    assert await resp.read() == (
        b'{"error": {"code": "key_not_found", "message": "no value is stored under the key'
        b" 'k'\"}}\n"
    )
    assert backend.calls == [Delete("k")]


async def test_get_only_reads_through_the_backend(aiohttp_client) -> None:
    backend = RecordingBackend(value=b"hello")
    client = await client_for(aiohttp_client, backend)
    resp = await client.get("/kv/greeting")
    assert resp.status == 200
    assert await resp.read() == b"hello"
    backend.value = None
    assert (await client.get("/kv/gone")).status == 404
    assert backend.calls == [("read", "greeting"), ("read", "gone")]


async def test_listing_and_health_come_from_the_backend(aiohttp_client) -> None:
    backend = RecordingBackend(listing=["a/1", "a/2"], size=7)
    client = await client_for(aiohttp_client, backend)
    assert await (await client.get("/kv?prefix=a/")).json() == {"keys": ["a/1", "a/2"]}
    assert (await (await client.get("/health")).json())["keys"] == 7
    assert backend.calls == [("keys", "a/"), ("count",)]


@pytest.mark.parametrize(
    ("method", "path", "body", "code"),
    [
        ("PUT", "/kv/%FF", b"v", "invalid_key"),  # not UTF-8
        ("PUT", "/kv/", b"v", "invalid_key"),  # empty
        ("PUT", "/kv/k", b"x" * 101, "value_too_large"),  # over the limit of 100 bytes
        ("DELETE", "/kv/%00", b"", "invalid_key"),  # a control character
        ("GET", "/kv/100%", b"", "invalid_key"),  # a stray %
    ],
)
async def test_a_refused_request_never_reaches_the_backend(
    aiohttp_client, method: str, path: str, body: bytes, code: str
) -> None:
    backend = RecordingBackend()
    client = await client_for(aiohttp_client, backend)
    resp = await client.request(method, URL(path, encoded=True), data=body)
    assert (await resp.json())["error"]["code"] == code
    assert backend.calls == []


def test_commands_are_plain_values_equal_by_content_and_hashable() -> None:
    assert Put("k", b"v") == Put("k", b"v")
    assert Put("k", b"v") != Put("k", b"w")
    assert Delete("k") != Put("k", b"")
    assert len({Put("k", b"v"), Put("k", b"v"), Delete("k"), Delete("k")}) == 2
    with pytest.raises(AttributeError):
        Put("k", b"v").key = "other"  # type: ignore[misc]


def test_the_store_applies_a_command_as_its_own_methods_would() -> None:
    store = KVStore()
    assert store.apply(Put("k", b"v")) == WriteResult(existed=False)
    assert store.apply(Put("k", b"w")) == WriteResult(existed=True)
    assert store.get("k") == b"w"
    assert store.apply(Delete("k")) == WriteResult(existed=True)
    assert store.apply(Delete("k")) == WriteResult(existed=False)
    assert len(store) == 0


def test_the_default_backend_is_a_local_kv_over_the_apps_store() -> None:
    app = create_app()
    backend = app[BACKEND]
    assert isinstance(backend, LocalKV)
    assert app[STORE] is backend.store


def test_an_app_with_another_backend_has_no_v1_store() -> None:
    app = create_app(backend=RecordingBackend())
    assert STORE not in app


async def test_local_kv_applies_each_write_to_its_store_at_once() -> None:
    store = KVStore()
    kv = LocalKV(store)
    assert await kv.write(Put("b", b"2")) == WriteResult(existed=False)
    assert store.get("b") == b"2"  # no waiting: applied before write() returned
    await kv.write(Put("a", b"1"))
    assert await kv.read("a") == b"1"
    assert await kv.keys() == ["a", "b"]
    assert await kv.count() == 2
    assert await kv.write(Delete("a")) == WriteResult(existed=True)
    assert await kv.read("a") is None


async def test_the_default_backend_answers_byte_for_byte_as_v1_always_has(
    aiohttp_client,
) -> None:
    client: TestClient = await aiohttp_client(create_app())

    async def exchange(method: str, path: str, body: bytes = b"") -> tuple[int, str, bytes]:
        resp = await client.request(method, path, data=body)
        return resp.status, resp.content_type, await resp.read()

    json, octets = "application/json", "application/octet-stream"
    assert await exchange("PUT", "/kv/greeting", b"hello") == (
        201,
        json,
        b'{"key": "greeting", "size": 5, "created": true}\n',
    )
    assert await exchange("PUT", "/kv/greeting", b"hello!") == (
        200,
        json,
        b'{"key": "greeting", "size": 6, "created": false}\n',
    )
    assert await exchange("PUT", "/kv/users/42", b"") == (
        201,
        json,
        b'{"key": "users/42", "size": 0, "created": true}\n',
    )
    assert await exchange("GET", "/kv/greeting") == (200, octets, b"hello!")
    assert await exchange("GET", "/kv") == (200, json, b'{"keys": ["greeting", "users/42"]}\n')
    assert await exchange("GET", "/kv?prefix=users/") == (200, json, b'{"keys": ["users/42"]}\n')
    status, _, body = await exchange("GET", "/health")
    assert status == 200
    assert body.startswith(b'{"status": "ok", "service": "kv", "keys": 2, "pid": ')
    assert await exchange("DELETE", "/kv/greeting") == (204, "application/octet-stream", b"")
    not_found = (
        b'{"error": {"code": "key_not_found", "message": "no value is stored under the key'
        b" 'greeting'\"}}\n"
    )
    assert await exchange("DELETE", "/kv/greeting") == (404, json, not_found)
    assert await exchange("GET", "/kv/greeting") == (404, json, not_found)
