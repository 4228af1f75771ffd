"""Blocking queries: ``GET /nodes?index=N&wait=S`` answers when the list moves on from N.

Polling a list that rarely changes costs a request each time for nothing, and still hears
of a change only at the next poll. Consul's blocking queries (and etcd's and Kubernetes'
watches) turn it around: every answer carries the list's ``index``, which grows whenever a
node joins or leaves (not when one renews; a silent node counts as left when the sweep
removes it, up to ``ttl / 5`` after the listing stopped showing it); a client that passes
back the index it has is answered as soon as the index differs, or after ``wait`` seconds. A node
therefore keeps one such question open, and hears of a newcomer within a round trip.

An index from another registry (one that restarted since) simply differs, so the answer
comes at once: the first index of each run is random, never 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable

import aiohttp
from aiohttp import web

from stages.v1_kv.client import ClientError
from stages.v1_kv.errors import ApiError
from stages.v2_registry.client import RegistryClient
from stages.v2_registry.models import NodeInfo

log = logging.getLogger(__name__)

DEFAULT_WAIT = 30.0  # seconds a blocking query is held, when it does not say
MAX_WAIT = 300.0  # and at most, whatever it says


def first_index(rng: random.Random | None = None) -> int:
    """Where a registry's index starts: a random number, so that a restart shows."""
    return (rng or random.SystemRandom()).randrange(1, 2**31)


class Changes:
    """Wakes every query waiting for the list to change."""

    def __init__(self) -> None:
        self._changed = asyncio.Event()

    def notify(self) -> None:
        self._changed.set()  # wakes those waiting now; later ones wait for the next change
        self._changed = asyncio.Event()

    async def wait(self, seconds: float) -> None:
        """Until the next change, or ``seconds``."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._changed.wait()


def blocking_query(request: web.Request) -> tuple[int | None, float]:
    """``index`` (None: answer at once) and ``wait`` from the query, or a 400 saying why."""
    index_text, wait_text = request.query.get("index"), request.query.get("wait")
    if index_text is None:
        if wait_text is not None:
            raise ApiError(400, "invalid_query", "'wait' needs an 'index' to wait on")
        return None, 0.0
    if not (index_text.isascii() and index_text.isdigit()) or len(index_text) > 18:
        raise ApiError(
            400,
            "invalid_query",
            f"'index' must be the index of an earlier answer; got {index_text!r}",
        )
    wait = DEFAULT_WAIT
    if wait_text is not None:
        try:
            wait = float(wait_text)
        except ValueError:
            wait = -1.0
        if not 0 < wait <= MAX_WAIT:  # also refuses nan and inf
            raise ApiError(
                400,
                "invalid_query",
                f"'wait' must be a number of seconds above 0 and at most {MAX_WAIT:g}; "
                f"got {wait_text!r}",
            )
    return int(index_text), wait


# --8<-- [start:follow]
async def follow(
    url: str,
    session: aiohttp.ClientSession,
    timeout: float,
    every: float,
    take: Callable[[list[NodeInfo], float], None],
) -> None:
    """Forever: keep a blocking query open at the registry at ``url``, and hand each answer
    to ``take`` with the time. Each call may take ``timeout`` beyond the registry's wait.

    The next query goes at most every ``every`` seconds, so a registry whose list keeps
    changing (a flood of made-up names) is asked no more often than a poll would ask it;
    while it is away, it is tried every ``every`` seconds.
    """
    registry = RegistryClient(url, timeout=DEFAULT_WAIT + timeout, session=session)
    index: int | None = None
    while True:
        asked = time.monotonic()
        try:
            nodes, index = await registry.watch_nodes(index, DEFAULT_WAIT)
        except ClientError as exc:
            log.debug("Could not watch the registry's list: %s", exc)
            index = None
        else:
            take(nodes, time.monotonic())
        await asyncio.sleep(max(0.0, asked + every - time.monotonic()))


# --8<-- [end:follow]
