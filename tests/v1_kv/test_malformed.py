"""Malformed requests: a JSON 400 where our code can answer, one log line where aiohttp does.

A body that cannot be decoded (``Content-Encoding: gzip`` over bytes that are
not gzip, broken chunks) reaches our handlers as an error while reading; the
middleware answers it as ``400 invalid_body``. A request that aiohttp's parser
refuses before any handler runs is answered by aiohttp itself (text/plain, no
supported hook to change it); the server logs it as one line, never a traceback.
"""

from __future__ import annotations

import asyncio
import gzip
import random

import pytest
from aiohttp.test_utils import TestClient

from stages.v1_kv.server import create_app
from workbench.harness import Processes, wait_until

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
async def client(aiohttp_client) -> TestClient:
    return await aiohttp_client(create_app())


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
async def test_a_body_that_is_not_what_its_content_encoding_says_is_400_json(
    client: TestClient, encoding: str
) -> None:
    resp = await client.put(
        "/kv/a", data=b"this is not compressed", headers={"Content-Encoding": encoding}
    )
    assert resp.status == 400
    body = await resp.json()
    assert body["error"]["code"] == "invalid_body"
    assert f"Can not decode content-encoding: {encoding}" in body["error"]["message"]
    assert (await client.get("/kv/a")).status == 404, "nothing was stored"
    assert (await client.get("/health")).status == 200


async def test_a_real_gzip_body_is_stored_decompressed(client: TestClient) -> None:
    resp = await client.put(
        "/kv/a", data=gzip.compress(b"hello"), headers={"Content-Encoding": "gzip"}
    )
    assert resp.status == 201
    assert await (await client.get("/kv/a")).read() == b"hello"


async def test_a_gzip_body_is_stored_whole_when_its_length_meets_the_wire_length(
    client: TestClient,
) -> None:
    """Content-Length counts the compressed bytes: 65,536 of them here, which unpack to
    165,063. Reading stops at the end of the body, not once 65,536 unpacked bytes are in."""
    value = random.Random(7).randbytes(65_063) + bytes(100_000)
    body = gzip.compress(value, mtime=0)
    assert len(body) == 64 * 1024  # the size that once cut this value short
    resp = await client.put("/kv/a", data=body, headers={"Content-Encoding": "gzip"})
    assert resp.status == 201
    assert (await resp.json())["size"] == len(value)
    assert await (await client.get("/kv/a")).read() == value


async def raw_request(url: str, request: bytes) -> bytes:
    """Send bytes as they are, and read the answer until the server closes."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(request)
        await writer.drain()
        return await asyncio.wait_for(reader.read(1 << 16), timeout=5)
    finally:
        writer.close()


# What aiohttp's parser refuses before our code runs: a text/plain 400, one log line each.
REFUSED_BY_THE_PARSER = {
    "request line over 8,190 bytes": b"GET /kv/" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    "header over 8,190 bytes": b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: "
    + b"b" * 9000
    + b"\r\n\r\n",
    "Content-Length and Transfer-Encoding": b"PUT /kv/a HTTP/1.1\r\nHost: x\r\n"
    b"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    "bad chunk size": b"PUT /kv/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"zz\r\nabc\r\n0\r\n\r\n",
}


async def test_requests_the_parser_refuses_get_400_and_one_log_line_each(
    processes: Processes,
) -> None:
    server = processes.start("v1", "server", "--port", "0")
    url = await server.started()
    for what, request in REFUSED_BY_THE_PARSER.items():
        answer = await raw_request(url, request)
        assert answer.split(b" ")[1:2] == [b"400"], f"{what}: {answer[:200]!r}"
    await wait_until(
        lambda: server.log.count("Refused a malformed request") == len(REFUSED_BY_THE_PARSER),
        timeout=5,
        what="one log line per malformed request",
    )
    assert "Traceback" not in server.log, server.log
    health = await raw_request(url, b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert health.startswith(b"HTTP/1.1 200"), "the server still serves"


async def test_a_body_our_code_cannot_decode_is_a_json_400_over_a_raw_socket(
    processes: Processes,
) -> None:
    server = processes.start("v1", "server", "--port", "0")
    url = await server.started()
    answer = await raw_request(
        url,
        b"PUT /kv/a HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\n"
        b"Content-Length: 10\r\n\r\nnot gzip!!",
    )
    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
    assert b"application/json" in answer and b'"invalid_body"' in answer
    assert "Traceback" not in server.log, server.log
