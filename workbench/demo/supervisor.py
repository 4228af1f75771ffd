"""The demo's child processes: start them, signal them, and stop every one of them.

A :class:`Supervisor` owns the registry and the nodes it started, by name. Whatever
asks it to act (the demo's loop, the dashboard's buttons) names a child; a process id
never comes from outside, so nothing but our own children is ever signalled.

A child's process state is what the operating system says: ``dead`` once it has
exited, ``paused`` while it is stopped (SIGSTOP, from the dashboard or from
``kill -STOP`` in a terminal), ``running`` otherwise. The paused state is read from
``/proc``: the demo needs Linux for it (elsewhere a paused child shows as running).
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from workbench.processes import STOP_TIMEOUT, stop_all

RUNNING, PAUSED, DEAD = "running", "paused", "dead"


class UnknownChild(KeyError):
    """No child has that name."""


class NotApplicable(ValueError):
    """The action does not apply to the child as it is (resume a running node, say)."""


@dataclass
class Child:
    """One process we started, and how to start it again."""

    name: str
    url: str
    command: list[str]
    process: subprocess.Popen[bytes]
    port: int

    @property
    def pid(self) -> int:
        return self.process.pid

    def state(self) -> str:
        if self.process.poll() is not None:
            return DEAD
        return PAUSED if _stopped(self.pid) else RUNNING


def _stopped(pid: int) -> bool:
    """Whether the kernel has ``pid`` stopped (state ``T`` in ``/proc/PID/stat``)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False  # no /proc (not Linux), or it has just exited
    return stat.rsplit(")", 1)[1].split()[0] in ("T", "t")  # the name may hold spaces


class Supervisor:
    """The registry and the nodes of a demo; ``node_command(name, port, added)`` builds a
    node's command line (``added``: one more node, from :meth:`add_node`), and every child
    gets ``env``."""

    def __init__(
        self,
        node_command: Callable[[str, int, bool], list[str]],
        env: dict[str, str],
    ) -> None:
        self._node_command = node_command
        self._env = env
        self.registry: Child | None = None
        self.children: dict[str, Child] = {}  # the nodes, by name, in the order they started
        self.started: list[Child] = []  # every process ever started, restarted ones included

    def _spawn(self, name: str, port: int, command: list[str]) -> Child:
        # Each child gets its own session, so Ctrl-C reaches only the demo, which stops them.
        process = subprocess.Popen(command, start_new_session=True, env=self._env)
        child = Child(name, f"http://127.0.0.1:{port}", command, process, port)
        self.started.append(child)
        return child

    def start_registry(self, port: int, command: list[str]) -> Child:
        self.registry = self._spawn("registry", port, command)
        return self.registry

    def start_node(self, name: str, port: int, added: bool = False) -> Child:
        self.children[name] = self._spawn(name, port, self._node_command(name, port, added))
        return self.children[name]

    def add_node(self) -> Child:
        """One more node: the next name (``n4`` after ``n3``) on the port after the highest."""
        nodes = list(self.children.values())
        width = len(nodes[0].name) - 1 if nodes else 1  # n01 ... n10 stay zero-padded
        taken = set(self.children)
        number = len(nodes) + 1
        while f"n{number:0{width}d}" in taken:
            number += 1
        port = max((child.port for child in nodes), default=8050) + 1
        return self.start_node(f"n{number:0{width}d}", port, added=True)

    def child(self, name: str) -> Child:
        try:
            return self.children[name]
        except KeyError:
            raise UnknownChild(name) from None

    # --8<-- [start:actions]
    def kill(self, name: str) -> Child:
        """SIGKILL: no clean-up, no goodbye (a crash)."""
        child = self._in_state(name, "kill", RUNNING, PAUSED)
        child.process.kill()
        child.process.wait(timeout=STOP_TIMEOUT)  # SIGKILL cannot be caught: this is quick
        return child

    def pause(self, name: str) -> Child:
        """SIGSTOP: the process stops where it is, sockets open, until SIGCONT."""
        child = self._in_state(name, "pause", RUNNING)
        child.process.send_signal(signal.SIGSTOP)
        _settle(child, PAUSED)
        return child

    def resume(self, name: str) -> Child:
        """SIGCONT: a paused process carries on, unaware that time has passed."""
        child = self._in_state(name, "resume", PAUSED)
        child.process.send_signal(signal.SIGCONT)
        _settle(child, RUNNING)
        return child

    def restart(self, name: str) -> Child:
        """Stop the child politely if it runs (it deregisters), then start it again.

        Blocks for up to ``STOP_TIMEOUT``: call it from a thread in async code.
        """
        old = self.child(name)
        _stop([old.process])
        self.children[name] = self._spawn(name, old.port, old.command)
        return self.children[name]

    # --8<-- [end:actions]

    def _in_state(self, name: str, action: str, *states: str) -> Child:
        child = self.child(name)
        state = child.state()
        if state not in states:
            raise NotApplicable(f"cannot {action} {name}: it is {state}")
        return child

    def stop_all(self) -> None:
        """Stop every node, then the registry, so that the nodes can still deregister."""
        _stop([child.process for child in self.children.values()])
        if self.registry is not None:
            _stop([self.registry.process])


def _settle(child: Child, state: str, timeout: float = 1.0) -> None:
    """Wait until the kernel has delivered the signal (it does so at once, unless the
    machine is very busy), so that the answer shows the state the action led to."""
    deadline = time.monotonic() + timeout
    while child.state() != state and child.state() != DEAD and time.monotonic() < deadline:
        time.sleep(0.01)


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    """SIGCONT and SIGTERM to each, then wait, with SIGKILL after ``STOP_TIMEOUT``."""
    stop_all(processes, STOP_TIMEOUT)
