"""The registry, as the simulated nodes see it: the real registry core and peer view.

The simulator does not re-implement membership. It drives the very classes the real
processes use: the v2 registry's :class:`~stages.v2_registry.registry.Registry` (TTL
expiry), and each node's :class:`~stages.v2_1_election.peers.PeerView` (which keeps a
peer through a registry restart). The simulator decides *when* each node registers and
reads; this module only connects the two, as the node's ``sync_peers`` does.
"""

from __future__ import annotations

from stages.v2_1_election.peers import PEER_GRACE_INTERVALS, PEER_OUTAGE_INTERVALS, PeerView
from stages.v2_registry.models import NodeInfo
from stages.v2_registry.registry import Registry


# --8<-- [start:directory]
class Directory:
    """One registry, and each node's view of it."""

    def __init__(self, ttl: float, interval: float) -> None:
        self.ttl, self.interval = ttl, interval  # interval: how often nodes register
        self.registry = Registry(ttl)
        self.views: dict[str, PeerView] = {}
        self.ports: dict[str, int] = {}  # never used to send: the simulated network routes by name

    def start(self, name: str) -> None:
        """A process starts: it knows no peers yet."""
        grace, outage = PEER_GRACE_INTERVALS * self.interval, PEER_OUTAGE_INTERVALS * self.interval
        self.views[name] = PeerView(name, grace=grace, outage=outage)
        self.ports.setdefault(name, 8051 + len(self.ports))

    def register(self, name: str, now: float) -> None:
        """A node's registry heartbeat: registering again renews its entry."""
        self.registry.register(name, "127.0.0.1", self.ports[name], now)

    def restart(self) -> None:
        """The registry restarts: it comes back empty, and fills up as the nodes' beats do."""
        self.registry = Registry(self.ttl)

    def read(self, name: str, now: float) -> tuple[list[str], bool]:
        """``name`` asks for the list: what the registry lists, and whether the node's
        view of its peers changed (then the core must hear of it with ``set_peers``)."""
        entries = self.registry.entries(now)
        view = self.views[name]
        before = view.version
        view.update([NodeInfo(e.name, e.host, e.port, e.age(now)) for e in entries], now)
        return [entry.name for entry in entries], view.version != before

    def peers(self, name: str) -> frozenset[str]:
        return self.views[name].names()


# --8<-- [end:directory]
