"""A whole cluster on loopback from one command (what ``make run`` starts).

It starts a registry and a few nodes as child processes, exactly as you would in
separate terminals, and lets their logs interleave on this terminal (every line
says which process wrote it). It prints each child's process id, so that killing a
node (``kill -9 PID``) needs no guessing; that is part of the demo, and the others
carry on. Unless ``--no-dashboard``, it also serves the dashboard
(:mod:`workbench.demo.dashboard`): a page that shows the cluster live and kills,
pauses, resumes and restarts the nodes.

Ctrl-C (or SIGTERM) stops every child: paused ones are resumed first, each node gets
SIGTERM (so it deregisters), the registry last, and the demo waits for all of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType

from aiohttp import web

from stages.v1_kv.runner import format_url, listen
from stages.v2_registry.auth import CLUSTER_TOKEN_ENV, Secret
from workbench.demo.dashboard import Stage, create_dashboard_app
from workbench.demo.supervisor import Child, Supervisor


@dataclass(frozen=True)
class NodeSpec:
    name: str
    port: int


@dataclass(frozen=True)
class Dashboard:
    """Where to serve the dashboard, and what the stage shows on it."""

    port: int  # 0: any free port
    stage: Stage


def _ddb(*args: str) -> list[str]:
    return [sys.executable, "-m", "stages", *args]


def run_demo(
    stage: str,
    registry_port: int,
    nodes: list[NodeSpec],
    node_args: tuple[str, ...] = (),
    token: Secret | None = None,
    dashboard: Dashboard | None = None,
    added_args: tuple[str, ...] = (),
    per_node: Callable[[str], tuple[str, ...]] | None = None,
) -> int:
    """Run a registry and ``nodes`` of ``stage`` until Ctrl-C; return 0 on a clean stop.

    Every node gets ``node_args``; a node added later (the dashboard's *Add a node*) gets
    ``added_args`` after them; ``per_node(name)`` gives one node's own arguments, if any
    (its data directory, say). With a ``token``, every child gets it in
    ``DDB_CLUSTER_TOKEN`` (never on a command line, where ``ps`` would show it).
    """
    env = dict(os.environ)
    if token is not None:
        env[CLUSTER_TOKEN_ENV] = token.reveal()
    registry_url = format_url("127.0.0.1", registry_port)

    def node_command(name: str, port: int, added: bool = False) -> list[str]:
        extra = (*(added_args if added else ()), *(per_node(name) if per_node else ()))
        return _ddb(
            stage,
            "node",
            "-ra",
            registry_url,
            "--name",
            name,
            "--port",
            str(port),
            *node_args,
            *extra,
        )

    sock = None
    if dashboard is not None:  # before any child starts: a busy port stops nothing but us
        try:
            sock = listen("127.0.0.1", dashboard.port)
        except OSError as exc:
            print(
                f"The dashboard {exc}; choose another port with --dashboard-port "
                "(0 picks a free one), or run without it (--no-dashboard).",
                file=sys.stderr,
            )
            return 1
    print(
        f"Starting a registry and {len(nodes)} {stage} nodes on 127.0.0.1 (Ctrl-C stops them all):",
        flush=True,
    )
    stopping = asyncio.Event()  # set by a signal, before or after the event loop starts

    def stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    supervisor = Supervisor(node_command, env)
    # The registry starts first, so that the nodes all find each other from their first beat.
    registry = supervisor.start_registry(
        registry_port, _ddb("v2", "registry", "--port", str(registry_port))
    )
    try:
        if not _registry_ready(registry_port, registry):
            print(
                f"The registry did not start on port {registry_port} (is the port in use? "
                "its error is above); stopping.",
                file=sys.stderr,
            )
            return 1
        _started(registry)
        for node in nodes:
            _started(supervisor.start_node(node.name, node.port))
        if sock is not None:
            print(f"\nDashboard: http://127.0.0.1:{sock.getsockname()[1]}/", flush=True)
        print(flush=True)
        app = None if dashboard is None else create_dashboard_app(supervisor, dashboard.stage)
        asyncio.run(_supervise(supervisor, stopping, app, sock))
    finally:
        signal.signal(signal.SIGINT, stop)  # the event loop, closing, put the defaults back
        signal.signal(signal.SIGTERM, stop)
        if sock is not None:
            sock.close()
        supervisor.stop_all()  # the nodes first: they deregister, so the registry must be up
        print("All stopped.", flush=True)
    return 0


# --8<-- [start:supervise]
async def _supervise(
    supervisor: Supervisor,
    stopping: asyncio.Event,
    app: web.Application | None,
    sock: socket.socket | None,
) -> None:
    """Serve the dashboard (if any) and report each child that exits, until a signal.

    Without a dashboard, the demo also ends once every child has exited: nothing could
    bring them back. With one, the page can still restart them, so it waits for Ctrl-C.
    """
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    runner = None
    if app is not None and sock is not None:
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        await web.SockSite(runner, sock).start()
    reported: set[int] = set()
    try:
        while not stopping.is_set():
            for child in list(supervisor.started):
                status = child.process.poll()
                if status is not None and child.pid not in reported:
                    reported.add(child.pid)  # a killed node is part of the demo: carry on
                    print(f"*** {child.name} exited with status {status}", file=sys.stderr)
            if runner is None and len(reported) == len(supervisor.started):
                print("Every child has exited; the demo ends.", file=sys.stderr)
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), timeout=0.2)
    finally:
        if runner is not None:
            await runner.cleanup()


# --8<-- [end:supervise]


def _started(child: Child) -> None:
    print(f"  {child.name:<8}  {child.url:<22}  pid {child.pid}", flush=True)


def _registry_ready(port: int, registry: Child, timeout: float = 10) -> bool:
    """Wait until *our* registry answers ``GET /health``: the answer must carry our child's
    pid, since another registry (another checkout's demo, say) may already hold the port."""
    process = registry.process
    deadline = time.monotonic() + timeout
    while process.poll() is None and time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=0.5) as resp:
                health = json.load(resp)
        except (OSError, ValueError):
            health = None  # not listening yet
        if isinstance(health, dict) and health.get("pid") == process.pid:
            return process.poll() is None
        time.sleep(0.05)  # not ours (yet): our child exits when it cannot bind the port
    return False
