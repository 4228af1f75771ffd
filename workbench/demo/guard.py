"""The dashboard's guard: it acts only for its own page, at 127.0.0.1.

The dashboard can kill the demo's processes, so what another web site's page could make a
browser send to it must be refused (see the security page).
"""

from __future__ import annotations

from aiohttp import web

from stages.v1_kv.errors import ApiError, Handler


@web.middleware
async def only_this_page(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse what another web site could make a browser send here.

    A page from anywhere may POST to 127.0.0.1 (and would kill a node); the browser then
    says where it comes from in ``Origin``. A name that resolves to 127.0.0.1 (DNS
    rebinding) shows in ``Host``. ``curl`` sends no ``Origin``, and is welcome.
    """
    host = request.host.rsplit(":", 1)[0]
    if host not in ("127.0.0.1", "localhost"):
        raise ApiError(403, "forbidden", f"this dashboard answers only to 127.0.0.1, not {host}")
    origin = request.headers.get("Origin")
    if request.method != "GET" and origin is not None and origin != f"http://{request.host}":
        raise ApiError(403, "forbidden", f"a page from {origin} may not act on this demo")
    return await handler(request)
