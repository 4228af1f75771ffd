"""The cluster token: a shared secret that a request must carry to change the cluster.

Without it, anyone who can reach a registry or a node can run the cluster: register
a phantom node, delete a real one and take its name, or send a forged Victory. With
``--cluster-token`` (or ``DDB_CLUSTER_TOKEN``), every request that changes something
must say ``Authorization: Bearer TOKEN``; reads stay open, so ``ddb nodes`` and
``ddb status`` work as before. The comparison takes the same time whatever the
guess (:func:`hmac.compare_digest`), so the answer times do not leak the token.

What it does not do: encrypt. Over plain HTTP anyone on the path reads the token
and the data, so bind the servers to a private network (see the Security page).

The token is a :class:`Secret`, which never shows itself: not in a log line, not in
a config's ``repr``, not in ``--help``, not in ``/health``.
"""

from __future__ import annotations

import argparse
import hmac
import logging
import os
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Middleware

from stages.v1_kv.client import KV_TOKEN_VARIABLE, TOKEN_PATTERN, TOKEN_RULE
from stages.v1_kv.errors import Handler, json_error

log = logging.getLogger(__name__)

CLUSTER_TOKEN_ENV = "DDB_CLUSTER_TOKEN"
KV_TOKEN_ENV = KV_TOKEN_VARIABLE  # the one `ddb kv` sends, too


class Secret:
    """A token that never prints itself; compare it with :meth:`allows`."""

    def __init__(self, value: str) -> None:
        if not TOKEN_PATTERN.fullmatch(value):
            raise ValueError(f"a token is {TOKEN_RULE}")
        self._value = value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def allows(self, authorization: str | None) -> bool:
        """Does this ``Authorization`` header carry the token? Constant time for a wrong one."""
        expected = f"Bearer {self._value}".encode()
        given = (authorization or "").encode("utf-8", "surrogateescape")
        return hmac.compare_digest(given, expected)

    def headers(self) -> dict[str, str]:
        """The header that every outgoing call of a node carries."""
        return {"Authorization": f"Bearer {self._value}"}

    def reveal(self) -> str:
        """The token itself, for the one place that must pass it on (a demo's children)."""
        return self._value


def auth_headers(token: Secret | None) -> dict[str, str]:
    return {} if token is None else token.headers()


def writes(request: web.Request) -> bool:
    """The requests that change something: every method but GET, HEAD and OPTIONS, and every
    request that asks to switch protocols (a WebSocket, such as the stream of messages v2.1's
    peers open with a GET): any ``Upgrade`` header at all, however it is spelled or padded."""
    return "Upgrade" in request.headers or request.method not in ("GET", "HEAD", "OPTIONS")


# --8<-- [start:require_token]
def require_token(token: Secret, guarded: Callable[[web.Request], bool], what: str) -> Middleware:
    """A middleware: the requests ``guarded`` picks need the token, or get a 401.

    It runs before the handler, so a refused request changes nothing, and it reads
    neither the body nor the token from anywhere but the header.
    """

    @web.middleware
    async def check_token(request: web.Request, handler: Handler) -> web.StreamResponse:
        if guarded(request) and not token.allows(request.headers.get("Authorization")):
            log.debug("Refused %s %s: no valid token", request.method, request.path)
            return json_error(
                401,
                "unauthorized",
                f"{request.method} {request.path} needs the {what} token: "
                "send the header 'Authorization: Bearer TOKEN'",
                headers={"WWW-Authenticate": 'Bearer realm="ddb"'},
            )
        return await handler(request)

    return check_token


# --8<-- [end:require_token]


def warn_if_open(who: str) -> Callable[[web.Application], Awaitable[None]]:
    """An on_startup hook: one WARNING that a server without a token trusts everyone."""

    async def warn(app: web.Application) -> None:
        log.warning(
            "%s runs without a cluster token: anyone who can reach it can join or disrupt "
            "the cluster (set --cluster-token or %s)",
            who,
            CLUSTER_TOKEN_ENV,
        )

    return warn


# -- the command line -------------------------------------------------------------------


def add_token_arguments(parser: argparse.ArgumentParser, *, kv: bool = False) -> None:
    """``--cluster-token`` (and ``--kv-token``); the value never appears in ``--help``."""
    parser.add_argument(
        "--cluster-token",
        default=None,
        metavar="TOKEN",
        help="shared secret that every write to the registry and every message between nodes "
        f"must carry; prefer the environment variable {CLUSTER_TOKEN_ENV}, which `ps` does "
        "not show (default: none, anyone may join)",
    )
    if kv:
        parser.add_argument(
            "--kv-token",
            default=None,
            metavar="TOKEN",
            help="secret that every /kv request must carry (or set "
            f"{KV_TOKEN_ENV}; default: none, /kv is open)",
        )


def token_from(flag: str | None, env: str) -> Secret | None:
    """The token from its flag, else from the environment; None if neither is set.

    Raises :class:`ValueError` with a message that does not repeat the token.
    """
    value = flag if flag is not None else os.environ.get(env)
    if value is None or value == "":
        return None
    try:
        return Secret(value)
    except ValueError:
        source = "the flag" if flag is not None else env
        raise ValueError(f"the token given by {source} is not {TOKEN_RULE}") from None
