"""Part 7's recovery, etcd's side: how long one etcd member takes to start on N entries.

The same log as :mod:`bench.recovery` writes for ours, written the only way etcd takes one:
a member alone (a cluster of one, etcd's default timings) is sent N puts of the same 100-byte
values over the same thousand keys, 64 at a time through its JSON gateway, and stopped. It is
then started again on its data directory and timed from ``Popen`` until a serializable range
of the last key written returns its value.

etcd does not replay its whole log: it keeps the applied key/value state on disk (bbolt),
replays only the write-ahead log after the last state it saved, and snapshots every 100,000
entries by default (``--snapshot-count``). That is the difference this part shows.
"""

from __future__ import annotations

import asyncio
import base64
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp

from bench import etcd
from bench.kv import SERVER_CORE
from bench.load import VALUE
from bench.procs import Group, pinned
from bench.recovery import PATIENCE, key, timed_start
from bench.settings import ETCD_DEFAULT

CONNECTIONS = 64
NAME = "e1"


def member(data: Path, ports: dict[str, tuple[int, int]]) -> list[str]:
    return pinned(SERVER_CORE, etcd.etcd_command(NAME, data, ports, ETCD_DEFAULT))


async def put_all(url: str, entries: int) -> None:
    """``entries`` puts, ``CONNECTIONS`` at a time, each one entry in etcd's log."""
    queue = iter(range(1, entries + 1))
    value = etcd.b64(VALUE)

    async def client(session: aiohttp.ClientSession) -> None:
        for i in queue:  # one shared iterator: each index is put once
            body = {"key": etcd.b64(key(i).encode()), "value": value}
            async with session.post(f"{url}/v3/kv/put", json=body) as resp:
                if resp.status != 200:
                    raise RuntimeError(f"etcd refused put {i}: {resp.status} {await resp.text()}")

    connector = aiohttp.TCPConnector(limit=CONNECTIONS)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(client(session) for _ in range(CONNECTIONS)))


async def serves(session: aiohttp.ClientSession, url: str, entries: int) -> bool:
    """Whether the member answers a serializable range of the last key with its value."""
    body = {"key": etcd.b64(key(entries).encode()), "serializable": True}
    try:
        async with session.post(f"{url}/v3/kv/range", json=body) as resp:
            if resp.status != 200:
                return False
            kvs = (await resp.json()).get("kvs", [])
    except (aiohttp.ClientError, TimeoutError, ValueError):
        return False
    return entries == 0 or bool(kvs and base64.b64decode(kvs[0]["value"]) == VALUE)


async def start_up(group: Group, data: Path, ports: dict[str, tuple[int, int]], n: int) -> float:
    url = f"http://127.0.0.1:{ports[NAME][0]}"
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=1)) as session:
        return await timed_start(
            group, member(data, ports), lambda: serves(session, url, n), f"etcd on {n} entries"
        )


def directory_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


async def wait_ready(url: str) -> None:
    deadline = time.monotonic() + PATIENCE
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=1)) as session:
        while not await serves(session, url, 0):
            if time.monotonic() > deadline:
                raise RuntimeError(f"etcd at {url} did not start within {PATIENCE}s")
            await asyncio.sleep(0.01)


def run(group: Group, root: Path, entries: int, starts: int) -> dict[str, Any]:
    """Write ``entries`` puts to a fresh member in ``root``, then time ``starts`` start-ups."""
    ports = {NAME: (etcd.free_port(), etcd.free_port())}
    url = f"http://127.0.0.1:{ports[NAME][0]}"
    writer = group.start(member(root, ports))
    try:
        asyncio.run(wait_ready(url))
        asyncio.run(put_all(url, entries))
    finally:
        writer.stop()
    times = [asyncio.run(start_up(group, root, ports, entries)) for _ in range(starts)]
    return {"times": times, "bytes": directory_size(root / NAME)}


def alongside(rows: list[dict[str, Any]], group: Group, root: Path, starts: int) -> None:
    """Add etcd's start-ups to each row of :func:`bench.recovery.run`, on as many puts."""
    for row in rows:
        n = row["entries"]
        row["etcd"] = run(group, root / str(n), n, starts)
        took = statistics.median(row["etcd"]["times"])
        print(f"bench:   etcd start-up on {n:,} entries: {took:.2f}s", file=sys.stderr, flush=True)
