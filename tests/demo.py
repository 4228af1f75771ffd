"""Helpers for tests of a running demo and its dashboard (``ddb v2 demo`` to ``ddb v3 demo``),
and a supervisor of sleeping children for the dashboard's in-process tests.

Each demo gets free ports: the registry's and the nodes' from pytest's
``unused_tcp_port_factory`` (a node's port must be known before it starts, and the next
ones are taken in a row), the dashboard's with ``--dashboard-port 0``.
"""

from __future__ import annotations

import contextlib
import random
import re
import socket
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import aiohttp

from workbench.demo.supervisor import Supervisor
from workbench.harness import SETUP, DdbProcess, Processes, wait_until

SLEEPER = [sys.executable, "-c", "import time; time.sleep(120)"]


def free_run(count: int) -> int:
    """The first of ``count`` consecutive ports that are free now (``--first-node-port``).

    Below the kernel's ephemeral range: between this check and the nodes' bind, the demo
    opens dozens of connections (its registry's readiness polls), and the kernel takes
    each one's source port from that range, in a row; one of them could take a node's port.
    """
    ephemeral = Path("/proc/sys/net/ipv4/ip_local_port_range")
    try:
        lowest_ephemeral = int(ephemeral.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        lowest_ephemeral = 32768  # Linux's default (and no /proc elsewhere)
    for _ in range(100):
        first = random.randrange(10000, max(lowest_ephemeral - count, 10001))
        try:
            with contextlib.ExitStack() as held:
                for port in range(first, first + count):
                    sock = held.enter_context(socket.socket())
                    sock.bind(("127.0.0.1", port))
        except OSError:
            continue  # one of them is taken: try another run
        return first
    raise AssertionError(f"found no {count} consecutive free ports")


def start_demo(
    processes: Processes,
    port_factory: Callable[[], int],
    *args: str,
    stage: str = "v2.1",
    dashboard_port: int = 0,
    room: int = 1,
) -> DdbProcess:
    """A demo on free ports, with ``room`` free ports after its nodes' for added ones."""
    nodes = int(args[args.index("--nodes") + 1]) if "--nodes" in args else 3
    return processes.start(
        stage, "demo", "--registry-port", str(port_factory()),
        "--first-node-port", str(free_run(nodes + room)),
        "--dashboard-port", str(dashboard_port), *args,
    )  # fmt: skip


DASHBOARD_LINE = r"Dashboard: (http://127\.0\.0\.1:\d+)/"


async def dashboard_url(demo: DdbProcess) -> str:
    return (await demo.wait_for_log(DASHBOARD_LINE, timeout=SETUP)).group(1)


def dashboard_url_now(demo: DdbProcess, timeout: float = SETUP) -> str:
    """The same, for tests without an event loop (the browser's): poll with a deadline."""
    deadline = time.monotonic() + timeout
    while (match := re.search(DASHBOARD_LINE, demo.log)) is None:
        if demo.proc.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"the demo printed no dashboard address:\n{demo.log}")
        time.sleep(0.05)  # polling the log, with a deadline
    return match.group(1)


async def call(method: str, url: str) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session, session.request(method, url) as resp:
        return resp.status, await resp.json()


async def cluster(url: str) -> dict[str, Any]:
    status, body = await call("GET", f"{url}/api/cluster")
    assert status == 200, body
    return body


def by_name(state: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {node["name"]: node for node in state["nodes"]}


async def settled(url: str, nodes: int = 3) -> dict[str, Any]:
    """Wait until every node runs, is registered and follows one leader; return that state."""
    state: dict[str, Any] = {}

    async def agreed() -> bool:
        nonlocal state
        state = await cluster(url)
        leaders = {node["leader"] for node in state["nodes"]}
        return (
            len(state["nodes"]) == nodes
            and all(n["process"] == "running" and n["registered"] for n in state["nodes"])
            and len(leaders) == 1
            and None not in leaders
        )

    try:
        await wait_until(agreed, timeout=SETUP, what=f"{nodes} nodes to agree on a leader")
    except AssertionError as exc:
        seen = [{k: n.get(k) for k in ("name", "process", "registered", "role", "term", "leader")}
                for n in state.get("nodes", [])]  # fmt: skip
        raise AssertionError(f"{exc}; the dashboard's last look: {seen}") from None
    return state


@contextlib.contextmanager
def sleeping_children(names: Iterable[str], port: Callable[[], int]) -> Iterator[Supervisor]:
    """A demo's supervisor whose children are sleepers, one per name, each given a free port
    that nothing listens on (a test serves a fake node there); every one ends afterwards."""
    supervisor = Supervisor(lambda name, port, added: SLEEPER, env={})
    try:
        for name in names:
            supervisor.start_node(name, port())
        yield supervisor
    finally:
        supervisor.stop_all()
