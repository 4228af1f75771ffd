"""v1's ``KVClient`` follows a 307 itself: method, body and token kept, loops refused."""

from __future__ import annotations

import aiohttp
import pytest
from aiohttp import web

from stages.v1_kv.client import ClientError, KVClient

pytestmark = pytest.mark.timeout(30)


async def test_the_client_keeps_method_body_and_token_and_refuses_a_loop(aiohttp_server) -> None:
    seen: list[tuple[str, bytes, str | None]] = []

    async def hop(request: web.Request) -> web.Response:
        seen.append((request.method, await request.read(), request.headers.get("Authorization")))
        if request.path == "/kv/loop":
            raise web.HTTPTemporaryRedirect(str(request.url))
        if request.path == "/kv/a":
            raise web.HTTPTemporaryRedirect(str(request.url.with_path("/kv/b")))
        return web.json_response({"key": "b"}, status=201)

    app = web.Application()
    app.router.add_route("*", "/kv/{key}", hop)
    server = await aiohttp_server(app)
    async with aiohttp.ClientSession(headers={"Authorization": "Bearer t"}) as session:
        kv = KVClient(str(server.make_url("")), session=session)  # as `ddb kv` builds it
        assert await kv.put("a", b"v") is True
        assert seen == [("PUT", b"v", "Bearer t"), ("PUT", b"v", "Bearer t")]
        with pytest.raises(ClientError, match="redirect in a loop"):
            await kv.put("loop", b"v")
