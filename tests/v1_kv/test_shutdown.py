"""Shutting down always ends: within the shutdown timeout plus one second, whatever hangs."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from stages.v1_kv.runner import SHUTDOWN_LIMIT
from workbench.harness import LOADED

pytestmark = pytest.mark.timeout(30)

HANGING_SERVER = """
import asyncio
from aiohttp import web
from stages.v1_kv.runner import configure_logging, listen, serve

async def cleanup_that_never_ends(app):
    yield
    await asyncio.Event().wait()

app = web.Application()
app.cleanup_ctx.append(cleanup_that_never_ends)
configure_logging()
serve(app, listen("127.0.0.1", 0), "127.0.0.1")
"""


def test_a_server_whose_cleanup_hangs_still_exits_at_the_shutdown_limit() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", HANGING_SERVER], stderr=subprocess.PIPE, text=True
    )
    try:
        assert proc.stderr is not None
        for line in proc.stderr:  # the server logs this once its socket is listening
            if "Listening on" in line:
                break
        proc.send_signal(signal.SIGTERM)
        sent = time.monotonic()
        proc.wait(timeout=SHUTDOWN_LIMIT + 10)
        took = time.monotonic() - sent
        log = proc.stderr.read()
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 1
    assert f"Shutdown took longer than {SHUTDOWN_LIMIT:.1f}s" in log
    # The limit, plus the allowance for a loaded machine to deliver the signal and run the timer.
    bound = SHUTDOWN_LIMIT + LOADED
    assert took < bound, f"exited {took:.2f}s after SIGTERM (limit {SHUTDOWN_LIMIT}s + {LOADED}s)"
