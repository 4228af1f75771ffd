"""A whole cluster on loopback from one command (what ``make run`` starts).

It starts a registry and a few nodes as child processes, exactly as you would in
separate terminals, and lets their logs interleave on this terminal (every line
says which process wrote it). It prints each child's process id, so that killing a
node (``kill -9 PID``) needs no guessing; that is part of the demo, and the others
carry on. Ctrl-C (or SIGTERM) asks each child to stop with SIGTERM, so every node
deregisters, and waits for all of them.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from types import FrameType

from stages.v1_kv.runner import format_url
from stages.v2_registry.auth import CLUSTER_TOKEN_ENV, Secret


@dataclass(frozen=True)
class NodeSpec:
    name: str
    port: int


def _ddb(*args: str) -> list[str]:
    return [sys.executable, "-m", "stages", *args]


def run_demo(
    stage: str,
    registry_port: int,
    nodes: list[NodeSpec],
    node_args: tuple[str, ...] = (),
    token: Secret | None = None,
) -> int:
    """Run a registry and ``nodes`` of ``stage`` until Ctrl-C; return 0 on a clean stop.

    With a ``token``, every child gets it in ``DDB_CLUSTER_TOKEN`` (never on a command
    line, where ``ps`` would show it).
    """
    env = dict(os.environ)
    if token is not None:
        env[CLUSTER_TOKEN_ENV] = token.reveal()
    registry_url = format_url("127.0.0.1", registry_port)
    commands = {"registry": _ddb("v2", "registry", "--port", str(registry_port))}
    for node in nodes:
        commands[node.name] = _ddb(
            stage,
            "node",
            "-ra",
            registry_url,
            "--name",
            node.name,
            "--port",
            str(node.port),
            *node_args,
        )
    print(
        f"Starting a registry and {len(nodes)} {stage} nodes on 127.0.0.1 (Ctrl-C stops them all):",
        flush=True,
    )

    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    # Each child gets its own session, so Ctrl-C reaches only us, and we stop them one way.
    # The registry starts first, so that the nodes all find each other from their first beat.
    registry = subprocess.Popen(commands.pop("registry"), start_new_session=True, env=env)
    children = {"registry": registry}
    try:
        if not _registry_ready(registry_port, registry):
            print(
                f"The registry did not start on port {registry_port} (is the port in use? "
                "its error is above); stopping.",
                file=sys.stderr,
            )
            return 1
        _started("registry", registry_url, registry)
        for node in nodes:
            children[node.name] = subprocess.Popen(
                commands[node.name], start_new_session=True, env=env
            )
            _started(node.name, format_url("127.0.0.1", node.port), children[node.name])
        print(flush=True)
        reported: set[str] = set()
        while not stopping and len(reported) < len(children):
            for name, child in children.items():
                if child.poll() is not None and name not in reported:
                    reported.add(name)  # a killed node is part of the demo: carry on
                    print(f"*** {name} exited with status {child.returncode}", file=sys.stderr)
            time.sleep(0.2)  # a signal ends the wait early
    finally:
        nodes_first = [child for name, child in children.items() if name != "registry"]
        _stop_all(nodes_first)  # they deregister, so the registry must still be up
        _stop_all([registry])
        print("All stopped.")
    return 0


def _started(name: str, url: str, child: subprocess.Popen[bytes]) -> None:
    print(f"  {name:<8}  {url:<22}  pid {child.pid}", flush=True)


def _stop_all(children: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM each child, then wait for all of them (SIGKILL after 10 s)."""
    for child in children:
        if child.poll() is None:
            child.terminate()
    for child in children:
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def _registry_ready(port: int, process: subprocess.Popen[bytes], timeout: float = 10) -> bool:
    """Wait until *our* registry answers ``GET /health``: the answer must carry our child's
    pid, since another registry (another checkout's demo, say) may already hold the port."""
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
