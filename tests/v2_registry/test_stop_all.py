"""The one rule for ending children: SIGCONT and SIGTERM, then SIGKILL after a timeout."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from workbench.processes import stop_all

pytestmark = pytest.mark.timeout(30)

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]
STUBBORN = [  # ignores SIGTERM: only SIGKILL ends it
    sys.executable,
    "-c",
    "import signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "print('ready', flush=True); time.sleep(60)",
]


def test_a_stopped_child_is_continued_so_that_sigterm_ends_it() -> None:
    child = subprocess.Popen(SLEEPER)
    child.send_signal(signal.SIGSTOP)
    stop_all([child], timeout=5)
    assert child.returncode == -signal.SIGTERM


def test_a_child_that_ignores_sigterm_gets_sigkill_after_the_timeout() -> None:
    stubborn = subprocess.Popen(STUBBORN, stdout=subprocess.PIPE)
    assert stubborn.stdout is not None and stubborn.stdout.readline() == b"ready\n"
    polite = subprocess.Popen(SLEEPER)
    start = time.monotonic()
    stop_all([stubborn, polite], timeout=0.5)
    assert stubborn.returncode == -signal.SIGKILL and polite.returncode == -signal.SIGTERM
    assert time.monotonic() - start < 5  # both asked at once, not one timeout after another
    stubborn.stdout.close()


def test_a_child_that_has_exited_already_is_left_alone() -> None:
    done = subprocess.Popen([sys.executable, "-c", "pass"])
    done.wait(timeout=10)
    stop_all([done], timeout=1)
    assert done.returncode == 0
