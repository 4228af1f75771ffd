"""The baseline: a bare aiohttp app with the v1 server's routes and response bodies.

It keeps the same contract for the requests the benchmark sends (the same status codes,
headers that matter, and bodies, the JSON ones ending in a newline) and nothing else: no
key validation, no size limit beyond aiohttp's own, no middleware, no JSON errors. What the
v1 server costs above this app is what our validation and error handling cost::

    python -m bench.bare --port 0
"""

from __future__ import annotations

import argparse
import json
import os

from aiohttp import web

from stages.v1_kv.runner import add_server_arguments, configure_logging, listen, serve

DATA = web.AppKey("data", dict)


def _json(body: object, status: int = 200) -> web.Response:
    text = json.dumps(body) + "\n"
    return web.Response(text=text, status=status, content_type="application/json")


# --8<-- [start:bare_handlers]
async def put_value(request: web.Request) -> web.Response:
    key = request.match_info["key"]
    value = await request.read()
    created = key not in request.app[DATA]
    request.app[DATA][key] = value
    return _json({"key": key, "size": len(value), "created": created}, 201 if created else 200)


async def get_value(request: web.Request) -> web.Response:
    value = request.app[DATA].get(request.match_info["key"])
    if value is None:
        raise web.HTTPNotFound()
    return web.Response(body=value, content_type="application/octet-stream")


# --8<-- [end:bare_handlers]


async def delete_value(request: web.Request) -> web.Response:
    if request.app[DATA].pop(request.match_info["key"], None) is None:
        raise web.HTTPNotFound()
    return web.Response(status=204)


async def list_keys(request: web.Request) -> web.Response:
    prefix = request.query.get("prefix", "")
    return _json({"keys": sorted(k for k in request.app[DATA] if k.startswith(prefix))})


async def health(request: web.Request) -> web.Response:
    keys = len(request.app[DATA])
    return _json({"status": "ok", "service": "kv", "keys": keys, "pid": os.getpid()})


def create_bare_app() -> web.Application:
    app = web.Application()
    app[DATA] = {}
    app.router.add_put("/kv/{key:.*}", put_value)
    app.router.add_get("/kv/{key:.*}", get_value)
    app.router.add_delete("/kv/{key:.*}", delete_value)
    app.router.add_get("/kv", list_keys)
    app.router.add_get("/health", health)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bare", description=__doc__)
    add_server_arguments(parser, default_port=9200)
    args = parser.parse_args()
    configure_logging(args.log_level, "bare")
    serve(create_bare_app(), listen(args.host, args.port), args.host)


if __name__ == "__main__":
    main()
