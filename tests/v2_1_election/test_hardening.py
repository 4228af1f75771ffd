"""A cluster of real processes under the attacks that used to break it.

Each test starts a registry and three v2.1 nodes with the same ``ddb`` commands
a user types, attacks them with :mod:`tests.attacks`, and checks what the
robustness issue asked for. The figures measured by hand (on a 2-core machine,
beside other work) are in each assertion's message; the bounds add a stated
allowance for a loaded CI machine.
"""

from __future__ import annotations

import asyncio
import signal
import time

import aiohttp
import pytest

from stages.v1_kv.runner import SHUTDOWN_LIMIT
from stages.v2_1_election.bully import ElectionConfig
from tests.attacks import attack
from workbench.cluster import Cluster
from workbench.harness import LOADED, SETUP, Processes, wait_until

pytestmark = [pytest.mark.timeout(120), pytest.mark.slow]

DEFAULTS = ElectionConfig()
REGISTRY_TTL = 5.0
NAMES = ["n1", "n2", "n3"]


@pytest.fixture
async def cluster(processes: Processes) -> Cluster:
    return Cluster(processes)


def role_changes(cluster: Cluster) -> int:
    return sum(node.log.count(" became ") for node in cluster.nodes.values())


class HealthProbe:
    """Ask every node for ``/health`` every 50 ms and keep the latencies."""

    def __init__(self, urls: list[str]) -> None:
        self.urls = urls
        self.latencies: list[float] = []
        self.failures = 0
        self.task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        timeout = aiohttp.ClientTimeout(total=2)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while True:
                for url in self.urls:
                    start = time.perf_counter()
                    try:
                        async with session.get(f"{url}/health") as resp:
                            await resp.read()
                        self.latencies.append(time.perf_counter() - start)
                    except (aiohttp.ClientError, TimeoutError):
                        self.failures += 1
                await asyncio.sleep(0.05)

    def __enter__(self) -> HealthProbe:
        self.task = asyncio.create_task(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.task is not None
        self.task.cancel()

    def p99(self) -> float:
        ordered = sorted(self.latencies)
        return ordered[int(len(ordered) * 0.99)]


async def test_a_flood_of_5000_names_changes_no_leader_and_health_stays_fast(
    cluster: Cluster,
) -> None:
    await cluster.start_registry()  # the default --max-nodes: 1,000
    await cluster.start_nodes(NAMES)
    leader, term = await cluster.wait_for_agreement(timeout=SETUP)
    before = role_changes(cluster)
    with HealthProbe([cluster.nodes[n].url for n in NAMES]) as probe:
        answers = await attack("flood", "--registry", cluster.registry, "--seconds", "8")
    assert answers.get("409", 0) > 0, f"the registry refused names beyond 1,000: {answers}"
    assert await cluster.agreement() == (leader, term), "the leader did not change"
    assert role_changes(cluster) == before, "no node started an election during the flood"
    assert probe.failures == 0, f"{probe.failures} health checks failed"
    # Measured by hand: p99 29 to 58 ms during a 10 s flood; the issue asks for 100 ms, and a
    # loaded CI machine (the flood itself takes both cores) gets 150 ms more.
    assert probe.p99() < 0.25, f"/health p99 was {probe.p99() * 1000:.0f} ms during the flood"


async def test_after_a_flood_the_registry_took_the_cluster_heals_and_sigterm_still_exits(
    cluster: Cluster,
) -> None:
    await cluster.start_registry("--max-nodes", "5000")
    await cluster.start_nodes(NAMES)
    await cluster.wait_for_agreement(timeout=SETUP)
    flood = asyncio.create_task(attack("flood", "--registry", cluster.registry, "--seconds", "8"))
    n1 = cluster.nodes["n1"]

    async def n1_carries_thousands_of_peers() -> bool:
        status = (await cluster.statuses(["n1"]))["n1"]
        return status is not None and len(status["peers"]) > 1000

    await wait_until(n1_carries_thousands_of_peers, timeout=SETUP, what="the flood to reach n1")
    n1.signal(signal.SIGTERM)
    sent = time.monotonic()
    await wait_until(lambda: n1.proc.poll() is not None, timeout=SHUTDOWN_LIMIT + 10, what="exit")
    took = time.monotonic() - sent
    # Measured by hand: 2.5 s and 2.9 s under this flood; the bound is the shutdown limit
    # (timeout + 1 s), which the watchdog enforces, plus the load allowance.
    bound = SHUTDOWN_LIMIT + LOADED
    assert took < bound, f"n1 took {took:.2f}s to exit after SIGTERM (limit + load: {bound}s)"
    answers = await flood
    assert answers.get("201", 0) > 1000, f"the registry took more than 1,000 names: {answers}"
    stopped = time.monotonic()
    heal = REGISTRY_TTL + 2 * DEFAULTS.leader_timeout
    # Measured by hand: agreement 2.5 s after the flood stopped.
    await cluster.wait_for_agreement(timeout=heal + LOADED, names=["n2", "n3"])
    healed = time.monotonic() - stopped
    assert healed < heal + LOADED, f"agreed {healed:.1f}s after (TTL + 2 leader timeouts + load)"


async def test_3000_forged_joins_change_no_role_and_leave_no_peers_behind(
    cluster: Cluster,
) -> None:
    await cluster.start_registry()
    await cluster.start_nodes(NAMES)
    leader, term = await cluster.wait_for_agreement(timeout=SETUP)
    before = role_changes(cluster)
    target = cluster.nodes[leader]
    answers = await attack("joins", "--node", target.url, "--count", "3000", "--seconds", "10")
    assert answers == {"202": 3000}
    assert await cluster.agreement() == (leader, term)
    assert role_changes(cluster) == before, "3,000 forged Joins changed no role"

    async def only_real_peers() -> bool:
        statuses = await cluster.statuses()
        return all(s is not None and len(s["peers"]) == 2 for s in statuses.values())

    # Unlisted Join senders count for join_grace (2 s at the defaults), plus the load.
    await wait_until(
        only_real_peers, timeout=DEFAULTS.join_grace + LOADED, what="joiners to be forgotten"
    )


async def test_five_registry_restarts_change_no_leader_and_kv_keeps_serving(
    cluster: Cluster, unused_tcp_port: int
) -> None:
    interval = "0.2"  # registry heartbeats: peers are kept for 5 intervals (1 s) when unlisted
    registry = await cluster.start_registry("--ttl", "1.0", port=unused_tcp_port)
    await cluster.start_nodes(NAMES, "--registry-heartbeat-interval", interval)
    leader, term = await cluster.wait_for_agreement(timeout=SETUP)
    before = role_changes(cluster)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
        for restart in range(5):
            registry.kill()  # kill -9
            async with session.put(f"{cluster.nodes['n1'].url}/kv/k{restart}", data=b"v") as r:
                assert r.status == 201, "a node keeps serving /kv while the registry is down"
            await asyncio.sleep(1.5)  # the scenario: down for longer than the peers' grace
            registry = await cluster.start_registry("--ttl", "1.0", port=unused_tcp_port)

            async def all_listed() -> bool:
                async with session.get(f"{cluster.registry}/nodes") as resp:
                    return len((await resp.json())["nodes"]) == 3

            # A node's next try is at most 1.5 registry intervals (0.3 s) away, plus the load.
            await wait_until(all_listed, timeout=0.3 + LOADED, what="every node registered again")
            assert await cluster.agreement() == (leader, term), f"restart {restart + 1}"
    assert role_changes(cluster) == before, "0 leader changes across five registry restarts"
