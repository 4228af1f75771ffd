"""The benchmark harness (``bench/``) runs, every part of it, so that it cannot rot.

``python -m bench --mode tiny`` does every part in seconds, with a few nodes, one trial and
KVClient as the load; its figures mean nothing, but every code path that ``make bench`` takes
runs, the page is written with every section, and every process it started has ended. What
tiny mode leaves out has tests of its own: the harness drives ``wrk`` and reads its figures,
and times etcd's start-up on a log beside ours. With ``CI=true`` nothing here may skip:
``.ci/run`` installs wrk, etcd and matplotlib.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench import kv, plots
from bench.procs import PYTHON, Group

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI") == "true"


def needs(tool: str, present: bool) -> None:
    if not present:
        if IN_CI:
            pytest.fail(f"CI must run the benchmark harness's test: install {tool}")
        pytest.skip(f"{tool} is not installed")


def children_of(pid: int) -> list[int]:
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        if f"\nPPid:\t{pid}\n" in text:
            found.append(int(status.parent.name))
    return found


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_tiny_mode_runs_every_part_and_writes_the_page(tmp_path: Path) -> None:
    out = tmp_path / "benchmarks.md"
    run = subprocess.run(
        [sys.executable, "-m", "bench", "--mode", "tiny", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=170,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    page = out.read_text(encoding="utf-8")
    for heading in [
        "## The machine, and how noisy it was",
        "## 1. Key/value throughput and latency",
        "## 2. The project's client",
        "## 3. Registry at scale",
        "## 4. Failover",
        "## 5. Election scaling",
        "## 6. Idle cost",
        "## 7. The replicated log (v3.0) against etcd",
        "## 8. What dominates each cost, and what would change it",
        "## The exact commands",
    ]:
        assert heading in page
    assert "(not measured)" not in page
    results = json.loads((tmp_path / "benchmarks" / "results.json").read_text())
    parts = results["parts"]
    assert {r["server"] for r in parts["kv"]["runs"]} == {"bare", "v1", "v2.1"}
    assert all(r["requests"] > 0 for r in parts["kv"]["runs"])
    assert parts["registry"]["renewals"] > 0 and parts["registry"]["expired"] > 0
    assert all(t["times"] for t in parts["failover"]["trials"])
    assert parts["etcd"]["skipped"] == "not in tiny mode"
    assert all(row["elections"] > 0 for row in parts["scaling"]["rows"])
    v3 = parts["v3"]  # our cluster only: tiny mode compares with nothing
    assert v3["etcd_skipped"] == "not in tiny mode" and set(v3["kills"]) == {"v3.0"}
    assert {r["figure"] for r in v3["runs"]} == {"put 1", "put 64", "read 64", "stale 64"}
    for run in v3["runs"]:
        assert run["requests"] > 0 and run["errors"] == run["non2xx"] == 0
        assert 0 < run["p50"] <= run["p99"] and run["leader_cpu_us"] <= run["cluster_cpu_us"]
    assert all(t["failover"] > 0 and t["restart"] > 0 and t["log"] > 1 for t in v3["kills"]["v3.0"])
    replay = v3["recovery"]  # an empty log first, then longer ones, each a longer file
    assert [row["entries"] for row in replay] == [0, 1_000]
    assert replay[0]["bytes"] < replay[1]["bytes"] and all(min(r["times"]) > 0 for r in replay)
    # Linux counts CPU time in 10 ms ticks: over the tiny mode's short window an idle node
    # measures 0, 0.02 or 0.04 of a core, and 0 is an honest figure on a quiet machine.
    # What is asserted is what the page prints: a share of a core, never negative.
    cpu_figures = [cpu for row in parts["idle"]["rows"] for cpu in row["cpu"]]
    assert cpu_figures and all(0 <= cpu < 2 for cpu in cpu_figures)
    needs("matplotlib (the bench extra)", plots.available())
    for name in ("kv", "registry", "failover", "scaling"):
        assert f"](benchmarks/{name}.png)" in page
        assert (tmp_path / "benchmarks" / f"{name}.png").stat().st_size > 1000


def test_the_harness_drives_wrk_and_reads_its_figures() -> None:
    needs("wrk", shutil.which("wrk") is not None)
    with Group() as group:
        bare = group.start([PYTHON, "-m", "bench.bare", "--port", "0"])
        url = bare.started()
        put = kv.run_wrk(url, "PUT", 1)
        get = kv.run_wrk(url, "GET", 1)
    assert bare.proc.poll() is not None  # the group ended it
    for result in (put, get):
        assert result["requests"] > 0 and result["errors"] == 0 and result["non2xx"] == 0
        assert 0 < result["p50"] <= result["p99"]
    assert children_of(os.getpid()) == []


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_etcd_recovery_is_timed_on_as_many_puts_and_shown_beside_ours(tmp_path: Path) -> None:
    """Part 7's etcd column, which tiny mode leaves out: a member is sent the puts, stopped,
    and timed until it serves the last key again; the recovery table shows it beside ours."""
    from bench import recovery_etcd
    from bench.replicated_page import recovery_table

    needs("etcd (Debian's etcd-server)", shutil.which("etcd") is not None)
    rows = [
        {"entries": 0, "bytes": 0, "times": [0.5]},
        {"entries": 300, "bytes": 2**20, "times": [0.7]},
    ]
    with Group() as group:
        recovery_etcd.alongside(rows, group, tmp_path, starts=1)
        assert all(service.proc.poll() is not None for service in group.services)
    for row in rows:
        (took,) = row["etcd"]["times"]
        assert 0 < took < 60 and row["etcd"]["bytes"] > 0
    table = recovery_table({"recovery": rows}).splitlines()
    assert table[0].endswith("| etcd's start-up |")
    assert table[3].startswith("| 300 | 1.0 MiB | 0.70 s | +0.20 s | 667 ms |")
    assert table[3].endswith(f" {rows[1]['etcd']['times'][0]:.2f} s |")
