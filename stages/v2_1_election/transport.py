"""Carrying the election's messages to peers, one stream each, with bounded cost per peer.

The election core says *what* to send (a list of :class:`Send`); this module
sends it, so that no peer, dead, slow or made-up, can cost more than a fixed
share of the node:

* **One lane per peer, and one stream.** A peer's messages go out one at a time,
  in order, from a small queue; when the queue is full the oldest message is
  dropped (to the algorithm that is a lost message, which it already tolerates).
  They travel as frames of one long-lived WebSocket, ``GET /cluster/stream``,
  opened at the first message and kept: a heartbeat costs a frame, not an HTTP
  request (the request, its headers and its answer cost the idle node more than
  everything else it does). A stream the peer closes (it died, restarted, or
  refused a frame) is opened again at the next message. A dead peer therefore
  holds one connection at a time, never a pool.
* **A timeout per message** that only the message itself spends (opening the
  stream, if it must, and writing the frame): the session has no pool limit to
  wait behind (the lanes bound the connections instead).
* **A stream that hears nothing is cut.** Each end pings the other when it has
  heard nothing for a leader timeout (aiohttp's WebSocket heartbeat), and closes
  the stream when no pong comes within half that: a peer behind a partition, or
  paused, does not keep a stream that swallows messages forever.
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
  sends us a Join first). Only a node's answers count (a stream it accepts, or
  ``503`` from one still starting): some other server at a registered address is
  no peer.
* **Unknown names wait for one refresh.** A reply to a node the registry view
  does not list yet (a newcomer's Join arrives before we see it listed) waits
  for a single shared look at the registry, then goes or is dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
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
STREAM_PATH = "/cluster/stream"  # a node's WebSocket for its peers' messages
# How a node answers a stream it will not take yet: not registered (a node starting up).
# Any other refusal (a 404 from some other server at that address, say) is not a peer.
NODE_ANSWERS = frozenset({503})
Stream = aiohttp.ClientWebSocketResponse
WS = aiohttp.WSMsgType
CLOSED = (WS.CLOSE, WS.CLOSING, WS.CLOSED, WS.ERROR)  # what ends a stream


class PeerLanes:
    """Deliver each :class:`Send` through its peer's lane; see the module's doc."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        url_of: Callable[[str], str | None],
        refresh: Callable[[], Awaitable[None]],
        timeout: float,
        min_backoff: float,
        keepalive: float,
    ) -> None:
        self.session = session
        self.url_of = url_of  # name -> base URL, from the node's peer view
        self.refresh = refresh  # one look at the registry
        self.timeout = timeout
        self.min_backoff = min_backoff
        self.keepalive = keepalive  # ping a stream that heard nothing for this long
        self.streams: dict[str, Stream] = {}  # peer -> its open stream
        self.readers: dict[str, asyncio.Task[None]] = {}  # peer -> what waits for its close
        self.closing: set[asyncio.Task[None]] = set()  # streams being closed
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
        peer, kind = send.to, send.message.kind
        url = self.url_of(peer)
        if url is None or self.retry_at.get(peer, 0.0) > time.monotonic():
            return  # gone from the view, or failed a moment ago and resting
        try:
            async with asyncio.timeout(self.timeout):
                stream = self.streams.get(peer)
                if stream is None or stream.closed:  # none yet, or the peer just closed it
                    self._drop(peer)
                    stream = await self._open(peer, url)
                if stream is not None:  # None: a node still starting; the message is lost
                    await stream.send_str(json.dumps(send.message.to_json()))
        except (aiohttp.ClientError, TimeoutError) as exc:
            self._drop(peer)
            self._failed(peer)
            log.debug("Could not send %s to %s: %s", kind, peer, exc or "timeout")

    async def _open(self, peer: str, url: str) -> Stream | None:
        """Open the peer's stream; None if a node refused it for now (``503``)."""
        try:
            stream = await self.session.ws_connect(
                url + STREAM_PATH,
                heartbeat=self.keepalive,
                timeout=aiohttp.ClientWSTimeout(ws_close=self.timeout),
            )
        except aiohttp.WSServerHandshakeError as exc:
            if exc.status not in NODE_ANSWERS:  # something answers there, but not a node
                raise aiohttp.ClientError(f"HTTP {exc.status}: not a node") from None
            self.heard_from(peer)
            return None
        if self.url_of(peer) is None:  # it left the view while we were connecting
            await stream.close()
            return None
        self.heard_from(peer)
        self.streams[peer] = stream
        self.readers[peer] = asyncio.create_task(self._read(peer, stream))
        return stream

    async def _read(self, peer: str, stream: Stream) -> None:
        """A peer sends nothing back on our stream but pongs and, one day, its close."""
        try:
            frame = await stream.receive()  # aiohttp answers pings and reads pongs meanwhile
            while frame.type not in CLOSED:
                frame = await stream.receive()
            log.debug("%s closed our stream: %s %s", peer, stream.close_code, frame.extra or "")
        except (aiohttp.ClientError, ConnectionError) as exc:  # a pong it could not take
            log.debug("Our stream to %s broke: %s", peer, exc)
        if self.streams.get(peer) is stream:
            del self.streams[peer], self.readers[peer]

    def _drop(self, peer: str) -> None:
        """Close the peer's stream, if it has one, in the background."""
        stream, reader = self.streams.pop(peer, None), self.readers.pop(peer, None)
        if stream is not None and reader is not None:
            task = asyncio.create_task(self._close(stream, reader))
            self.closing.add(task)
            task.add_done_callback(self.closing.discard)

    async def _close(self, stream: Stream, reader: asyncio.Task[None]) -> None:
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader
        with contextlib.suppress(TimeoutError):  # a stalled peer cannot hold us up
            async with asyncio.timeout(self.timeout):
                await stream.close()  # the frames written before it still reach the peer

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
        """These names left the view: drop what we kept about them, and their streams."""
        for peer in peers:
            self._drop(peer)
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
        """Cancel every message in flight, then close every stream (shutdown)."""
        tasks = [*self.workers.values(), *([self.refreshing] if self.refreshing else [])]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for peer in list(self.streams):
            self._drop(peer)
        if self.closing:
            await asyncio.wait(list(self.closing))
