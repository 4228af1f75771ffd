"""Ending child processes politely, then firmly: the one copy of that rule.

The demo's supervisor, the test harness and the benchmarks all start ``ddb`` processes and
must end every one of them, stopped (``kill -STOP``) ones included: a stopped process cannot
act on SIGTERM until it is continued. Linux and other POSIX systems only (signals).
"""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Sequence
from typing import Any

STOP_TIMEOUT = 10.0  # seconds a child gets to exit after SIGTERM, before SIGKILL


def stop_all(processes: Sequence[subprocess.Popen[Any]], timeout: float = STOP_TIMEOUT) -> None:
    """SIGCONT and SIGTERM to each that still runs, all at once; then wait for each, with
    SIGKILL for any that is still running ``timeout`` seconds after its SIGTERM."""
    for process in processes:
        if process.poll() is None:  # Popen's own guard: never signal a reaped pid
            process.send_signal(signal.SIGCONT)  # a stopped process cannot act on SIGTERM
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
