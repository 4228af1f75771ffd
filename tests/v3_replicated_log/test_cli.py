"""``ddb v3 node|demo``: the flags a v3.0 node refuses before it starts, and a demo whose
nodes elect a leader and keep their logs in directories of their own."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from stages.v2_1_election.core import HardState
from stages.v3_replicated_log.kv import Command
from stages.v3_replicated_log.messages import Entry
from stages.v3_replicated_log.wal import FILE_NAME, WriteAheadLog
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
        (["--voters", "n1,n2,n3", "--data-dir", "d", "--election", "bully"], b"Bully could elect"),
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


def write_log(directory: Path, saves: int) -> Path:
    """A data directory whose log holds ``saves`` records, as a node would have left it."""
    wal = WriteAheadLog.open(directory)
    for index in range(1, saves + 1):
        command = Command("put", f"k{index}", "test", index, "dmFsdWU=")  # "value", in base64
        wal.save([Entry(index, 1, command.to_data())], HardState(1, "n1"), index - 1)
    wal.close()
    return directory / FILE_NAME


def test_a_node_whose_log_is_corrupt_in_the_middle_refuses_to_start(tmp_path: Path) -> None:
    path = write_log(tmp_path / "d", 3)
    data = bytearray(path.read_bytes())
    data[12] ^= 0xFF  # inside the first record's payload: two whole records follow it
    path.write_bytes(bytes(data))
    flags = ["--voters", "n1", "--data-dir", "d"]
    result = subprocess.run([*DDB, *NODE, *flags], capture_output=True, timeout=20, cwd=tmp_path)
    assert result.returncode != 0
    assert b"is corrupt at byte 0" in result.stderr, result.stderr
    assert b"Refusing to start" in result.stderr and b"Traceback" not in result.stderr
    assert path.read_bytes() == bytes(data)  # the evidence is left as it was


async def test_a_node_whose_log_ends_in_a_torn_record_cuts_it_and_starts(
    processes: Processes, tmp_path: Path
) -> None:
    path = write_log(tmp_path / "d", 3)
    whole = path.stat().st_size
    with path.open("ab") as log:
        log.write(b"\x00\x00\x00\x40torn")  # a header promising 64 bytes, then a crash
    node = processes.start(*NODE[:-1], "0", "--voters", "n1", "--data-dir", str(tmp_path / "d"))
    await node.started(timeout=20)
    assert len(re.findall(r"is torn", node.log)) == 1  # one WARNING
    await node.wait_for_log(r"d/log: 3 entries, term 1", timeout=SETUP)
    assert path.stat().st_size >= whole  # cut back to the whole records (then its own saves)
    assert path.read_bytes()[whole : whole + 8] != b"\x00\x00\x00\x40torn"[:8]
