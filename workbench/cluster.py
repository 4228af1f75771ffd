"""Helpers for real-process election tests: start a cluster, read every node's status."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from stages.v2_1_election.bully import ElectionConfig
from workbench.harness import LOADED, DdbProcess, Processes, wait_until

DEFAULTS = ElectionConfig()
# How long the survivors of a dead leader take, at the default timings: a follower notices
# within leader_timeout * (1 + jitter), the highest survivor wins after answer_timeout, and
# one lost round costs victory_timeout and another answer_timeout (0.6 + 0.2 + 0.5 + 0.2 s).
FAILOVER = (
    DEFAULTS.leader_timeout * (1 + DEFAULTS.jitter)
    + 2 * DEFAULTS.answer_timeout
    + DEFAULTS.victory_timeout
)
FAILOVER_LOADED = FAILOVER + LOADED  # what a real-process test allows, on a busy machine


async def status_of(url: str) -> dict[str, Any] | None:
    """A node's ``GET /cluster/status``, or None if it does not answer promptly."""
    try:
        timeout = aiohttp.ClientTimeout(total=0.5)
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.get(f"{url}/cluster/status") as resp,
        ):
            return dict(await resp.json())
    except (aiohttp.ClientError, TimeoutError):
        return None


@dataclass
class Cluster:
    processes: Processes
    registry: str = ""
    nodes: dict[str, DdbProcess] = field(default_factory=dict)
    agreed_at: float = 0.0  # time.monotonic() when wait_for_agreement's last poll returned
    stage: str = "v2.1"  # the nodes' stage: any whose `ddb STAGE node` takes v2.1's flags

    async def start_registry(self, *flags: str, port: int = 0) -> DdbProcess:
        registry = self.processes.start("v2", "registry", "--port", str(port), *flags)
        self.registry = await registry.started()
        return registry

    async def start_node(self, name: str, port: int = 0, *flags: str) -> DdbProcess:
        node = self.processes.start(
            self.stage, "node", "-ra", self.registry, "--name", name, "--port", str(port), *flags
        )
        self.nodes[name] = node
        await node.started(timeout=20)
        return node

    async def start_nodes(self, names: list[str], *flags: str) -> None:
        """Start several nodes at once, as `make run` does."""
        await asyncio.gather(*(self.start_node(name, 0, *flags) for name in names))

    def live(self) -> dict[str, DdbProcess]:
        return {name: node for name, node in self.nodes.items() if node.proc.poll() is None}

    async def statuses(self, names: list[str] | None = None) -> dict[str, dict[str, Any] | None]:
        chosen = names if names is not None else list(self.live())
        found = await asyncio.gather(*(status_of(self.nodes[n].url) for n in chosen))
        return dict(zip(chosen, found, strict=True))

    async def agreement(self, names: list[str] | None = None) -> tuple[str, int] | None:
        """(leader, term) if every node named agrees, and exactly one of them leads."""
        statuses = await self.statuses(names)
        if any(s is None for s in statuses.values()):
            return None
        views = {(s["leader"], s["term"]) for s in statuses.values() if s is not None}
        leaders = [n for n, s in statuses.items() if s is not None and s["role"] == "leader"]
        if len(views) != 1 or len(leaders) != 1:
            return None
        leader, term = views.pop()
        return (leader, term) if leader == leaders[0] else None

    async def wait_for_agreement(
        self, timeout: float, names: list[str] | None = None, leader: str | None = None
    ) -> tuple[str, int]:
        """Poll until the nodes agree on one leader (``leader``, if given), and until each
        one's log shows the role it reported: a test that then reads the logs (to count role
        changes, say) sees every line up to the agreement. ``agreed_at`` is when the poll
        that saw them agree returned, before that wait for the logs: time a failover to it."""
        result: tuple[str, int] | None = None

        async def agreed() -> bool:
            nonlocal result
            result = await self.agreement(names)
            if result is None or (leader is not None and result[0] != leader):
                return False
            self.agreed_at = time.monotonic()
            return True

        what = f"{names or 'all live nodes'} to agree on {leader or 'a leader'}"
        try:
            await wait_until(agreed, timeout=timeout, interval=0.05, what=what)
        except AssertionError:
            raise AssertionError(f"{what}; last statuses: {await self.statuses(names)}") from None
        assert result is not None
        await self.wait_for_role_lines(names or list(self.live()), *result)
        return result

    async def wait_for_role_lines(self, names: list[str], leader: str, term: int) -> None:
        """Wait until each node's log has the line of the role its status reported.

        The node logs the line before it can answer with that role, but the test reads the
        log through a pipe and a thread, which can lag behind on a busy machine.
        """
        lines = {
            name: f"{name} became leader at term {term}"
            if name == leader
            else f"{name} became follower of {leader} at term {term}"
            for name in names
        }

        def logged() -> bool:
            return all(line in self.nodes[name].log for name, line in lines.items())

        what = "each node's log to show the role its status reported"
        await wait_until(logged, timeout=LOADED, what=f"{what}: {lines}")
