"""The v1 HTTP server: a :class:`~stages.v1_kv.backend.KVBackend` behind an aiohttp app.

Routes::

    PUT    /kv/{key}   store the raw request body (201 new, 200 replaced)
    GET    /kv/{key}   the stored bytes (404 if absent)
    DELETE /kv/{key}   remove it (204, or 404 if absent)
    GET    /kv         {"keys": [...]} sorted, optional ?prefix=
    GET    /health     {"status": "ok", "service": "kv", "keys": N, "pid": P}

:func:`create_app` builds the application; nothing here starts a server, so
tests (and the later stages, which extend this app) can build it freely. The
handlers reach the data only through the backend: v1's :class:`LocalKV` by
default, another one from a later stage.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes

from aiohttp import web
from aiohttp.typedefs import Middleware

from stages.v1_kv.backend import KVBackend, LocalKV
from stages.v1_kv.commands import Delete, Put
from stages.v1_kv.errors import ApiError, Handler, json_errors
from stages.v1_kv.store import InvalidKey, KVStore, validate_key

DEFAULT_MAX_VALUE_BYTES = 1024 * 1024


@dataclass(frozen=True)
class ServerConfig:
    """What a v1 server needs to know; the CLI fills it from its flags."""

    max_value_bytes: int = DEFAULT_MAX_VALUE_BYTES


BACKEND = web.AppKey("backend", KVBackend)  # where the handlers read and write
STORE = web.AppKey("store", KVStore)  # set only when the backend is a LocalKV: its store
CONFIG = web.AppKey("config", ServerConfig)


# What may follow /kv/ in a request line: characters, or % and two hex digits.
_PERCENT_ENCODED = re.compile(r"(?:[^%]|%[0-9A-Fa-f]{2})*")


# --8<-- [start:key_from_path]
def _key(request: web.Request) -> str:
    """The key is everything after ``/kv/``, percent-decoded as UTF-8, strictly.

    aiohttp leaves an escape it cannot decode as it is, so ``/kv/%FF`` and
    ``/kv/%25FF`` would both reach the key ``%FF``. One key, one spelling: a path
    that is not valid percent-encoded UTF-8 is refused instead.
    """
    path = request.rel_url.raw_path  # as sent, without the query
    raw = path.removeprefix("/kv/")
    try:
        if raw == path:  # "/kv%2Fa": the route matched only once the slash was decoded
            raise InvalidKey("write the path as /kv/KEY, with the slash after kv as it is")
        if "%" in raw and not _PERCENT_ENCODED.fullmatch(raw):
            raise InvalidKey("a '%' in the path must start an escape such as %25 (for '%')")
        try:
            key = unquote_to_bytes(raw).decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidKey("the key's percent-escapes are not UTF-8 text") from None
        validate_key(key)
    except InvalidKey as exc:
        raise ApiError(400, "invalid_key", str(exc)) from None
    return key


# --8<-- [end:key_from_path]


def _not_found(key: str) -> ApiError:
    return ApiError(404, "key_not_found", f"no value is stored under the key {key!r}")


# --8<-- [start:read_value]
def _too_large(limit: int) -> ApiError:
    return ApiError(
        413, "value_too_large", f"the value is larger than the server's limit of {limit} bytes"
    )


async def _read_value(request: web.Request) -> bytes:
    """Read the body, refusing it as soon as it is known to be over the limit."""
    limit = request.app[CONFIG].max_value_bytes
    announced = request.content_length
    if announced is not None and announced > limit:
        raise _too_large(limit)  # refused from the header alone, before reading a byte
    # A compressed body's Content-Length counts the bytes on the wire, not the ones aiohttp
    # hands us once it has decompressed them, so only a plain body's length says when it ends.
    plain = announced if "Content-Encoding" not in request.headers else None
    body = bytearray()
    while len(body) != plain:  # once a plain body's bytes are in, no read waits for the end
        chunk = await request.content.read(64 * 1024)
        if not chunk:
            break  # the end of the body
        body += chunk
        if len(body) > limit:  # chunked uploads carry no Content-Length
            raise _too_large(limit)
    return bytes(body)


# --8<-- [end:read_value]


# --8<-- [start:handlers]
async def put_value(request: web.Request) -> web.Response:
    key = _key(request)
    value = await _read_value(request)
    result = await request.app[BACKEND].write(Put(key, value))
    created = not result.existed
    body = {"key": key, "size": len(value), "created": created}
    return web.json_response(body, status=201 if created else 200)


async def get_value(request: web.Request) -> web.Response:
    key = _key(request)
    value = await request.app[BACKEND].read(key)
    if value is None:
        raise _not_found(key)
    return web.Response(body=value, content_type="application/octet-stream")


async def delete_value(request: web.Request) -> web.Response:
    key = _key(request)
    result = await request.app[BACKEND].write(Delete(key))
    if not result.existed:
        raise _not_found(key)
    return web.Response(status=204)


async def list_keys(request: web.Request) -> web.Response:
    prefix = request.query.get("prefix", "")
    return web.json_response({"keys": await request.app[BACKEND].keys(prefix)})


async def health(request: web.Request) -> web.Response:
    """Alive; what this server is, and its process id (``kill -9 PID`` needs no guessing)."""
    keys = await request.app[BACKEND].count()
    return web.json_response({"status": "ok", "service": "kv", "keys": keys, "pid": os.getpid()})


# --8<-- [end:handlers]


@web.middleware
async def json_ends_with_newline(request: web.Request, handler: Handler) -> web.StreamResponse:
    """End every JSON body with a newline, so that ``curl``'s output does not run into the
    shell's prompt. Every server in the project puts this outside its other middlewares."""
    response = await handler(request)
    if isinstance(response, web.Response) and response.content_type == "application/json":
        body = response.body
        if isinstance(body, bytes) and not body.endswith(b"\n"):
            response.body = body + b"\n"
    return response


# --8<-- [start:create_app]
def create_app(
    config: ServerConfig | None = None,
    middlewares: Sequence[Middleware] = (),
    *,
    backend: KVBackend | None = None,
) -> web.Application:
    """Build the v1 application: one backend, five routes, JSON errors.

    ``middlewares`` run inside ``json_errors`` (a later stage adds its checks here).
    ``backend`` is where the handlers read and write: v1's ``LocalKV`` unless a later
    stage passes its own.
    """
    app = web.Application(middlewares=[json_ends_with_newline, json_errors, *middlewares])
    app[CONFIG] = config or ServerConfig()
    backend = backend if backend is not None else LocalKV()
    app[BACKEND] = backend
    if isinstance(backend, LocalKV):
        app[STORE] = backend.store
    app.router.add_put("/kv/{key:.*}", put_value)
    app.router.add_get("/kv/{key:.*}", get_value)
    app.router.add_delete("/kv/{key:.*}", delete_value)
    app.router.add_get("/kv", list_keys)
    app.router.add_get("/health", health)
    return app


# --8<-- [end:create_app]
