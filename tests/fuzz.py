"""Generated HTTP requests for the fuzz tests, and the properties every answer must have.

Each app's fuzz test mixes two kinds of request:

* **valid** ones, built to be accepted, whose effect a model (a plain dict, or a
  second election core) predicts exactly;
* **junk**: any method, a path full of escapes (``%00``, ``%FF``, a stray ``%``,
  ``..``, thousands of characters), random headers, and bodies that are broken
  JSON, the wrong JSON, NaN, deep nesting, bytes that are not UTF-8, or gzip and
  deflate bodies that are right, wrong, or lying about their encoding.

Every answer: no 5xx, and every 4xx is the project's JSON error. At the end the
state the valid requests touched equals the model's. Junk is built so that it can
never name what the valid requests use (its last path segment always holds a
character no valid name has), so whatever junk did, the comparison is exact.

Profiles (``tests/conftest.py``): ``ci``, the default, is derandomized with no
example database, so every run tries the same examples; ``--hypothesis-profile=long``
tries ten times as many, at random.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
from hypothesis import strategies as st
from yarl import URL

# Methods our routes may see. (A method aiohttp's parser does not know, such as BREW, is
# refused by the parser before any app code runs: one of the text/plain answers the
# v1 page lists under "what remains".)
METHODS = ["GET", "PUT", "POST", "DELETE", "PATCH", "HEAD", "OPTIONS"]
# Never a character of a valid key or name: junk always puts one in its last segment.
MARKERS = ["~", "!", "%25", "%00", "%FF", "%C3", "%zz", "%", "%7E", "%21", "%0A", "%1B", "%7F"]
SAFE = "abcxyz019-_.:@;=+,$&'()*"


@dataclass(frozen=True)
class Req:
    method: str
    path: str  # percent-encoded, sent exactly as written
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    valid: bool = False  # built to be accepted; its effect is modelled
    label: str = ""  # what the model needs to know (an operation, a message)
    payload: Any = None


# -- pieces of junk ----------------------------------------------------------------------

segment = st.one_of(
    st.text(SAFE, max_size=12),
    st.sampled_from(["..", ".", "", "%2e%2e", "%2F", "%2f..%2f"]),
    st.builds(lambda b: f"%{b:02X}", st.integers(0, 255)),
    st.builds(lambda n, c: c * n, st.integers(500, 3000), st.sampled_from("a%.~")),  # very long
)


@st.composite
def junk_tail(draw: st.DrawFn) -> str:
    """Path segments after a route's prefix; the last always holds a marker."""
    middle = draw(st.lists(segment, max_size=3))
    last = draw(st.text(SAFE, max_size=6)) + draw(st.sampled_from(MARKERS))
    last += draw(st.text(SAFE, max_size=6))
    return "/".join([*middle, last])


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def _json_text(value: Any) -> bytes:
    return json.dumps(value).encode()  # NaN and Infinity as Python writes them, not JSON


broken_bodies = st.one_of(
    st.binary(max_size=64),
    json_values.map(_json_text),
    st.sampled_from(
        [
            b"{",
            b'{"a": }',
            b"NaN",
            b'{"term": NaN}',
            b"[" * 5000,  # deeper than the parser's stack
            b'"\xff\xfe"',  # not UTF-8
            b"\xff" * 8,
            b"{}" * 3,
            b'{"term": 1' + b"0" * 5000 + b"}",  # a number with 5,000 digits
        ]
    ),
)


@st.composite
def junk_headers(draw: st.DrawFn) -> dict[str, str]:
    names = st.sampled_from(
        ["X-Junk", "Accept", "Content-Type", "Authorization", "Cookie", "Range", "If-Match"]
    )
    values = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40)
    return draw(st.dictionaries(names, values, max_size=3))


ENCODINGS = ["gzip", "deflate", "br", "identity", "x-bogus"]


def encode(body: bytes, encoding: str) -> bytes:
    if encoding == "gzip":
        return gzip.compress(body)
    if encoding == "deflate":
        return zlib.compress(body)
    return body


@st.composite
def junk_request(draw: st.DrawFn, prefixes: list[str]) -> Req:
    path = draw(st.sampled_from(prefixes)) + draw(junk_tail())
    if draw(st.booleans()):
        path += "?" + draw(st.text(SAFE + "%=&", max_size=20))
    headers = dict(draw(junk_headers()))
    body = draw(broken_bodies)
    if draw(st.integers(0, 3)) == 0:  # a Content-Encoding, right or lying
        encoding = draw(st.sampled_from(ENCODINGS))
        headers["Content-Encoding"] = encoding
        if draw(st.booleans()):
            body = encode(body, encoding)
    method = draw(st.sampled_from(METHODS))
    if method == "HEAD" and "Content-Encoding" in headers:
        # aiohttp's parser refuses an encoding it cannot decode (br, a truncated deflate)
        # with a body, which an answer to HEAD must not have, so the client cannot read it:
        # a quirk of the parser, outside our code (see PARSER_REFUSALS below).
        method = "GET"
    return Req(method, path, headers, body)


@st.composite
def oversized(draw: st.DrawFn, path: str, limit: int) -> Req:
    """A body over a server's limit, sent plain or as a small gzip that inflates past it."""
    body = b"x" * (limit + draw(st.integers(1, 4096)))
    if draw(st.booleans()):
        return Req("PUT", path, {"Content-Encoding": "gzip"}, gzip.compress(body))
    return Req("PUT", path, {}, body)


# -- sending, and the properties of every answer ---------------------------------------


@dataclass
class Answer:
    status: int
    content_type: str
    body: bytes


async def send(session: aiohttp.ClientSession, base: URL, req: Req) -> Answer:
    url = URL(str(base).rstrip("/") + req.path, encoded=True)
    headers = {"Content-Type": "application/octet-stream", **req.headers}
    async with session.request(
        req.method, url, data=req.body or None, headers=headers, skip_auto_headers=["Content-Type"]
    ) as resp:
        return Answer(resp.status, resp.content_type, await resp.read())


# Refusals that aiohttp's HTTP parser answers itself, as text/plain, before any app code
# runs (the Security page lists them): a Content-Encoding it cannot decode (br without
# the Brotli package), and a deflate body that ends before its stream does (found by
# this fuzzer: the parser checks that at the end of the body, outside any handler).
PARSER_REFUSALS = (b"Can not decode content-encoding: brotli", b"deflate")


def check_answer(req: Req, answer: Answer) -> None:
    """No 5xx; every error our code produces is our JSON error shape."""
    where = f"{req.method} {req.path[:120]} -> {answer.status}: {answer.body[:200]!r}"
    assert answer.status < 500, where
    if answer.status == 400 and answer.content_type == "text/plain":
        assert answer.body.startswith(PARSER_REFUSALS), where
        return
    if answer.status >= 400 and req.method != "HEAD":
        assert answer.content_type == "application/json", where
        error = json.loads(answer.body)["error"]
        assert isinstance(error["code"], str) and isinstance(error["message"], str), where


async def run_against(
    app: web.Application,
    requests: list[Req],
    on_valid: Callable[[Req, Answer], None],
    ready: Callable[[aiohttp.ClientSession, URL], Awaitable[None]] | None = None,
) -> None:
    """Serve ``app`` on loopback, send every request, check each answer."""
    server = TestServer(app)
    await server.start_server()
    try:
        timeout = aiohttp.ClientTimeout(total=10)
        # A connection per request: after a body it cannot decode and a handler did not
        # read, aiohttp's server closes the connection once it has answered, and a client
        # that reuses it sees "Server disconnected" on its next request.
        connector = aiohttp.TCPConnector(force_close=True)
        async with aiohttp.ClientSession(
            timeout=timeout, auto_decompress=False, connector=connector
        ) as session:
            base = server.make_url("/")
            if ready is not None:
                await ready(session, base)
            for req in requests:
                answer = await send(session, base, req)
                check_answer(req, answer)
                if req.valid:
                    on_valid(req, answer)
    finally:
        await server.close()


def run(coro: Awaitable[None]) -> None:
    """Hypothesis calls plain functions: each example gets an event loop of its own."""
    asyncio.run(coro)  # type: ignore[arg-type]
