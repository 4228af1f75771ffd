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
from yarl import URL

from bench.load import percentile
from bench.procs import DDB, Group, cpu_seconds, on_core, pinned, shown
from stages.v2_registry.registry import DEFAULT_TTL

REGISTRY_CORE, LOAD_CORE = 0, 1
RENEW_EVERY = 1.0


def registry_command(ttl: float | None) -> list[str]:
    argv = [*DDB, "v2", "registry", "--port", "0"]
    return pinned(REGISTRY_CORE, argv + (["--ttl", f"{ttl:g}"] if ttl else []))


class Connection:
    """One keep-alive HTTP/1.1 connection, written and read by hand.

    aiohttp's client spends several times the registry's CPU on each request; a thousand
    renewals a second from one Python process would measure the load's own queue, not the
    registry. This sends the same bytes a node's renewal does, and reads the status line.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        return cls(*await asyncio.open_connection(host, port))

    async def post(self, path: str, body: bytes) -> int:
        self.writer.write(
            b"POST %s HTTP/1.1\r\nHost: registry\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (path.encode(), len(body), body)
        )
        head = await self.reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        await self.reader.readexactly(length)
        return int(head.split(b" ", 2)[1])

    def close(self) -> None:
        self.writer.close()


async def renew_all(
    url: str, names: list[str], seconds: float, connections: int = 32
) -> dict[str, Any]:
    """Renew every name once a second for ``seconds``, spread evenly over each second."""
    host, port = URL(url).host or "127.0.0.1", URL(url).port or 80
    latencies: list[float] = []
    lags: list[float] = []  # how late the load sent a renewal: it must keep up
    last: dict[str, float] = {}
    failures = 0
    due: asyncio.Queue[tuple[float, int] | None] = asyncio.Queue()

    async def worker() -> None:
        nonlocal failures
        connection = await Connection.open(host, port)
        try:
            while (item := await due.get()) is not None:
                at, index = item
                start = time.monotonic()
                lags.append(start - at)
                body = b'{"name": "%s", "port": %d, "host": "127.0.0.1"}' % (
                    names[index].encode(),
                    10000 + index,
                )
                try:
                    status = await connection.post("/nodes", body)
                except (OSError, asyncio.IncompleteReadError, ValueError):
                    failures += 1
                    connection.close()
                    connection = await Connection.open(host, port)
                    continue
                if status in (200, 201):
                    latencies.append(time.monotonic() - start)
                    last[names[index]] = start  # the registry's clock starts about here
                else:
                    failures += 1
        finally:
            connection.close()

    workers = [asyncio.create_task(worker()) for _ in range(connections)]
    began = time.monotonic()
    schedule = [
        (began + beat * RENEW_EVERY + RENEW_EVERY * index / len(names), index)
        for beat in range(max(1, round(seconds / RENEW_EVERY)))
        for index in range(len(names))
    ]
    for at, index in schedule:
        if (wait := at - time.monotonic()) > 0.002:
            await asyncio.sleep(wait)
        due.put_nowait((at, index))
    for _ in workers:
        due.put_nowait(None)
    await asyncio.gather(*workers)
    return {"latencies": latencies, "lags": lags, "last": last, "failures": failures}


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
        renewed = await renew_all(url, names, seconds)
        latencies, last, failures = renewed["latencies"], renewed["last"], renewed["failures"]
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
        "lag_p50": percentile(renewed["lags"], 50),
        "lag_p99": percentile(renewed["lags"], 99),
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
    result["commands"] = [
        shown(registry_command(ttl)),
        "(the load: bench/registry_scale.py, in the harness's process, on core 1)",
    ]
    return result
