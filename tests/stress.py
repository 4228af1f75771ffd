"""Run the whole suite several times while a CPU hog keeps every core busy.

A red CI run lands nothing, so a test that fails one time in thirty on a busy
machine costs a day of work. This is how we find such tests before CI does::

    make stress-test            # 5 runs
    make stress-test N=2        # fewer
    python -m tests.stress --runs 3 -- tests/v2_1_election   # one stage, any pytest arguments

It starts one busy-looping process per core, runs pytest ``--runs`` times (each
run with a JUnit report), stops the hog, and prints every failure with its test
id and run number. The exit status is 1 if any run failed. Each run is the suite
as ``make test`` runs it, on one worker per core (``addopts`` in pyproject.toml),
so every core has a hog and a worker; ``-- -n 0`` runs it in one process.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

HOG = "while True: pass"


def failures(junit: Path) -> list[str]:
    """The ids of the tests that failed or errored in one JUnit report."""
    if not junit.exists():
        return ["(no report: pytest did not finish)"]
    bad = []
    for case in ET.parse(junit).getroot().iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            module = case.get("classname", "").replace(".", "/")
            bad.append(f"{module}.py::{case.get('name')}")
    return bad


def run_suite(run: int, report_dir: Path, pytest_args: list[str]) -> tuple[list[str], float]:
    junit = report_dir / f"run{run}.xml"
    started = time.monotonic()
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    subprocess.run([*command, f"--junitxml={junit}", *pytest_args], check=False)
    return failures(junit), time.monotonic() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.stress", description=__doc__)
    parser.add_argument("--runs", type=int, default=5, help="how many times (default: 5)")
    parser.add_argument(
        "--hogs",
        type=int,
        default=os.cpu_count() or 2,
        help="busy-looping processes to run beside the suite (default: one per core)",
    )
    parser.add_argument("pytest_args", nargs="*", help="passed to pytest (put them after --)")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.hogs < 0:
        parser.error("--runs must be at least 1 and --hogs at least 0")
    print(f"stress test: {args.runs} run(s) of the suite beside {args.hogs} CPU hog(s)")
    hogs = [subprocess.Popen([sys.executable, "-c", HOG]) for _ in range(args.hogs)]
    found: list[tuple[int, str]] = []
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="ddb-stress-") as tmp:
            for run in range(1, args.runs + 1):
                failed, took = run_suite(run, Path(tmp), args.pytest_args)
                found += [(run, test) for test in failed]
                print(f"--- run {run}/{args.runs}: {len(failed)} failure(s) in {took:.0f}s ---")
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
    total = time.monotonic() - started
    print(f"\nstress test: {args.runs} run(s) in {total:.0f}s, {len(found)} failure(s)")
    for run, test in found:
        print(f"  run {run}: {test}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
