"""The thin layer under the lab: run ``ip``, read what exists, end processes, remove.

Everything the lab makes is found again by its name (``ddbl-LAB-...``), so a lab can be
partitioned, healed, inspected and removed from another terminal, or after a crash,
with no state file: the names are the state.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from workbench.lab.plan import (
    PREFIX,
    Command,
    LabError,
    bridge_a_of,
    lab_of,
    prefix_of,
)

OWNER = "ddb lab, pid "  # bridge a's alias: which process owns the lab
STOP_GRACE = 5.0  # seconds a lab's process gets to end after SIGTERM, before SIGKILL


def check_can_run() -> None:
    """The lab needs root (namespaces, links) and iproute2's ``ip``; LabError says which."""
    if os.geteuid() != 0:
        raise LabError("ddb lab needs root, to make network namespaces and links: run it as root")
    if shutil.which("ip") is None:
        raise LabError("ddb lab needs the ip command (Debian's package iproute2)")


def run(command: Command) -> str:
    """Run one command; its error, on one line, becomes a LabError.

    In its own session: Ctrl-C in the terminal is for ``ddb lab up``, which cleans up
    with more of these commands, and must not cut one of them short."""
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=30, check=False, start_new_session=True
    )
    if done.returncode != 0:
        reason = " ".join(done.stderr.split()) or f"exit status {done.returncode}"
        raise LabError(f"{' '.join(command)}: {reason}")
    return done.stdout


def run_all(commands: list[Command]) -> None:
    for command in commands:
        run(command)


def in_namespace(namespace: str, command: Command) -> Command:
    return ["ip", "netns", "exec", namespace, *command]


def lock_path(lab: str) -> Path:
    """An empty file, left in place: removing it while another run waits on it would let a
    third run lock a new file of the same name. ``/run/lock`` is emptied at boot."""
    folder = Path("/run/lock") if Path("/run/lock").is_dir() else Path(tempfile.gettempdir())
    return folder / f"{PREFIX}{lab}.lock"


def data_path(lab: str) -> Path:
    """Where a v3 lab's nodes keep their logs, one folder each; removed with the lab."""
    return Path(tempfile.gettempdir()) / f"{PREFIX}{lab}-data"


@contextlib.contextmanager
def lock(lab: str) -> Iterator[None]:
    """Held while a run looks for a lab's leftovers, removes them and claims the lab, so
    that two runs never do that at once. The kernel lets go of it if the run dies."""
    with open(lock_path(lab), "w") as file:
        fcntl.flock(file, fcntl.LOCK_EX)  # waits while another run holds it
        yield


# -- what exists -------------------------------------------------------------------------


def namespaces() -> list[str]:
    """Every namespace of every lab (``ip netns list`` prints ``NAME (id: N)``)."""
    lines = run(["ip", "netns", "list"]).splitlines()
    return sorted(name for line in lines if (name := line.split(" ")[0]).startswith(PREFIX))


def links() -> dict[str, dict[str, object]]:
    """Every link and bridge of every lab, by name, as ``ip -j link`` describes it."""
    found = json.loads(run(["ip", "-j", "link", "show"]) or "[]")
    return {link["ifname"]: link for link in found if link["ifname"].startswith(PREFIX)}


def labs() -> set[str]:
    """The names of the labs that have anything on this machine."""
    return {lab for name in [*namespaces(), *links()] if (lab := lab_of(name))}


def bridge_alias(lab: str) -> str | None:
    """Bridge a's alias (``""`` until its builder has set it); None: there is no bridge a."""
    bridge = links().get(bridge_a_of(lab))
    return None if bridge is None else str(bridge.get("ifalias", ""))


def my_alias() -> str:
    """Bridge a's alias for a lab that this process builds: what :func:`owner` reads."""
    return f"{OWNER}{os.getpid()}"


def owner(lab: str) -> int | None:
    """The pid of the process that made ``lab`` (from its bridge's alias), if it lives."""
    alias = bridge_alias(lab) or ""
    if not alias.startswith(OWNER) or not alias[len(OWNER) :].isdigit():
        return None
    pid = int(alias[len(OWNER) :])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # alive, but someone else's
    return pid


def pids(namespace: str) -> list[int]:
    """The processes running in a namespace (``ip netns pids``), however they got there."""
    try:
        return [int(pid) for pid in run(["ip", "netns", "pids", namespace]).split()]
    except LabError:
        return []  # gone already


# -- removing ----------------------------------------------------------------------------


# --8<-- [start:remove]
def stop_processes(names: list[str], grace: float = STOP_GRACE) -> None:
    """SIGTERM every process in these namespaces (a node deregisters), SIGKILL after grace."""
    deadline = time.monotonic() + grace
    asked: set[int] = set()  # SIGTERM once: a second one may cut a clean shutdown short
    while running := [pid for ns in names for pid in pids(ns)]:
        for pid in running:
            late = time.monotonic() > deadline
            if pid in asked and not late:
                continue
            try:
                os.kill(pid, signal.SIGCONT)  # a stopped process cannot handle SIGTERM
                os.kill(pid, signal.SIGKILL if late else signal.SIGTERM)
            except ProcessLookupError:
                pass
            asked.add(pid)
        time.sleep(0.1)


def remove(lab: str | None, say: Callable[[str], None] = print) -> list[str]:
    """Remove a lab (every lab: ``None``) by name: processes (the registry last), veths,
    namespaces, bridges.

    Safe to run twice, or beside another run: what is already gone is skipped.
    """
    prefix = PREFIX if lab is None else prefix_of(lab)
    spaces = [ns for ns in namespaces() if ns.startswith(prefix)]
    registries = [ns for ns in spaces if ns.endswith("-reg")]
    stop_processes([ns for ns in spaces if ns not in registries])  # they deregister ...
    stop_processes(registries)  # ... so the registry goes last
    found = {name: link for name, link in links().items() if name.startswith(prefix)}
    bridges = [name for name in found if name.endswith(("-a", "-b"))]  # hosts: reg, n1, x1
    removed = []
    for name in [*(n for n in found if n not in bridges), *bridges]:
        if _quietly(["ip", "link", "del", name]):
            removed.append(name)
    for ns in spaces:
        if _quietly(["ip", "netns", "del", ns]):
            removed.append(ns)
    for data in data_path(lab or "*").parent.glob(data_path(lab or "*").name):
        shutil.rmtree(data, ignore_errors=True)  # the nodes' logs: ended with their nodes
    if removed:
        named = ", ".join(spaces or found)  # the hosts; or, with no host left, the links
        say(f"removed {len(spaces)} namespaces and {len(found)} links: {named}")
    return removed


# --8<-- [end:remove]


def _quietly(command: Command) -> bool:
    """Run a removal; False if there was nothing to remove."""
    try:
        run(command)
    except LabError:
        return False
    return True
