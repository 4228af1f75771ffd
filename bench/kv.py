"""Parts 1 and 2: key/value throughput and latency, and the project's own client.

Three servers run side by side, each pinned to core 0: the v1 server, a v2.1 node (with
its registry, on core 1) and the bare aiohttp app of :mod:`bench.bare`. The load runs on
core 1. Each round measures every server and operation once, in a rotating order, so that
a noisy neighbour lands on all of them alike; a ratio is taken within a round.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import statistics
import subprocess
from pathlib import Path
from typing import Any

import aiohttp

from bench.load import KEY, VALUE, client_load
from bench.procs import DDB, PYTHON, Group, cpu_seconds, on_core, pinned, shown
from bench.settings import Mode

SCRIPT = Path(__file__).with_name("kv.lua")
SERVER_CORE, LOAD_CORE = 0, 1
CONNECTIONS = 64
SERVERS = ("bare", "v1", "v2.1")
OPS = ("GET", "PUT")


def wrk_command(
    url: str, seconds: float, connections: int = CONNECTIONS, path: str = f"/kv/{KEY}"
) -> list[str]:
    return pinned(
        LOAD_CORE,
        [
            "wrk",
            f"-t{min(2, connections)}",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "-s",
            str(SCRIPT),
            f"{url}{path}",
        ],
    )


def run_wrk(
    url: str,
    op: str,
    seconds: float,
    connections: int = CONNECTIONS,
    path: str = f"/kv/{KEY}",
    body: str | None = None,
) -> dict[str, Any]:
    """wrk's figures for ``op`` (GET, PUT, or POST with a JSON ``body``) on ``url + path``."""
    argv = wrk_command(url, seconds, connections, path)
    env = {**os.environ, "WRK_METHOD": op, **({"WRK_BODY": body} if body else {})}
    out = subprocess.run(
        argv,
        env=env,
        capture_output=True,
        text=True,
        timeout=seconds + 30,
        check=True,
    ).stdout
    line = next(x for x in out.splitlines() if x.startswith("WRK_JSON "))
    result = json.loads(line.removeprefix("WRK_JSON "))
    result["rps"] = result["requests"] / result["seconds"]
    return result


def run_client(url: str, op: str, tasks: int, seconds: float) -> dict[str, Any]:
    """KVClient as the load, in this process (which runs on the load's core meanwhile)."""
    return asyncio.run(client_load(url, op, tasks, seconds))


def load_command(url: str, op: str, tasks: int, seconds: float) -> list[str]:
    return pinned(
        LOAD_CORE,
        [
            *(PYTHON, "-m", "bench.load", "--url", url, "--op", op),
            *("--tasks", str(tasks), "--seconds", f"{seconds:g}"),
        ],
    )


def have_wrk() -> bool:
    return shutil.which("wrk") is not None


def start_servers(group: Group) -> dict[str, tuple[str, int]]:
    """The three servers, each pinned to the server core; their URLs and process ids."""
    bare = group.start(pinned(SERVER_CORE, [PYTHON, "-m", "bench.bare", "--port", "0"]))
    v1 = group.start(pinned(SERVER_CORE, [*DDB, "v1", "server", "--port", "0"]))
    registry = group.start(
        pinned(
            LOAD_CORE,
            [
                *DDB,
                "v2",
                "registry",
                "--port",
                "0",
            ],
        )
    )
    registry_url = registry.started()
    node_argv = [*DDB, "v2.1", "node", "-ra", registry_url, "--name", "n1", "--port", "0"]
    node = group.start(pinned(SERVER_CORE, node_argv))
    return {name: (s.started(), s.pid) for name, s in (("bare", bare), ("v1", v1), ("v2.1", node))}


async def put_value(url: str) -> None:
    async with aiohttp.ClientSession() as session, session.put(f"{url}/kv/{KEY}", data=VALUE):
        pass


def server_commands() -> list[str]:
    return [
        shown(pinned(SERVER_CORE, [PYTHON, "-m", "bench.bare", "--port", "0"])),
        shown(pinned(SERVER_CORE, [*DDB, "v1", "server", "--port", "0"])),
        shown(pinned(LOAD_CORE, [*DDB, "v2", "registry", "--port", "0"])),
        shown(pinned(SERVER_CORE, [*DDB, "v2.1", "node", "-ra", "URL", "--name", "n1"])),
    ]


def measure(mode: Mode, servers: dict[str, tuple[str, int]], tool: str) -> list[dict[str, Any]]:
    """Every server and operation, ``kv_rounds`` times, interleaved; with the server's CPU
    time per request, which the neighbours' load inflates far less than the wall clock."""
    runs = []
    for round_ in range(mode.kv_rounds):
        order = SERVERS[round_ % 3 :] + SERVERS[: round_ % 3]
        for op in OPS:
            for server in order:
                url, pid = servers[server]
                cpu = cpu_seconds(pid)
                if tool == "wrk":
                    result = run_wrk(url, op, mode.kv_seconds)
                else:
                    result = run_client(url, op, CONNECTIONS, mode.kv_seconds)
                result["cpu_us"] = (cpu_seconds(pid) - cpu) / max(1, result["requests"]) * 1e6
                runs.append({"server": server, "op": op, "round": round_, **result})
    return runs


def ratios(
    runs: list[dict[str, Any]], server: str, baseline: str, op: str, key: str = "rps"
) -> list[float]:
    """``key`` (requests per second) of ``server`` over ``baseline``, one ratio per round."""
    by = {(r["server"], r["op"], r["round"]): r[key] for r in runs}
    rounds = sorted({r["round"] for r in runs})
    return [by[(server, op, n)] / by[(baseline, op, n)] for n in rounds]


def client_runs(mode: Mode, url: str, tool: str) -> list[dict[str, Any]]:
    """KVClient with one task and with 64, against wrk on the same server."""
    runs = []
    for op in OPS:
        for label, tasks in (("KVClient, 1 task", 1), (f"KVClient, {CONNECTIONS} tasks", 64)):
            result = run_client(url, op, tasks, mode.client_seconds)
            runs.append({"client": label, "op": op, **result})
        if tool == "wrk":
            result = run_wrk(url, op, mode.client_seconds)
            runs.append({"client": f"wrk, {CONNECTIONS} connections", "op": op, **result})
    return runs


def run(mode: Mode) -> dict[str, Any]:
    tool = "wrk" if mode.wrk and have_wrk() else "KVClient"
    with Group() as group, on_core(LOAD_CORE):
        servers = start_servers(group)
        for url, _pid in servers.values():
            asyncio.run(put_value(url))
        runs = measure(mode, servers, tool)
        clients = client_runs(mode, servers["v1"][0], tool)
    summary = {
        f"{server}/{base} {op}": statistics.median(ratios(runs, server, base, op))
        for server, base in (("v1", "bare"), ("v2.1", "bare"), ("v2.1", "v1"))
        for op in OPS
    }
    cpu = {
        f"{server}/{base} {op}": statistics.median(ratios(runs, server, base, op, "cpu_us"))
        for server, base in (("v1", "bare"), ("v2.1", "bare"), ("v2.1", "v1"))
        for op in OPS
    }
    commands = server_commands()
    if tool == "wrk":
        wrk = shown(wrk_command("URL", mode.kv_seconds)).replace(str(SCRIPT), "bench/kv.lua")
        commands += [f"WRK_METHOD={op} {wrk}" for op in OPS]
    commands += [shown(load_command("URL", "GET", 64, mode.client_seconds))]
    return {
        "tool": tool,
        "runs": runs,
        "ratios": summary,
        "cpu_ratios": cpu,
        "clients": clients,
        "commands": commands,
    }
