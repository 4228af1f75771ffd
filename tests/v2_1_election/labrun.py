"""A lab for one test: real processes in network namespaces, always removed afterwards.

The fixture ``lab`` (in ``test_lab.py``) makes a :class:`LabRun` with a name of its own,
``t`` and five random hex digits, so that runs beside each other never share a name; it
removes the lab when the test ends, passed, failed or interrupted (a pytest timeout
included). Before it starts, it removes the labs of crashed test runs: a test lab whose
owner process is gone.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import shutil
import subprocess
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import pytest

from stages.v2_registry.auth import CLUSTER_TOKEN_ENV
from workbench.harness import SETUP, wait_until
from workbench.lab import netns
from workbench.lab.lab import (
    add_client,
    add_host,
    build,
    claim,
    heal,
    partition,
    start,
    start_cluster,
    views,
)
from workbench.lab.plan import Host, Plan, plan

TOKEN = "lab-s3cret"
LOG_TIME = "%Y-%m-%d %H:%M:%S,%f"  # the asctime at the start of every log line


def skip_unless_root() -> None:
    """The lab needs root and ``ip``; CI runs as root, and must run these tests."""
    reason = None
    if os.geteuid() != 0:
        reason = "the lab needs root (network namespaces and links); CI runs as root"
    elif shutil.which("ip") is None:
        reason = "the lab needs the ip command (iproute2; .ci/run installs it)"
    if reason is not None:
        if os.environ.get("CI") == "true" and os.geteuid() == 0:
            pytest.fail(f"CI must run the lab tests: {reason}")
        pytest.skip(reason)


def remove_crashed_test_labs() -> None:
    """Test labs (``ddbl-t...``) whose owner has died: a run killed before its teardown."""
    for name in netns.labs():
        building = netns.bridge_alias(name) == ""  # another test's, claimed a moment ago
        if name.startswith("t") and netns.owner(name) is None and not building:
            netns.remove(name, say=lambda line: print(f"leftover of a crashed run: {line}"))


class LabRun:
    """A lab's hosts and processes, each process logging to its own file."""

    def __init__(self, nodes: int, logs: Path) -> None:
        self.plan: Plan = plan(f"t{secrets.token_hex(3)[:5]}", nodes)
        self.logs = logs
        self.env = {**os.environ, CLUSTER_TOKEN_ENV: TOKEN}
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.files: list[IO[Any]] = []

    def up(
        self,
        *flags: str,
        stage: str = "v2.1",
        node_flags: Callable[[str], tuple[str, ...]] = lambda name: (),
    ) -> None:
        """Build the hosts, start the registry, then every node with the election ``flags``
        (and its own ``node_flags``); a v3 lab gets the client host too."""
        claim(self.plan)
        build(self.plan, say=print)
        if stage == "v3":
            add_client(self.plan)
        self.processes = start_cluster(
            self.plan, list(flags), self.env, SETUP, self._log_file, stage, node_flags
        )

    def _log_file(self, host: Host) -> IO[Any]:
        """The host's log file; the child writes to it, we close our copy at the end."""
        self.files.append(open(self.logs / f"{host.name}.log", "ab"))  # noqa: SIM115
        return self.files[-1]

    def start(self, host: Host, command: list[str], env: dict[str, str] | None = None) -> None:
        self.processes[host.name] = start(host, command, env or self.env, self._log_file(host))

    def partition(self, side_a: list[str], side_b: list[str]) -> None:
        partition(self.plan, side_a, side_b)

    def heal(self) -> None:
        heal(self.plan)

    def add_host(self, name: str) -> Host:
        return add_host(self.plan, name)

    def log(self, name: str) -> str:
        path = self.logs / f"{name}.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    def logged_at(self, name: str, pattern: str, since: datetime) -> datetime | None:
        """When ``name`` first logged a line matching ``pattern`` at or after ``since``
        (local time, as the log lines say it; every host shares the machine's clock)."""
        for line in self.log(name).splitlines():
            if re.search(pattern, line):
                when = datetime.strptime(line[:23], LOG_TIME)
                if when >= since:
                    return when
        return None

    def seconds_to(self, name: str, pattern: str, since: datetime) -> float:
        """Seconds from ``since`` to ``name``'s first log line matching ``pattern``."""
        when = self.logged_at(name, pattern, since)
        assert when is not None, f"{name} never logged {pattern!r} after {since:%H:%M:%S.%f}"
        return (when - since).total_seconds()

    async def statuses(self) -> dict[str, dict[str, Any] | None]:
        """Each node's ``/cluster/status``, asked from inside its own namespace."""
        found = await asyncio.to_thread(views, self.plan)
        return {v.host.name: v.body for v in found if v.host.is_node}

    async def registry_lists(self) -> list[str]:
        found = await asyncio.to_thread(views, self.plan)
        body = found[0].body or {"nodes": []}
        return sorted(node["name"] for node in body["nodes"])

    async def wait_for(self, what: str, timeout: float, condition: Any) -> dict[str, Any]:
        """Poll the statuses until ``condition(statuses)`` holds; return those statuses."""
        seen: dict[str, Any] = {}

        async def holds() -> bool:
            seen.clear()
            seen.update(await self.statuses())
            return bool(condition(seen))

        try:
            await wait_until(holds, timeout=timeout, interval=0.1, what=what)
        except AssertionError as exc:
            raise AssertionError(f"{exc}; last statuses: {summary(seen)}") from None
        return dict(seen)

    def down(self) -> None:
        netns.remove(self.plan.lab, say=print)
        netns.lock_path(self.plan.lab).unlink(missing_ok=True)  # a test's name is used once
        for proc in self.processes.values():
            proc.wait(timeout=10)
        for file in self.files:
            file.close()


def summary(statuses: dict[str, Any]) -> str:
    """``n1 follower 2 n2; ...``: one line a failure message can show."""
    return "; ".join(
        f"{name} {s['role']} {s['term']} {s['leader']}" if s else f"{name} silent"
        for name, s in sorted(statuses.items())
    )


def leaders(statuses: dict[str, Any], names: list[str]) -> list[str]:
    return [n for n in names if (statuses.get(n) or {}).get("role") == "leader"]


def agreed(statuses: dict[str, Any], names: list[str]) -> tuple[str, int] | None:
    """(leader, term) if every node named answers, follows one leader in one term, which
    leads; else None."""
    views = [statuses.get(name) for name in names]
    if any(view is None for view in views):
        return None
    found = {(view["leader"], view["term"]) for view in views if view is not None}
    if len(found) != 1 or len(leaders(statuses, names)) != 1:
        return None
    leader, term = found.pop()
    return (leader, term) if leader in names and leaders(statuses, names) == [leader] else None
