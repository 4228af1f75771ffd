"""Carrying the election's messages to peers over HTTP, with bounded cost per peer.

The election core says *what* to send (a list of :class:`Send`); this module
sends it, so that no peer, dead, slow or made-up, can cost more than a fixed
share of the node:

* **One lane per peer.** A peer's messages go out one at a time, in order, from
  a small queue; when the queue is full the oldest message is dropped (to the
  algorithm that is a lost message, which it already tolerates). A dead peer
  therefore holds one connection at a time, never a pool.
* **A timeout per message** that only the message itself spends: the session
  has no pool limit to wait behind (the lanes bound the connections instead).
* **Peers that have never answered are probed, sparingly.** Lanes to names the
  node has never had a reply from start from a token bucket: :data:`PROBES_PER_SECOND`
  a second on average, in bursts of :data:`MAX_PROBES` (a candidate's first round
  must reach every peer at once, even peers it has never talked to: in a majority
  vote, followers only ever talk to the leader), and never more than
  :data:`MAX_PROBES` busy at once; messages beyond that are dropped. After a
  failure such a peer rests, twice as long each time, up to :data:`MAX_BACKOFF`.
  A thousand made-up registrations cost next to nothing. A peer that has answered
  before, or sends us a message, is always tried at once: a real node that
  restarts or resumes must hear its leader without delay (and a real newcomer
  sends us a Join first). Only a node's answers count (``202``, or ``503`` from
  one still starting): some other server at a registered address is no peer.
* **Unknown names wait for one refresh.** A reply to a node the registry view
  does not list yet (a newcomer's Join arrives before we see it listed) waits
  for a single shared look at the registry, then goes or is dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable

import aiohttp

from stages.v2_1_election.core import Send

log = logging.getLogger(__name__)

QUEUE_PER_PEER = 4  # messages waiting behind the one in flight
MAX_PROBES = 8  # busy lanes to peers that have never answered, all together
PROBES_PER_SECOND = 20  # new lanes to such peers: made-up names cost a fixed trickle
MAX_BACKOFF = 5.0  # seconds between tries to a peer that has never answered
MAX_WAITING_FOR_REFRESH = 64  # replies to unlisted names, across all names
# How a node answers a message: accepted, or not registered yet (a node starting up).
# Anything else (a 404 from some other server at that address, say) is not a peer.
NODE_ANSWERS = frozenset({202, 503})


class PeerLanes:
    """Deliver each :class:`Send` through its peer's lane; see the module's doc."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        url_of: Callable[[str], str | None],
        refresh: Callable[[], Awaitable[None]],
        timeout: float,
        min_backoff: float,
    ) -> None:
        self.session = session
        self.url_of = url_of  # name -> base URL, from the node's peer view
        self.refresh = refresh  # one look at the registry
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.min_backoff = min_backoff
        self.queues: dict[str, deque[Send]] = {}
        self.workers: dict[str, asyncio.Task[None]] = {}
        self.answered: set[str] = set()  # peers that have ever replied (or written to us)
        self.failures: dict[str, int] = {}  # never-answered peers -> failed tries in a row
        self.retry_at: dict[str, float] = {}  # never-answered peers -> when to try again
        self.probes: set[str] = set()  # never-answered peers whose lane is busy
        self.probe_tokens = float(MAX_PROBES)  # lanes to never-answered peers we may start now
        self.tokens_at = 0.0  # when the tokens were last counted
        self.waiting: list[Send] = []  # for names we have no address for, until a refresh
        self.refreshing: asyncio.Task[None] | None = None
        self.last_refresh = float("-inf")

    # --8<-- [start:send]
    def send(self, sends: list[Send]) -> None:
        """Queue each message on its peer's lane; never waits."""
        now = time.monotonic()
        for send in sends:
            peer = send.to
            if self.url_of(peer) is None:
                self._wait_for_refresh(send)
                continue
            if peer not in self.workers and not self._may_start(peer, now):
                continue  # a peer that has never answered, resting: a lost message
            queue = self.queues.setdefault(peer, deque(maxlen=QUEUE_PER_PEER))
            queue.append(send)  # a full queue drops its oldest message
            if peer not in self.workers:
                if peer not in self.answered:
                    self.probes.add(peer)
                self.workers[peer] = asyncio.create_task(self._drain(peer))

    async def _drain(self, peer: str) -> None:
        """The peer's lane: its messages, one at a time, until none is left."""
        queue = self.queues[peer]
        try:
            while queue:
                await self._deliver(queue.popleft())
        finally:
            del self.workers[peer]
            self.probes.discard(peer)
            if not queue:
                self.queues.pop(peer, None)

    async def _deliver(self, send: Send) -> None:
        url = self.url_of(send.to)
        if url is None or self.retry_at.get(send.to, 0.0) > time.monotonic():
            return  # gone from the view, or failed a moment ago and resting
        kind = send.message.kind
        try:
            async with self.session.post(
                f"{url}/cluster/{kind}", json=send.message.to_json(), timeout=self.timeout
            ) as resp:
                await resp.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            self._failed(send.to)
            log.debug("Could not send %s to %s: %s", kind, send.to, exc or "timeout")
            return
        if resp.status in NODE_ANSWERS:
            self.heard_from(send.to)
        else:  # something answers there, but not a node: as good as nobody
            self._failed(send.to)
            log.debug("%s to %s got HTTP %d: not a node", kind, send.to, resp.status)

    # --8<-- [end:send]

    def _may_start(self, peer: str, now: float) -> bool:
        """May an idle lane start now? Always, for a peer that has answered before."""
        if peer in self.answered:
            return True
        if len(self.probes) >= MAX_PROBES or self.retry_at.get(peer, 0.0) > now:
            return False
        refill = (now - self.tokens_at) * PROBES_PER_SECOND  # a token bucket: bursts of
        self.probe_tokens = min(float(MAX_PROBES), self.probe_tokens + refill)  # MAX_PROBES,
        self.tokens_at = now  # PROBES_PER_SECOND on average
        if self.probe_tokens < 1:
            return False
        self.probe_tokens -= 1
        return True

    def heard_from(self, peer: str) -> None:
        """The peer answered us or wrote to us: it is real, and never rests."""
        self.answered.add(peer)
        self.failures.pop(peer, None)
        self.retry_at.pop(peer, None)

    def _failed(self, peer: str) -> None:
        if peer in self.answered:
            return  # a real node, down for now: keep trying at the algorithm's pace
        failures = self.failures[peer] = self.failures.get(peer, 0) + 1
        pause = min(self.min_backoff * 2 ** (failures - 1), MAX_BACKOFF)
        self.retry_at[peer] = time.monotonic() + pause

    def forget(self, peers: set[str]) -> None:
        """These names left the view: drop what we kept about them."""
        for peer in peers:
            self.answered.discard(peer)
            self.failures.pop(peer, None)
            self.retry_at.pop(peer, None)

    def _wait_for_refresh(self, send: Send) -> None:
        if len(self.waiting) >= MAX_WAITING_FOR_REFRESH:
            return  # a flood of made-up names: dropped
        self.waiting.append(send)
        if self.refreshing is None:
            self.refreshing = asyncio.create_task(self._refresh_then_send())

    async def _refresh_then_send(self) -> None:
        try:
            await asyncio.sleep(self.last_refresh + self.min_backoff - time.monotonic())
            self.last_refresh = time.monotonic()  # one look per min_backoff at most
            await self.refresh()
        finally:
            waiting, self.waiting, self.refreshing = self.waiting, [], None
        known = [send for send in waiting if self.url_of(send.to) is not None]
        for send in waiting:
            if self.url_of(send.to) is None:
                log.debug("Dropped %s to %s: not in the registry", send.message.kind, send.to)
        self.send(known)

    async def flush(self, timeout: float) -> None:
        """Wait until every queued message has gone (or failed), for at most ``timeout``."""
        if self.workers:
            await asyncio.wait(list(self.workers.values()), timeout=timeout)

    async def close(self) -> None:
        """Cancel every message in flight (shutdown)."""
        tasks = [*self.workers.values(), *([self.refreshing] if self.refreshing else [])]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
