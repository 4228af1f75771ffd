"""The project's own client as a load generator: ``KVClient``, one task or many.

Run as a process of its own (pinned to the load's core), it prints one line of JSON::

    python -m bench.load --url http://127.0.0.1:9200 --op GET --tasks 64 --seconds 5
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

import aiohttp

from stages.v1_kv.client import KVClient

VALUE = b"x" * 100
KEY = "bench"


def percentile(samples: list[float], q: float) -> float:
    """The q-th percentile (0-100) by the nearest rank; 0.0 for no samples."""
    if not samples:
        return 0.0
    ordered = sorted(samples)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered)) - 1))
    return ordered[rank]


# --8<-- [start:client_load]
async def client_load(url: str, op: str, tasks: int, seconds: float) -> dict[str, float]:
    """``tasks`` tasks share one KVClient and send ``op`` back to back for ``seconds``."""
    latencies: list[float] = []
    async with KVClient(url) as kv:
        await kv.put(KEY, VALUE)
        deadline = time.monotonic() + seconds

        async def worker() -> None:
            while (start := time.monotonic()) < deadline:
                await (kv.get(KEY) if op == "GET" else kv.put(KEY, VALUE))
                latencies.append(time.monotonic() - start)

        began = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(tasks)))
        elapsed = time.monotonic() - began
    return {
        "requests": len(latencies),
        "seconds": elapsed,
        "rps": len(latencies) / elapsed,
        "p50": percentile(latencies, 50),
        "p99": percentile(latencies, 99),
    }


# --8<-- [end:client_load]


async def http_load(
    method: str, url: str, body: bytes, connections: int, seconds: float
) -> dict[str, float]:
    """The same request over ``connections`` keep-alive connections, back to back, with
    aiohttp's bare client (for a server that is not ours); the figures as wrk gives them."""
    latencies: list[float] = []
    failed = 0
    connector = aiohttp.TCPConnector(limit=connections)
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        deadline = time.monotonic() + seconds

        async def worker() -> None:
            nonlocal failed
            while (start := time.monotonic()) < deadline:
                async with session.request(method, url, data=body) as resp:
                    await resp.read()
                    failed += resp.status >= 400
                latencies.append(time.monotonic() - start)

        began = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.monotonic() - began
    return {
        "requests": len(latencies),
        "seconds": elapsed,
        "rps": len(latencies) / elapsed,
        "errors": 0,
        "non2xx": failed,
        "p50": percentile(latencies, 50),
        "p99": percentile(latencies, 99),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--op", choices=("GET", "PUT"), default="GET")
    parser.add_argument("--tasks", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    result = asyncio.run(client_load(args.url, args.op, args.tasks, args.seconds))
    print("LOAD_JSON " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
