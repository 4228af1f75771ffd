"""The nemesis: one fault at a time on real node processes, each healed before the next.

Jepsen's nemesis in a few moves, on the processes :class:`~workbench.cluster.Cluster`
started:

* ``kill``: ``kill -9`` the leader (it loses everything it held in memory), and start it
  again on the same port ``down`` seconds later;
* ``kill-follower``: the same to a follower (not among the default moves, which v2.2's
  measurements used; a v3.0 follower must keep on disk every entry it acknowledged);
* ``pause``: ``SIGSTOP`` a follower, and ``SIGCONT`` it ``down`` seconds later: it misses
  whatever happened meanwhile, and then carries on as if nothing had;
* ``pause-leader``: the same to the leader: the others elect another, and the old one wakes
  up still believing it leads, with the clients' requests waiting in its sockets;
* ``restart``: stop any node with ``SIGTERM`` (it says goodbye to the registry) and start it
  again at once.

Between two faults the cluster has ``interval`` seconds of quiet. Each move is written to
``log`` with the time since the run began, so a report can say what the clients lived through.
"""

from __future__ import annotations

import asyncio
import random
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from workbench.cluster import Cluster
from workbench.failover import restart

FAULTS = ("kill", "pause", "pause-leader", "restart")  # the default moves
MOVES = (*FAULTS, "kill-follower")  # every move
WHOM = {
    "kill": "leader", "kill-follower": "follower", "pause": "follower", "pause-leader": "leader",
    "restart": None,
}  # fmt: skip


@dataclass
class Nemesis:
    cluster: Cluster
    rng: random.Random
    faults: tuple[str, ...] = FAULTS
    interval: float = 1.0  # quiet seconds between two faults
    down: float = 2.0  # how long a killed node stays down, or a paused one paused
    flags: Callable[[str], tuple[str, ...]] = lambda name: ()  # to start NAME again
    started: float = field(default_factory=time.monotonic)
    log: list[str] = field(default_factory=list)
    paused: set[str] = field(default_factory=set)
    dead: set[str] = field(default_factory=set)

    def note(self, what: str) -> None:
        self.log.append(f"{time.monotonic() - self.started:5.1f} s  {what}")

    async def roles(self) -> dict[str, str | None]:
        """Each running node's role, as it says itself (None: it did not answer)."""
        running = [name for name in self.cluster.live() if name not in self.paused]
        statuses = await self.cluster.statuses(running)
        return {name: None if s is None else s.get("role") for name, s in statuses.items()}

    # --8<-- [start:nemesis_run]
    async def run(self, done: Callable[[], bool]) -> None:
        """Fault, wait, heal, rest; again, until ``done``; then heal whatever is left."""
        try:
            while not done():
                await self.pause_for(self.interval, done)
                if done() or not self.faults:
                    continue
                fault = self.rng.choice(self.faults)
                victim = await self.choose(fault)
                if victim is None:
                    continue  # no leader (or follower) right now: wait for the next beat
                await getattr(self, fault.replace("-", "_"))(victim, done)
        finally:
            await self.heal()

    # --8<-- [end:nemesis_run]

    async def pause_for(self, seconds: float, done: Callable[[], bool]) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not done():
            await asyncio.sleep(min(0.05, max(0.0, deadline - time.monotonic())))

    async def choose(self, fault: str) -> str | None:
        roles, whom = await self.roles(), WHOM[fault]
        wanted = [name for name, role in roles.items() if role is not None and whom in (None, role)]
        return self.rng.choice(sorted(wanted)) if wanted else None

    async def kill_follower(self, name: str, done: Callable[[], bool]) -> None:
        await self.kill(name, done, "a follower")

    async def kill(self, name: str, done: Callable[[], bool], who: str = "the leader") -> None:
        self.note(f"kill -9 {name} ({who})")
        self.cluster.nodes[name].signal(signal.SIGKILL)
        self.dead.add(name)
        await self.pause_for(self.down, done)
        await self.start_again(name)

    async def pause_leader(self, name: str, done: Callable[[], bool]) -> None:
        await self.pause(name, done, "the leader")

    async def pause(self, name: str, done: Callable[[], bool], who: str = "a follower") -> None:
        self.note(f"SIGSTOP {name} ({who})")
        self.cluster.nodes[name].signal(signal.SIGSTOP)
        self.paused.add(name)
        await self.pause_for(self.down, done)
        self.resume(name)

    async def restart(self, name: str, done: Callable[[], bool]) -> None:
        self.note(f"restart {name} (SIGTERM, then start it again)")
        self.cluster.nodes[name].signal(signal.SIGTERM)
        self.dead.add(name)
        await self.start_again(name)

    def resume(self, name: str) -> None:
        self.cluster.nodes[name].signal(signal.SIGCONT)
        self.paused.discard(name)
        self.note(f"SIGCONT {name}")

    async def start_again(self, name: str) -> None:
        await restart(self.cluster, name, *self.flags(name))
        self.dead.discard(name)
        self.note(f"{name} started again")

    async def heal(self) -> None:
        """Every paused node resumed, every stopped one started again."""
        for name in sorted(self.paused):
            self.resume(name)
        for name in sorted(self.dead):
            await self.start_again(name)
