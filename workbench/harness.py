"""Helpers shared by every stage's tests and the benchmarks: polling with a deadline, and real
processes.

``wait_until`` replaces every ``sleep``: it polls a condition until it holds or a
deadline passes, and then fails with a message that says what was awaited.
``DdbProcess`` starts a server with the same ``ddb`` command a user types, reads
its log in a background thread, and is always ended by the test that started it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from workbench.processes import stop_all

# A busy 2-core machine (a CI runner, or `make stress-test` with its CPU hog) delays every
# real-process event: a process waits for a core, a timer fires late. So a timing bound in a
# real-process test is the bound its configuration implies plus LOADED, and says so; and a
# wait for something that is not the property under test (a process starting, a cluster
# forming) gets SETUP, which only ever costs time when something is really wrong.
LOADED = 2.0
SETUP = 20.0

DDB = [str(Path(sys.executable).with_name("ddb"))]
if not Path(DDB[0]).exists():  # not installed as a script: run the package instead
    DDB = [sys.executable, "-m", "stages"]


async def wait_until(
    condition: Callable[[], Awaitable[bool]] | Callable[[], bool],
    *,
    timeout: float,
    interval: float = 0.05,
    what: str = "condition",
) -> float:
    """Poll ``condition`` until it is true; return the seconds it took."""
    start = time.monotonic()
    deadline = start + timeout
    while True:
        result = condition()
        if asyncio.iscoroutine(result) or isinstance(result, Awaitable):
            result = await result
        if result:
            return time.monotonic() - start
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(interval)


def run_ddb(
    *args: str, input: bytes | None = None, timeout: float = 20, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    """Run a short ``ddb`` command to completion and capture its output (``env``: added)."""
    return subprocess.run(
        [*DDB, *args],
        input=input,
        capture_output=True,
        timeout=timeout,
        check=False,
        env={**os.environ, **(env or {})},
    )


class DdbProcess:
    """A long-running ``ddb`` server process whose log we can read and wait on."""

    def __init__(self, *args: str) -> None:
        self.args = list(args)
        self.lines: list[str] = []
        self._lock = threading.Lock()
        self.proc = subprocess.Popen(
            [*DDB, *self.args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.url = ""

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._lock:
                self.lines.append(line.rstrip("\n"))

    @property
    def log(self) -> str:
        with self._lock:
            return "\n".join(self.lines)

    def find(self, pattern: str) -> re.Match[str] | None:
        return re.search(pattern, self.log)

    async def wait_for_log(self, pattern: str, timeout: float = 10) -> re.Match[str]:
        """Wait until a log line matches ``pattern``; fail early if the process dies."""

        polls_since_exit = 0

        def seen() -> bool:
            nonlocal polls_since_exit
            if self.find(pattern):
                return True
            if self.proc.poll() is not None:
                polls_since_exit += 1  # give the reader thread a few polls to drain the pipe
                if polls_since_exit > 3:
                    raise AssertionError(
                        f"ddb {' '.join(self.args)} exited with {self.proc.returncode} "
                        f"before logging {pattern!r}:\n{self.log}"
                    )
            return False

        try:
            await wait_until(seen, timeout=timeout, what=f"log line {pattern!r}")
        except AssertionError as exc:
            if self.proc.poll() is not None:
                raise  # it exited: the message has its whole log already
            tail = "\n".join(self.log.splitlines()[-20:])  # what it said instead
            raise AssertionError(
                f"{exc}; the end of the log of ddb {' '.join(self.args)}:\n{tail}"
            ) from None
        match = self.find(pattern)
        assert match is not None
        return match

    async def started(self, timeout: float = 15) -> str:
        """Wait for ``Listening on URL`` and return the URL."""
        match = await self.wait_for_log(r"Listening on (http://\S+)", timeout)
        self.url = match.group(1)
        return self.url

    def signal(self, sig: int) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)

    def kill(self) -> None:
        """``kill -9``: no cleanup, no goodbye."""
        self.signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def wait(self, timeout: float = 10) -> int:
        """Wait until it exits by itself and its log is read to the last line; the status."""
        status = self.proc.wait(timeout=timeout)
        self._reader.join(timeout=5)
        return status

    def stop(self, timeout: float = 10) -> int:
        """SIGTERM, then SIGKILL if it does not exit in time; return the exit status."""
        stop_all([self.proc], timeout)
        return self.wait()


class Processes:
    """Every process a test starts, so the fixture can end them all."""

    def __init__(self) -> None:
        self.started: list[DdbProcess] = []

    def start(self, *args: str) -> DdbProcess:
        proc = DdbProcess(*args)
        self.started.append(proc)
        return proc

    def stop_all(self) -> None:
        for proc in self.started:
            proc.stop()
            for pid in children_it_printed(proc):  # a demo SIGKILLed above leaves its own
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)


CHILD_LINE = re.compile(r"^  (\S+) +(http://\S+) +pid (\d+)$", re.MULTILINE)
"""A line in which a demo names a child it started: ``  n1  http://127.0.0.1:8001  pid 123``."""


def printed_children(log: str) -> list[tuple[str, str, int]]:
    """Each child a demo's log names, as (name, url, pid), in the order they started."""
    return [(name, url, int(pid)) for name, url, pid in CHILD_LINE.findall(log)]


def children_it_printed(proc: DdbProcess) -> list[int]:
    """The pids a demo printed that still run ``ddb``.

    The demo stops them itself; but if it took longer than ``stop``'s timeout, on a very
    busy machine, it was SIGKILLed before it could, and they would outlive the test.
    """
    return [pid for name, _, pid in printed_children(proc.log) if still_ours(pid, name)]


def still_ours(pid: int, name: str) -> bool:
    """Whether ``pid`` still runs the ``ddb`` child ``name`` (the registry, or a node), and
    not a new process that reused the pid."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False  # gone (or no /proc)
    return b"stages" in command and (name == "registry" or name.encode() in command)
