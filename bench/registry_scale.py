"""Part 3: the registry at scale.

A load process (this one, on core 1) keeps ``registry_nodes`` made-up nodes registered,
each renewing once a second, spread evenly over the second, while it also times
``GET /nodes``. Then every node falls silent at once and the load watches each name
disappear: the last heartbeat to removal, against the TTL.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp

from bench.load import percentile
from bench.procs import DDB, Group, cpu_seconds, on_core, pinned, shown
from stages.v2_registry.registry import DEFAULT_TTL

REGISTRY_CORE, LOAD_CORE = 0, 1
RENEW_EVERY = 1.0


def registry_command(ttl: float | None) -> list[str]:
    argv = [*DDB, "v2", "registry", "--port", "0"]
    return pinned(REGISTRY_CORE, argv + (["--ttl", f"{ttl:g}"] if ttl else []))


async def renew_all(
    session: aiohttp.ClientSession, url: str, names: list[str], seconds: float
) -> tuple[list[float], dict[str, float], int]:
    """Renew every name once a second for ``seconds``; (latencies, last renewal, failures)."""
    latencies: list[float] = []
    last: dict[str, float] = {}
    failures = 0

    async def renew(index: int, name: str) -> None:
        nonlocal failures
        start = time.monotonic()
        try:
            body = {"name": name, "port": 10000 + index, "host": "127.0.0.1"}
            async with session.post(f"{url}/nodes", json=body) as resp:
                await resp.read()
                ok = resp.status in (200, 201)
        except (aiohttp.ClientError, TimeoutError):
            ok = False
        if ok:
            latencies.append(time.monotonic() - start)
            last[name] = start  # the heartbeat as sent: the registry's clock starts here
        else:
            failures += 1

    began = time.monotonic()
    tasks: set[asyncio.Task[None]] = set()
    beat = 0
    while (offset := beat * RENEW_EVERY) < seconds:
        for index, name in enumerate(names):
            due = began + offset + RENEW_EVERY * index / len(names)
            if (wait := due - time.monotonic()) > 0:
                await asyncio.sleep(wait)
            task = asyncio.create_task(renew(index, name))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        beat += 1
    await asyncio.gather(*tasks)
    return latencies, last, failures


async def time_listing(session: aiohttp.ClientSession, url: str, until: float) -> list[float]:
    """``GET /nodes`` four times a second while the nodes renew."""
    samples = []
    while time.monotonic() < until:
        start = time.monotonic()
        async with session.get(f"{url}/nodes") as resp:
            await resp.read()
        samples.append(time.monotonic() - start)
        await asyncio.sleep(0.25)
    return samples


async def watch_expiry(
    session: aiohttp.ClientSession, url: str, last: dict[str, float], limit: float
) -> dict[str, float]:
    """Seconds from each name's last heartbeat to the first listing without it."""
    gone: dict[str, float] = {}
    deadline = time.monotonic() + limit
    while len(gone) < len(last) and time.monotonic() < deadline:
        async with session.get(f"{url}/nodes") as resp:
            listed = {node["name"] for node in (await resp.json())["nodes"]}
        now = time.monotonic()
        for name, at in last.items():
            if name not in listed and name not in gone:
                gone[name] = now - at
        await asyncio.sleep(0.05)
    return gone


async def load(url: str, pid: int, nodes: int, seconds: float, ttl: float) -> dict[str, Any]:
    names = [f"bench-{i:04d}" for i in range(nodes)]
    timeout = aiohttp.ClientTimeout(total=5)
    connector = aiohttp.TCPConnector(limit=200)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        cpu_before, wall_before = cpu_seconds(pid), time.monotonic()
        listing = asyncio.create_task(time_listing(session, url, wall_before + seconds))
        latencies, last, failures = await renew_all(session, url, names, seconds)
        cpu = (cpu_seconds(pid) - cpu_before) / (time.monotonic() - wall_before)
        listings = await listing
        gone = await watch_expiry(session, url, last, limit=ttl * 2 + 5)
    delays = sorted(gone.values())
    return {
        "nodes": nodes,
        "seconds": seconds,
        "ttl": ttl,
        "renewals": len(latencies),
        "failures": failures,
        "renew_p50": percentile(latencies, 50),
        "renew_p99": percentile(latencies, 99),
        "registry_cpu": cpu,
        "list_p50": percentile(listings, 50),
        "list_p99": percentile(listings, 99),
        "list_samples": len(listings),
        "expired": len(gone),
        "expiry_min": delays[0] if delays else None,
        "expiry_median": percentile(delays, 50),
        "expiry_max": delays[-1] if delays else None,
        "latency_quantiles": [percentile(latencies, q) for q in range(1, 101)],
        "expiry": delays,
    }


def run(nodes: int, seconds: float, ttl: float | None) -> dict[str, Any]:
    with Group() as group:
        registry = group.start(registry_command(ttl))
        url = registry.started()
        with on_core(LOAD_CORE):  # the load runs beside the registry, not on it
            result = asyncio.run(load(url, registry.pid, nodes, seconds, ttl or DEFAULT_TTL))
    result["commands"] = [shown(registry_command(ttl)), "python -m bench (the load: this module)"]
    return result
