"""``ddb v3 node|demo``: the flags a v3.0 node refuses before it starts, and a demo whose
nodes elect a leader and keep their logs in directories of their own."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from tests.demo import start_demo
from workbench.cluster import status_of
from workbench.harness import DDB, SETUP, Processes, printed_children, wait_until

pytestmark = pytest.mark.timeout(60)

NODE = ("v3", "node", "-ra", "http://127.0.0.1:9", "--name", "n1", "--port", "0")


@pytest.mark.parametrize(
    ("flags", "complaint"),
    [
        (["--data-dir", "d"], b"the following arguments are required: --voters"),
        (["--voters", "n1,n2,n3"], b"the following arguments are required: --data-dir"),
        (["--voters", "n1,n2,n3", "--data-dir", "d", "--election", "bully"], b"--election"),
        (["--voters", "n1", "--data-dir", "d", "--cluster-size", "3"], b"replaced by --voters"),
        (["--voters", "n2,n3", "--data-dir", "d"], b"n1 is not one of the voters"),
        (["--voters", "n1", "--data-dir", "d", "--max-value-bytes", "4096"], b"a log entry"),
        (["--voters", "n1", "--data-dir", "d", "--election-timeout", "0.1"], b"at least 3"),
    ],
)
def test_a_node_refuses_flags_that_cannot_work_before_it_starts(
    flags: list[str], complaint: bytes, tmp_path: Path
) -> None:
    result = subprocess.run([*DDB, *NODE, *flags], capture_output=True, timeout=20, cwd=tmp_path)
    assert result.returncode != 0
    assert complaint in result.stderr, result.stderr
    assert b"Traceback" not in result.stderr
    assert not (tmp_path / "d").exists()  # refused before anything was made


def test_python_dash_m_runs_the_v3_node_cli() -> None:
    command = [sys.executable, "-m", "stages.v3_replicated_log", "--help"]
    result = subprocess.run(command, capture_output=True, timeout=20)
    assert result.returncode == 0
    assert b"--voters" in result.stdout and b"--data-dir" in result.stdout


async def test_the_demo_elects_a_leader_that_takes_writes_and_gives_each_node_its_own_dir(
    processes: Processes, unused_tcp_port_factory, tmp_path: Path
) -> None:
    demo = start_demo(
        processes, unused_tcp_port_factory, "--no-dashboard", "--data-dir", str(tmp_path),
        stage="v3",
    )  # fmt: skip
    await demo.wait_for_log(r"n3 +http://", timeout=SETUP)
    urls = {name: url for name, url, _ in printed_children(demo.log) if name != "registry"}
    leader: list[str] = []

    async def elected() -> bool:
        statuses = [await status_of(url) for url in urls.values()]
        leaders = {s["leader"] for s in statuses if s is not None}
        leader[:] = [name for name in leaders if name is not None]
        return None not in statuses and len(leaders) == 1 and leader != []

    await wait_until(elected, timeout=SETUP, what="the demo's nodes to elect a leader")
    async with (
        aiohttp.ClientSession() as session,
        session.put(f"{urls[leader[0]]}/kv/k", data=b"v") as resp,
    ):
        assert resp.status == 201
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(urls)
    assert demo.stop() == 0
