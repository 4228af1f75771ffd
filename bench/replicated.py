"""Part 7: the replicated log (v3.0) against etcd, both measured in the same run.

Two clusters of 3 members run on loopback at once, ``ddb v3 node`` (and its v2 registry)
and etcd, with etcd's default timings (heartbeat 100 ms, election timeout 1 s), their data
in one temporary directory (one disk), on core 0; the load runs on core 1. Each round
measures every figure on both systems, the one measured first alternating:

- ``put 1``: puts over one connection, each waiting for the last (latency);
- ``put 64``: puts over 64 connections (throughput);
- ``read 64``: linearizable reads (ours by ReadIndex; etcd's default range);
- ``stale 64``: ours ``?consistency=stale``, etcd's serializable range.

etcd is driven through its HTTP/JSON gateway (``/v3/kv/put``, ``/v3/kv/range``, key and
value in base64), so both answer HTTP/1.1 to the same load tool; every request goes to the
leader. Then each leader is killed with SIGKILL a few times: the time from the kill to the
first write a survivor acknowledges, and the killed member's time from its restart to
serving that write from its own state. :mod:`bench.recovery` times a start-up replay
against the log's length, and :mod:`bench.recovery_etcd` an etcd member's on as many puts.
"""

from __future__ import annotations

import asyncio
import base64
import json
import tempfile
import time
from collections.abc import Awaitable
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import aiohttp

from bench import etcd, recovery, recovery_etcd
from bench.kv import LOAD_CORE, SERVER_CORE, have_wrk, run_wrk
from bench.load import KEY, VALUE, http_load
from bench.procs import DDB, Group, Service, cpu_seconds, on_core, pinned, shown
from bench.settings import ETCD_DEFAULT, Mode

NAMES = ("n1", "n2", "n3")
FIGURES = (("put", 1), ("put", 64), ("read", 64), ("stale", 64))  # request, connections
PATIENCE = 60.0  # seconds a cluster may take to elect, or a member to restart, on a busy machine
T = TypeVar("T")
Request = tuple[str, str, str | None]  # method, path, JSON body (None: the 100-byte VALUE)


KEY64 = etcd.b64(KEY.encode())


async def attempt(request: Awaitable[T]) -> T | None:
    """The request's answer, or None if it failed on the way (refused, reset, timed out)."""
    try:
        return await request
    except (aiohttp.ClientError, TimeoutError, ValueError, KeyError):
        return None


class System:
    """One 3-member cluster: each member's client URL, how to start it, and its requests."""

    label = ""
    ops: ClassVar[dict[str, Request]] = {}

    def __init__(self, group: Group, data: Path) -> None:
        self.group, self.data = group, data
        self.ports = {name: (etcd.free_port(), etcd.free_port()) for name in NAMES}
        self.urls = {name: f"http://127.0.0.1:{client}" for name, (client, _) in self.ports.items()}
        self.members: dict[str, Service] = {}

    def argv(self, name: str) -> list[str]:
        raise NotImplementedError

    def start(self, name: str) -> None:
        self.members[name] = self.group.start(pinned(SERVER_CORE, self.argv(name)))

    def live(self) -> list[str]:
        return [name for name, member in self.members.items() if member.proc.poll() is None]

    async def leader(self, session: aiohttp.ClientSession) -> str | None:
        """The leader every live member names, or None while they do not agree."""
        raise NotImplementedError

    async def write(self, session: aiohttp.ClientSession, name: str, value: bytes) -> bool:
        raise NotImplementedError

    async def stale(self, session: aiohttp.ClientSession, name: str) -> tuple[bytes, int]:
        """The value this member holds, and the log index it has applied."""
        raise NotImplementedError

    async def wait_leader(self, session: aiohttp.ClientSession) -> str:
        deadline = time.monotonic() + PATIENCE
        while time.monotonic() < deadline:
            if (leader := await self.leader(session)) is not None:
                return leader
            await asyncio.sleep(0.01)
        raise RuntimeError(f"{self.label}: no agreed leader within {PATIENCE:g}s")


def v3_argv(registry: str, name: str, port: int, data: Path) -> list[str]:
    return [
        *(*DDB, "v3", "node", "-ra", registry, "--name", name, "--port", str(port)),
        *("--voters", ",".join(NAMES), "--data-dir", str(data), *ETCD_DEFAULT.flags("quorum")),
    ]


class Ours(System):
    label = "v3.0"
    ops: ClassVar[dict[str, Request]] = {
        "put": ("PUT", f"/kv/{KEY}", None),
        "read": ("GET", f"/kv/{KEY}", None),
        "stale": ("GET", f"/kv/{KEY}?consistency=stale", None),
    }

    def __init__(self, group: Group, data: Path, registry: str) -> None:
        super().__init__(group, data)
        self.registry = registry

    def argv(self, name: str) -> list[str]:
        return v3_argv(self.registry, name, self.ports[name][0], self.data / name)

    async def leader(self, session: aiohttp.ClientSession) -> str | None:
        async def status(name: str) -> Any:
            async with session.get(f"{self.urls[name]}/cluster/status") as resp:
                return await resp.json()

        views = await asyncio.gather(*(attempt(status(name)) for name in self.live()))
        leaders = {view["leader"] if view else None for view in views}
        leader = leaders.pop() if len(leaders) == 1 else None
        return leader if leader in self.live() else None

    async def write(self, session: aiohttp.ClientSession, name: str, value: bytes) -> bool:
        async with session.put(f"{self.urls[name]}/kv/{KEY}", data=value) as resp:
            return resp.status in (200, 201)  # through a follower: 307 to the leader, followed

    async def stale(self, session: aiohttp.ClientSession, name: str) -> tuple[bytes, int]:
        async with session.get(f"{self.urls[name]}/kv/{KEY}?consistency=stale") as resp:
            return await resp.read(), int(resp.headers["X-Raft-Applied"])


class Etcd(System):
    label = "etcd"
    ops: ClassVar[dict[str, Request]] = {
        "put": ("POST", "/v3/kv/put", json.dumps({"key": KEY64, "value": etcd.b64(VALUE)})),
        "read": ("POST", "/v3/kv/range", json.dumps({"key": KEY64})),
        "stale": ("POST", "/v3/kv/range", json.dumps({"key": KEY64, "serializable": True})),
    }

    def argv(self, name: str) -> list[str]:
        return etcd.etcd_command(name, self.data, self.ports, ETCD_DEFAULT)

    async def leader(self, session: aiohttp.ClientSession) -> str | None:
        live = self.live()
        views = await asyncio.gather(*(etcd.status(session, self.ports[n][0]) for n in live))
        leaders = {view[1] if view else None for view in views}
        ids = {view[0]: name for name, view in zip(live, views, strict=True) if view}
        leader = leaders.pop() if len(leaders) == 1 else None
        return ids.get(leader) if leader is not None else None

    async def write(self, session: aiohttp.ClientSession, name: str, value: bytes) -> bool:
        body = {"key": KEY64, "value": etcd.b64(value)}
        async with session.post(f"{self.urls[name]}/v3/kv/put", json=body) as resp:
            return resp.status == 200

    async def stale(self, session: aiohttp.ClientSession, name: str) -> tuple[bytes, int]:
        body = {"key": KEY64, "serializable": True}
        async with session.post(f"{self.urls[name]}/v3/kv/range", json=body) as resp:
            kvs = (await resp.json()).get("kvs", [])
        async with session.post(f"{self.urls[name]}/v3/maintenance/status", json={}) as resp:
            index = int((await resp.json())["raftIndex"])
        return (base64.b64decode(kvs[0]["value"]) if kvs else b""), index


async def start(systems: list[System]) -> dict[str, str]:
    """Start every member, write the key once; each system's leader."""
    for system in systems:
        for name in NAMES:
            system.start(name)
    leaders = {}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
        for system in systems:
            leaders[system.label] = leader = await system.wait_leader(session)
            await first_write(session, system, [leader], VALUE)
    return leaders


def load(system: System, leader: str, op: str, connections: int, seconds: float, tool: str) -> Any:
    (method, path, body), url = system.ops[op], system.urls[leader]
    if tool == "wrk":
        return run_wrk(url, method, seconds, connections, path, body)
    data = body.encode() if body else VALUE
    return asyncio.run(http_load(method, url + path, data, connections, seconds))


def measure(mode: Mode, systems: list[System], leaders: dict[str, str], tool: str) -> list[Any]:
    """Every figure on both systems, ``v3_rounds`` times; with the CPU time the leader, and
    the whole cluster, spent per request (from ``/proc``: waiting for the core is left out)."""
    runs = []
    for round_ in range(mode.v3_rounds):
        order = systems if round_ % 2 == 0 else systems[::-1]
        for op, connections in FIGURES:
            figure = f"{op} {connections}"
            for system in order:
                leader = leaders[system.label]
                pids = [system.members[leader].pid] + [
                    m.pid for name, m in system.members.items() if name != leader
                ]
                cpu = [cpu_seconds(pid) for pid in pids]
                result = load(system, leader, op, connections, mode.v3_seconds, tool)
                spent = [cpu_seconds(pid) - was for pid, was in zip(pids, cpu, strict=True)]
                each = 1e6 / max(1, result["requests"])
                result |= {"leader_cpu_us": spent[0] * each, "cluster_cpu_us": sum(spent) * each}
                runs.append({"system": system.label, "figure": figure, "round": round_, **result})
    return runs


async def first_write(
    session: aiohttp.ClientSession, system: System, names: list[str], value: bytes
) -> None:
    """Send the write through every named member every 10 ms until one acknowledges it,
    not waiting for earlier attempts: a member without a leader may hold one until it
    times out (etcd drops the proposal), and a later one may go through meanwhile."""
    attempts: set[asyncio.Task[bool | None]] = set()
    began = time.monotonic()
    try:
        for tick in range(1, round(PATIENCE / 0.01)):
            for name in names:
                attempts.add(asyncio.create_task(attempt(system.write(session, name, value))))
            done, attempts = await asyncio.wait(attempts, timeout=0.01)
            if any(task.result() for task in done):
                return
            await asyncio.sleep(began + tick * 0.01 - time.monotonic())
    finally:
        for task in attempts:
            task.cancel()
        await asyncio.gather(*attempts, return_exceptions=True)
    raise RuntimeError(f"{system.label}: no write acknowledged within {PATIENCE:g}s")


async def serves(session: aiohttp.ClientSession, system: System, name: str, value: bytes) -> int:
    """Wait until ``name`` serves ``value`` from its own state; its log's length then."""
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        held = await attempt(system.stale(session, name))
        if held is not None and held[0] == value:
            return held[1]
        await asyncio.sleep(0.01)
    raise RuntimeError(f"{system.label}: {name} did not serve the last write")


async def kill_trials(system: System, count: int) -> list[dict[str, float]]:
    """Kill the leader; time the first write a survivor acknowledges, then the killed
    member's restart until it serves that write (replay, rejoin, catch up)."""
    trials = []
    timeout, connector = aiohttp.ClientTimeout(total=1), aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        for trial in range(count):
            old = await system.wait_leader(session)
            value = f"written after kill {trial + 1}".encode()
            began = time.monotonic()
            system.members[old].proc.kill()
            await first_write(session, system, [name for name in NAMES if name != old], value)
            failover = time.monotonic() - began
            await asyncio.to_thread(system.members[old].proc.wait, 10)
            began = time.monotonic()
            system.start(old)
            log = await serves(session, system, old, value)
            trials.append({"failover": failover, "restart": time.monotonic() - began, "log": log})
        await system.wait_leader(session)
    return trials


def run(mode: Mode) -> dict[str, Any]:
    tool = "wrk" if mode.wrk and have_wrk() else "aiohttp"
    skipped = etcd.unavailable() if mode.v3_etcd else f"not in {mode.name} mode"
    with Group() as group, tempfile.TemporaryDirectory(prefix="ddb-v3-bench-") as tmp:
        registry = group.start(pinned(LOAD_CORE, [*DDB, "v2", "registry", "--port", "0"]))
        systems: list[System] = [Ours(group, Path(tmp) / "v3", registry.started())]
        if skipped is None:
            systems.append(Etcd(group, Path(tmp) / "etcd"))
        leaders = asyncio.run(start(systems))
        with on_core(LOAD_CORE):
            runs = measure(mode, systems, leaders, tool)
            kills = {s.label: asyncio.run(kill_trials(s, mode.v3_kills)) for s in systems}
        replay = recovery.run(mode, group, registry.url, Path(tmp) / "replay")
        if skipped is None:
            recovery_etcd.alongside(replay, group, Path(tmp) / "etcd-replay", mode.v3_starts)
    commands = [shown(pinned(SERVER_CORE, v3_argv("URL", "NAME", 0, Path("DIR/NAME"))))]
    commands.append("(each member alike, on free loopback ports; etcd's as in part 4)")
    return {
        "tool": tool,
        "etcd_skipped": skipped,
        "runs": runs,
        "kills": kills,
        "recovery": replay,
        "commands": commands + recovery.commands(),
    }
