"""The node's side of membership, as pure logic: when to beat, how to back off.

A node's heartbeat loop (in :mod:`stages.v2_registry.node`) does the I/O: it
registers with the registry and fetches the node list. After each attempt it
tells :class:`Membership` what happened and sleeps for the delay it returns.
Everything a learner should see in the logs (registered, the registry went away,
registered again, a peer joined or left) is decided here, without a clock or a
socket, so the tests can replay any sequence of successes and failures.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterable, Sequence

from stages.v2_registry.models import NodeInfo

log = logging.getLogger(__name__)

DEFAULT_HEARTBEAT_INTERVAL = 1.0  # the registry's default TTL (5 s) divided by 5


def some(names: Iterable[str], limit: int = 3) -> str:
    """``a, b, c and 7 more``: a list for a log line that cannot grow without bound."""
    names = sorted(names)
    shown = ", ".join(names[:limit])
    return shown if len(names) <= limit else f"{shown} and {len(names) - limit} more"


# --8<-- [start:membership]
class Membership:
    """What a node knows about its registration and its peers."""

    def __init__(self, name: str, interval: float, rng: random.Random) -> None:
        self.name = name
        self.interval = interval
        self.rng = rng
        self.registered = False  # as far as we know, the registry has our entry
        self.failures = 0  # failed attempts in a row
        self.peers: tuple[NodeInfo, ...] = ()  # every live node but us, by name
        self.updated_at: float | None = None  # when ``peers`` was last refreshed

    def beat_succeeded(self, created: bool, nodes: Sequence[NodeInfo], now: float) -> float:
        """The registry accepted our heartbeat; return the delay until the next one."""
        if created:
            again = " again (the registry had forgotten us)" if self.registered else ""
            log.info("%s registered with the registry%s", self.name, again)
        elif not self.registered:  # restarted before our old entry expired: same address
            log.info(
                "%s registered with the registry (renewing the entry of an earlier run)", self.name
            )
        elif self.failures:
            log.info(
                "%s reached the registry again after %d failed attempts", self.name, self.failures
            )
        self.registered, self.failures = True, 0
        self.update_peers(nodes, now)
        return self.interval

    def beat_failed(self, reason: str) -> float:
        """The registry could not be reached; return how long to wait before retrying.

        The wait starts short (a quarter of the interval) and doubles with each
        failure, up to one and a half intervals, with some jitter so that a
        cluster does not stampede a registry that has just restarted.
        """
        self.failures += 1
        delay = min(self.interval / 4 * 2 ** (self.failures - 1), self.interval * 1.5)
        delay *= self.rng.uniform(0.8, 1.0)
        if self.failures == 1 or self.failures % 10 == 0:
            log.warning(
                "%s's heartbeat to the registry failed (%s); retrying in %.2fs (attempt %d)",
                self.name,
                reason,
                delay,
                self.failures,
            )
        return delay

    def update_peers(self, nodes: Sequence[NodeInfo], now: float) -> None:
        """Take the registry's list of live nodes as our view of the cluster."""
        peers = tuple(sorted((n for n in nodes if n.name != self.name), key=lambda n: n.name))
        before = {p.name for p in self.peers}
        after = {p.name for p in peers}
        self._log_changes("join", after - before)
        self._log_changes("leave", before - after)
        self.peers, self.updated_at = peers, now

    def _log_changes(self, verb: str, names: set[str]) -> None:
        """A line per node; a single line when many change at once (a flood of names)."""
        for name in sorted(names) if len(names) <= 3 else [some(names)]:
            log.info("%s sees %s %s the cluster", self.name, name, verb)


# --8<-- [end:membership]
