"""Part 7's recovery: how long a v3.0 node takes to start on a log of N entries.

The log is written beforehand by the stage's own :class:`WriteAheadLog`, as a leader under
load writes it: puts of 100-byte values over a thousand keys, in batches of 64 entries (one
record and one fsync each), all committed at term 1. A node (the only voter of its
cluster) is then started on it, and timed from ``Popen`` until it answers a stale read of
the last key written with its value: the interpreter's start, the replay of every record,
and the state machine rebuilt from the committed entries. An empty log gives the start-up
that every size pays; what a size adds to it is its replay.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp

from bench.etcd import free_port
from bench.kv import SERVER_CORE
from bench.load import VALUE
from bench.procs import DDB, Group, pinned, shown
from bench.settings import Mode
from stages.v2_1_election.core import HardState
from stages.v3_replicated_log.kv import Command
from stages.v3_replicated_log.machine import encode
from stages.v3_replicated_log.messages import Entry
from stages.v3_replicated_log.wal import FILE_NAME, WriteAheadLog

BATCH = 64  # entries per record, as a leader saves them under 64 connections
KEYS = 1_000
PATIENCE = 120.0
Ready = Callable[[], Awaitable[bool]]


def key(index: int) -> str:
    return f"k{index % KEYS}"


def write_log(directory: Path, entries: int) -> int:
    """A committed log of ``entries`` puts in ``directory``; its size in bytes."""
    wal = WriteAheadLog.open(directory)
    value = encode(VALUE)
    try:
        wal.save([], HardState(term=1, voted_for="n1"), None)
        for first in range(1, entries + 1, BATCH):
            batch = [
                Entry(i, 1, Command("put", key(i), "bench", i, value).to_data())
                for i in range(first, min(first + BATCH, entries + 1))
            ]
            wal.save(batch, None, batch[-1].index)
    finally:
        wal.close()
    return (directory / FILE_NAME).stat().st_size


def node_argv(registry: str, port: int, data: Path) -> list[str]:
    return pinned(
        SERVER_CORE,
        [
            *(*DDB, "v3", "node", "-ra", registry, "--name", "n1", "--port", str(port)),
            *("--voters", "n1", "--data-dir", str(data)),
        ],
    )


async def answered(url: str, entries: int) -> bool:
    """Whether the node serves the last key written (any answer, for an empty log)."""
    path = f"/kv/{key(entries)}?consistency=stale"
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=1)) as session,
            session.get(url + path) as resp,
        ):
            return entries == 0 or (resp.status == 200 and await resp.read() == VALUE)
    except (aiohttp.ClientError, TimeoutError):
        return False


async def timed_start(group: Group, argv: list[str], ready: Ready, what: str) -> float:
    """Start ``argv``; the seconds until ``ready()`` says it serves. Stops it either way."""
    began = time.monotonic()
    service = group.start(argv)
    try:
        while not await ready():
            if time.monotonic() - began > PATIENCE or service.proc.poll() is not None:
                raise RuntimeError(f"{what} did not start:\n{service.lines}")
            await asyncio.sleep(0.005)
        return time.monotonic() - began
    finally:
        service.stop()


async def start_up(group: Group, registry: str, data: Path, entries: int) -> float:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    argv = node_argv(registry, port, data)
    return await timed_start(
        group, argv, lambda: answered(url, entries), f"a node on {entries} entries"
    )


def run(mode: Mode, group: Group, registry: str, root: Path) -> list[dict[str, Any]]:
    rows = []
    for entries in (0, *mode.v3_log_sizes):
        data = root / str(entries)
        size = write_log(data, entries)
        times = [
            asyncio.run(start_up(group, registry, data, entries)) for _ in range(mode.v3_starts)
        ]
        rows.append({"entries": entries, "bytes": size, "times": times})
        print(
            f"bench:   v3.0 start-up on {entries:,} entries: {statistics.median(times):.2f}s",
            flush=True,
            file=sys.stderr,
        )
    return rows


def commands() -> list[str]:
    return [shown(node_argv("URL", 0, Path("DIR"))) + "   (recovery: DIR holds N entries)"]
