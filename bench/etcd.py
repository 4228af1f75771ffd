"""Part 4, the production reference: the same failover trial against a 3-member etcd cluster.

Debian's ``etcd-server`` on loopback, with etcd's heartbeat and election timeouts set to
the timings under test. A member's leader is read from etcd's JSON gateway
(``POST /v3/maintenance/status``); a trial kills the leader with SIGKILL, times until
both survivors name the same new leader, then starts the member again on its data.
"""

from __future__ import annotations

import asyncio
import base64
import shutil
import socket
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from bench.procs import Group, Service
from bench.settings import Mode, Timing

MEMBERS = ("e1", "e2", "e3")


def b64(data: bytes) -> str:
    """A key or value as etcd's JSON gateway takes it: in base64."""
    return base64.b64encode(data).decode("ascii")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def etcd_command(
    name: str, data: Path, ports: dict[str, tuple[int, int]], timing: Timing
) -> list[str]:
    client, peer = ports[name]
    cluster = ",".join(f"{n}=http://127.0.0.1:{p}" for n, (_, p) in ports.items())
    return [
        "etcd", "--name", name, "--data-dir", str(data / name),
        "--listen-client-urls", f"http://127.0.0.1:{client}",
        "--advertise-client-urls", f"http://127.0.0.1:{client}",
        "--listen-peer-urls", f"http://127.0.0.1:{peer}",
        "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
        "--initial-cluster", cluster, "--initial-cluster-state", "new",
        "--heartbeat-interval", str(round((timing.heartbeat or 0.1) * 1000)),
        "--election-timeout", str(round((timing.election or 1.0) * 1000)),
        "--logger", "zap", "--log-level", "error",
    ]  # fmt: skip


async def status(session: aiohttp.ClientSession, client_port: int) -> tuple[str, str] | None:
    """(this member's id, the leader it knows, "0" for none), or None if it does not answer."""
    url = f"http://127.0.0.1:{client_port}/v3/maintenance/status"
    try:
        async with session.post(url, json={}) as resp:
            body = await resp.json()
        return str(body["header"]["member_id"]), str(body.get("leader", "0"))
    except (aiohttp.ClientError, TimeoutError, ValueError, KeyError):
        return None


async def agreed_leader(session: aiohttp.ClientSession, ports: list[int]) -> str | None:
    views = await asyncio.gather(*(status(session, port) for port in ports))
    leaders = {view[1] if view else None for view in views}
    if len(leaders) == 1 and None not in leaders and "0" not in leaders:
        return leaders.pop()
    return None


async def wait_leader(
    session: aiohttp.ClientSession, ports: list[int], timeout: float, not_: str = ""
) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        leader = await agreed_leader(session, ports)
        if leader is not None and leader != not_:
            return leader
        await asyncio.sleep(0.005)
    raise RuntimeError(f"etcd: no agreed leader within {timeout}s")


async def trials(timing: Timing, count: int, group: Group, data: Path) -> list[float]:
    ports = {name: (free_port(), free_port()) for name in MEMBERS}
    members: dict[str, Service] = {}
    for name in MEMBERS:
        members[name] = group.start(etcd_command(name, data, ports, timing))
    client_ports = {name: ports[name][0] for name in MEMBERS}
    times = []
    timeout = aiohttp.ClientTimeout(total=0.5)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        for _ in range(count):
            leader = await wait_leader(session, list(client_ports.values()), 30)
            ids = {name: await status(session, port) for name, port in client_ports.items()}
            old = next(name for name, view in ids.items() if view and view[0] == leader)
            survivors = [port for name, port in client_ports.items() if name != old]
            start = time.monotonic()
            members[old].proc.kill()
            await wait_leader(session, survivors, 30, not_=leader)
            times.append(time.monotonic() - start)
            await asyncio.to_thread(members[old].proc.wait, 10)
            members[old] = group.start(etcd_command(old, data, ports, timing))
        await wait_leader(session, list(client_ports.values()), 30)
    for member in members.values():
        member.stop()
    return times


def unavailable() -> str | None:
    """Why etcd cannot run here, or None."""
    if shutil.which("etcd") is None:
        return "etcd is not installed (Debian's etcd-server; `make bench` installs it with apt-get)"
    return None


def run(mode: Mode) -> dict[str, Any]:
    if not mode.etcd_timings:  # this mode does not compare: whether etcd is here is moot
        return {"skipped": f"not in {mode.name} mode", "trials": []}
    reason = unavailable()
    if reason is not None:
        return {"skipped": reason, "trials": []}
    results = []
    for timing in mode.etcd_timings:
        with Group() as group, tempfile.TemporaryDirectory(prefix="ddb-etcd-") as tmp:
            times = asyncio.run(trials(timing, mode.failover_trials, group, Path(tmp)))
        results.append(
            {"system": "etcd", "timing": timing.label, "signal": "SIGKILL", "times": times}
        )
    ports = {name: (2379 + 10 * i, 2380 + 10 * i) for i, name in enumerate(MEMBERS)}
    example = etcd_command("e1", Path("DIR"), ports, mode.etcd_timings[0])
    note = "(each member alike, on free loopback ports; the timings as in the table)"
    return {"skipped": None, "trials": results, "commands": [" ".join(example), note]}
