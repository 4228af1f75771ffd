"""How long a cluster is without a leader when its leader stops: SIGTERM versus SIGKILL.

A leader stopped with SIGTERM resigns before it deregisters, so the highest
survivor takes over at once; one killed with SIGKILL says nothing, and the others
notice only after ``leader_timeout`` of silence. Each trial stops the leader of a
three-node cluster, times until every survivor names the same new leader at a newer
term, then restarts the stopped node (on the same port; it rejoins as a follower)::

    python -m workbench.failover --trials 20

It starts its own registry and nodes on free loopback ports, and stops them all.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import statistics
import time
from collections.abc import Callable

import aiohttp

from workbench.cluster import Cluster
from workbench.harness import Processes

NAMES = ["n1", "n2", "n3"]


async def _views(session: aiohttp.ClientSession, urls: list[str]) -> list[dict | None]:
    async def one(url: str) -> dict | None:
        try:
            async with session.get(f"{url}/cluster/status") as resp:
                return dict(await resp.json())
        except (aiohttp.ClientError, TimeoutError, ValueError):
            return None

    return list(await asyncio.gather(*(one(url) for url in urls)))


async def stop_leader_and_time_failover(
    cluster: Cluster,
    sig: int,
    timeout: float = 10.0,
    before_stop: Callable[[str], None] = lambda name: None,
) -> tuple[str, str, float]:
    """Stop the current leader with ``sig``; return (old leader, new leader, seconds).

    ``before_stop(name)`` is called just before the signal is sent.
    """
    old, term = await cluster.wait_for_agreement(timeout=timeout)
    survivors = [name for name in cluster.live() if name != old]
    urls = [cluster.nodes[name].url for name in survivors]
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=1)) as session:
        before_stop(old)
        start = time.monotonic()
        cluster.nodes[old].signal(sig)
        while time.monotonic() - start < timeout:
            views = await _views(session, urls)
            named = {(v["leader"], v["term"]) if v else None for v in views}
            agreed = named.pop() if len(named) == 1 else None
            if agreed is not None:
                leader, new_term = agreed
                if leader in survivors and new_term > term:
                    return old, leader, time.monotonic() - start
            await asyncio.sleep(0.005)
    raise AssertionError(f"no new leader among {survivors} within {timeout}s of stopping {old}")


async def restart(cluster: Cluster, name: str, *flags: str) -> None:
    """Start ``name`` again on its old port, once the old process has exited."""
    old = cluster.nodes[name]
    await asyncio.to_thread(old.wait, 10)  # exited, and its log read to the last line
    port = int(old.url.rsplit(":", 1)[1])
    await cluster.start_node(name, port, *flags)


async def trials(cluster: Cluster, sig: int, count: int) -> list[float]:
    times = []
    for _ in range(count):
        old, _new, seconds = await stop_leader_and_time_failover(cluster, sig)
        times.append(seconds)
        await restart(cluster, old)
    return times


def summary(label: str, times: list[float]) -> str:
    ordered = sorted(times)
    return (
        f"{label}: {len(times)} trials, median {statistics.median(times):.3f}s, "
        f"min {ordered[0]:.3f}s, max {ordered[-1]:.3f}s"
    )


async def main(count: int) -> None:
    processes = Processes()
    try:
        cluster = Cluster(processes)
        await cluster.start_registry()
        await cluster.start_nodes(NAMES)
        for label, sig in (("SIGTERM", signal.SIGTERM), ("SIGKILL", signal.SIGKILL)):
            times = await trials(cluster, sig, count)
            print(summary(label, times), flush=True)
            print("  " + " ".join(f"{t:.3f}" for t in times), flush=True)
    finally:
        processes.stop_all()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m workbench.failover", description=__doc__)
    parser.add_argument("--trials", type=int, default=20, help="per signal (default: 20)")
    asyncio.run(main(parser.parse_args().trials))
