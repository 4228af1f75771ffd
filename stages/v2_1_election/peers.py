"""Whom a node counts as its peers: the registry's list, remembered through a restart.

The registry is where nodes find each other, but it is not where they live: a
registry that restarts comes back empty and fills up again as the nodes'
heartbeats arrive, over about one registry heartbeat interval. If a node took
each answer literally, a leader would see its followers vanish, stop sending
them heartbeats, and the cluster would elect a new leader for nothing.

So a node believes the registry about *newcomers* at once, and about
*departures* only once they last: a peer the registry stops listing still
counts, at its last known address, until the registry has left it out of every
answer for ``grace`` seconds (by default five registry heartbeat intervals, the
registry's own TTL). Only answers count: while the registry is down nobody is
forgotten, and when it answers again after a silence longer than ``outage`` the
grace starts over, so every peer has a whole grace to register again. A node
that really died is gone from the registry after its TTL and from its peers'
views one grace later; in between, messages to it fail, which every election
algorithm here already tolerates.

Pure: no clock, no I/O. The caller hands in the registry's list and the time.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from stages.v2_registry.membership import some
from stages.v2_registry.models import NodeInfo

log = logging.getLogger(__name__)

# A peer the registry stops listing still counts for this many registry heartbeat
# intervals (5 s at the defaults, the registry's TTL); a silence of more than this many
# between two answers means the registry was away. The node and the simulator use both.
PEER_GRACE_INTERVALS = 5
PEER_OUTAGE_INTERVALS = 2


# --8<-- [start:peer_view]
class PeerView:
    """The peers a node counts, and their last known addresses."""

    def __init__(self, name: str, grace: float, outage: float) -> None:
        self.name = name
        self.grace = grace  # how long the registry must leave a peer out before we do
        self.outage = outage  # a silence this long between answers: the registry was away
        self._last_answer: float | None = None
        self.version = 0  # grows whenever the set of names changes
        self._known: dict[str, NodeInfo] = {}  # name -> last known entry
        self._urls: dict[str, str] = {}  # name -> its URL, asked for with every message
        self._missing_since: dict[str, float] = {}  # unlisted names -> first answer without them
        self._next_expiry = float("inf")  # the earliest time a missing peer is forgotten

    def update(self, listed: Sequence[NodeInfo], now: float) -> None:
        """The registry answered with ``listed``: take newcomers, note who is missing."""
        if self._last_answer is not None and now - self._last_answer > self.outage:
            for name in self._missing_since:  # back from an outage: the grace starts over
                self._missing_since[name] = now
            self._next_expiry = now + self.grace if self._missing_since else float("inf")
        self._last_answer = now
        listing = {node.name: node for node in listed if node.name != self.name}
        joined = listing.keys() - self._known.keys()
        self._known.update(listing)
        self._urls.update((name, node.url) for name, node in listing.items())
        for name in listing.keys() & self._missing_since.keys():
            del self._missing_since[name]  # back (after a registry restart, say)
        missing = self._known.keys() - listing.keys() - self._missing_since.keys()
        for name in missing:
            self._missing_since[name] = now
        if missing:
            self._next_expiry = min(self._next_expiry, now + self.grace)
            log.info(
                "%s no longer sees %s in the registry; still counting them for %.1fs",
                self.name,
                some(missing),
                self.grace,
            )
        if joined:
            self.version += 1
        self._forget_missing(now)

    def _forget_missing(self, now: float) -> None:
        """Forget the peers this answer, like every answer for ``grace``, left out."""
        if now < self._next_expiry:
            return  # the usual case: nothing is due
        gone = [name for name, since in self._missing_since.items() if now - since >= self.grace]
        for name in gone:
            del self._missing_since[name], self._known[name], self._urls[name]
        self._next_expiry = min(self._missing_since.values(), default=float("inf")) + self.grace
        if gone:
            self.version += 1
            log.info("%s forgets %s: not listed for %.1fs", self.name, some(gone), self.grace)

    def names(self) -> frozenset[str]:
        return frozenset(self._known)

    def url(self, name: str) -> str | None:
        return self._urls.get(name)

    def missing(self) -> frozenset[str]:
        """Peers counted on trust: the registry has stopped listing them."""
        return frozenset(self._missing_since)


# --8<-- [end:peer_view]
