"""What ``ddb workload`` records for each answer a v3.0 node can give, on hand-built servers.

A history must never say ``fail`` for a write that may have happened (the checker would
then rule out a value that someone reads later), and a redirect is followed with its body.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable

import aiohttp
import pytest
from aiohttp import web

from workbench.history.workload import Answer, request

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Serve = Callable[[Handler], Awaitable[str]]
TIMEOUT = 2.0


@pytest.fixture
def serve(aiohttp_server) -> Serve:
    """Start a server on loopback whose every ``/kv/KEY`` request ``handler`` answers."""

    async def start(handler: Handler) -> str:
        app = web.Application()
        app.router.add_route("*", "/kv/{key}", handler)
        server = await aiohttp_server(app)
        return str(server.make_url("")).rstrip("/")

    return start


def answers(status: int, code: str, **more: object) -> Handler:
    """A node that answers every request with this JSON error, as a v3.0 node does."""

    async def handler(_: web.Request) -> web.Response:
        body = {"error": {"code": code, "message": code}, **more}
        return web.json_response(body, status=status, headers={"X-DDB-Node": "n1"})

    return handler


def redirects_to(url: str) -> Handler:
    """A follower: ``307`` to the same path on ``url``."""

    async def handler(request: web.Request) -> web.Response:
        raise web.HTTPTemporaryRedirect(f"{url}{request.path_qs}")

    return handler


async def call(f: str, url: str, timeout: float = TIMEOUT) -> Answer:
    async with aiohttp.ClientSession() as session:
        return await request(session, f, url, "k", 7 if f == "write" else None, timeout)


async def test_a_write_whose_outcome_is_unknown_is_info_not_fail(serve: Serve) -> None:
    url = await serve(answers(503, "outcome_unknown", outcome="unknown"))
    assert await call("write", url) == Answer("info", 7, "n1")


async def test_a_write_refused_for_want_of_a_leader_is_fail(serve: Serve) -> None:
    url = await serve(answers(503, "no_leader"))
    assert await call("write", url) == Answer("fail", 7, "n1")


async def test_a_read_the_leader_could_not_confirm_is_info(serve: Serve) -> None:
    url = await serve(answers(503, "leadership_lost"))
    assert (await call("read", url)).type == "info"


async def test_a_write_to_a_follower_follows_its_307_to_the_leader_with_its_value(
    serve: Serve,
) -> None:
    received: list[bytes] = []

    async def leader(request: web.Request) -> web.Response:
        received.append(await request.read())
        headers = {"X-DDB-Node": "n2", "X-DDB-Role": "leader"}
        return web.json_response({}, status=201, headers=headers)

    follower = await serve(redirects_to(await serve(leader)))
    assert await call("write", follower) == Answer("ok", 7, "n2", "leader")
    assert received == [b"7"]


async def test_a_refused_connection_is_fail_even_after_a_redirect(serve: Serve) -> None:
    with socket.socket() as unused:  # a port nobody listens on
        unused.bind(("127.0.0.1", 0))
        nowhere = f"http://127.0.0.1:{unused.getsockname()[1]}"
    assert await call("write", nowhere) == Answer("fail", 7)
    assert await call("write", await serve(redirects_to(nowhere))) == Answer("fail", 7)


async def test_a_write_without_an_answer_in_time_is_info(serve: Serve) -> None:
    async def paused(_: web.Request) -> web.Response:
        await asyncio.sleep(10 * TIMEOUT)
        return web.json_response({})

    assert await call("write", await serve(paused), timeout=0.2) == Answer("info", 7)
