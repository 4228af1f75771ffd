"""The processes a benchmark starts: pinned to a core, logged, and always ended.

Every process is started through a :class:`Group`, which ends them all when its ``with``
block is left, also on Ctrl-C or a failure: SIGTERM, then SIGKILL after a few seconds.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

from workbench.processes import stop_all

PYTHON = sys.executable
DDB = [str(Path(PYTHON).with_name("ddb"))]
if not Path(DDB[0]).exists():  # not installed as a script: run the package instead
    DDB = [PYTHON, "-m", "stages"]


def pinned(core: int | None, argv: list[str]) -> list[str]:
    """``argv`` run on one core with ``taskset``, when there is one and it is wanted."""
    if core is None or shutil.which("taskset") is None or (os.cpu_count() or 1) < 2:
        return argv
    return ["taskset", "-c", str(core), *argv]


def shown(argv: list[str]) -> str:
    """A command as the page shows it: the venv's interpreter and ddb by their short names."""
    words = [Path(w).name if w in (PYTHON, DDB[0]) else w for w in argv]
    return " ".join(words)


@contextlib.contextmanager
def on_core(core: int) -> Iterator[None]:
    """Run this process (the load) on one core meanwhile, if the machine has it."""
    cores = os.sched_getaffinity(0)
    if len(cores) < 2 or core not in cores:
        yield
        return
    os.sched_setaffinity(0, {core})
    try:
        yield
    finally:
        os.sched_setaffinity(0, cores)


class Service:
    """One long-running process whose output is kept, to wait for a line of it."""

    def __init__(self, argv: list[str], env: dict[str, str] | None = None) -> None:
        self.argv = argv
        self.lines: list[str] = []
        self._lock = threading.Lock()
        self.proc = subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            bufsize=1,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.url = ""

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._lock:
                self.lines.append(line.rstrip("\n"))

    def wait_for(self, pattern: str, timeout: float = 30.0) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                text = "\n".join(self.lines)
            match = re.search(pattern, text)
            if match:
                return match
            if self.proc.poll() is not None:
                time.sleep(0.1)  # let the reader drain the pipe once more
                with self._lock:
                    text = "\n".join(self.lines)
                raise RuntimeError(f"{shown(self.argv)} exited before {pattern!r}:\n{text}")
            time.sleep(0.02)
        raise RuntimeError(f"{shown(self.argv)}: no {pattern!r} within {timeout}s")

    def started(self, timeout: float = 30.0) -> str:
        """Wait for ``Listening on URL``; return the URL."""
        self.url = self.wait_for(r"Listening on (http://\S+)", timeout).group(1)
        return self.url

    def signal(self, sig: int) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)

    def stop(self, timeout: float = 6.0) -> None:
        stop_all([self.proc], timeout)
        self._reader.join(timeout=5)


class Group:
    """Every process a part starts; leaving the ``with`` block ends them all."""

    def __init__(self) -> None:
        self.services: list[Service] = []

    def start(self, argv: list[str], env: dict[str, str] | None = None) -> Service:
        service = Service(argv, env)
        self.services.append(service)
        return service

    def __enter__(self) -> Group:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for service in reversed(self.services):
            service.stop()


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def rss_bytes(pid: int) -> int:
    """Resident memory of a process."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0
