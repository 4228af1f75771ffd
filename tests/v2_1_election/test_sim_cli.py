"""``ddb simulate`` (and ``python -m workbench.sim``): output, exit status,
refused arguments, and the figures in the docs kept up to date."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from stages.v2_1_election.algorithms import bully_settings
from stages.v2_1_election.bully import Role, Send
from stages.v2_1_election.core import Ready
from stages.v2_1_election.messages import Message
from workbench.sim import cli
from workbench.sim.algorithms import ALGORITHMS, SIM_ALGORITHMS, Algorithm, SimAlgorithm
from workbench.sim.figures import DOCS_FIGURES, FIGURES, write_all
from workbench.sim.logfigures import LOG_FIGURES

pytestmark = pytest.mark.timeout(60)

ROOT = Path(__file__).resolve().parents[2]
FAILOVER = "workbench/sim/scenarios/failover.txt"


def simulate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workbench.sim", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )


def test_a_run_prints_the_seed_the_summary_and_the_checks() -> None:
    result = simulate("--seed", "7", "--scenario", FAILOVER, "--duration", "5")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "seed 7: bully, 5 nodes, 5 s of virtual time, faults until 3.5 s"
    assert "faults: 1 crash, 1 restart" in lines
    for name in ("election safety", "single leader", "liveness", "stability"):
        assert any(line.strip().startswith(f"ok       {name}:") for line in lines), name


def test_trials_on_two_processes_print_exactly_what_one_prints(capsys) -> None:
    args = ["--algorithm", "quorum", "--nemesis", "crash,pause,partition", "--trials", "40"]
    assert cli.main(args) == 0
    serial = capsys.readouterr().out
    assert cli.main([*args, "--jobs", "2"]) == 0
    assert capsys.readouterr().out == serial
    assert serial.startswith("40 trials, seeds 1 to 40\n")


def test_json_reports_say_what_the_text_says(capsys) -> None:
    assert cli.main(["--algorithm", "quorum", "--nemesis", "crash", "--trials", "5", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["trials"] == 5 and report["seeds"] == [1, 5]
    assert report["properties"]["election safety"] == {"violated": [], "claimed_and_broken": []}
    assert report["promise_broken"] is False
    assert cli.main(["--scenario", FAILOVER, "--duration", "5", "--json"]) == 0
    run = json.loads(capsys.readouterr().out)
    assert run["seed"] == 1 and run["broken"] == []
    assert {"name": "election safety", "ok": True}.items() <= run["checks"][0].items()


def test_the_same_arguments_write_the_same_trace_byte_for_byte(tmp_path: Path) -> None:
    args = ["--seed", "3", "--nemesis", "crash,pause,partition", "--drop", "0.01"]
    for name in ("a", "b"):
        assert cli.main([*args, "--trace", str(tmp_path / f"{name}.jsonl")]) in (0, 1)
    first = (tmp_path / "a.jsonl").read_bytes()
    assert first == (tmp_path / "b.jsonl").read_bytes()
    assert first.startswith(b'{"t": 0.0, "event": "start", "algorithm": "bully", "seed": 3')


def test_the_timeline_and_the_svg_are_written(tmp_path: Path) -> None:
    timeline, svg = tmp_path / "run.txt", tmp_path / "run.svg"
    args = ["--scenario", FAILOVER, "--duration", "5", "--timeline", str(timeline)]
    assert cli.main([*args, "--svg", str(svg), "--svg-window", "1.5:3.5"]) == 0
    assert "   2.0000  crash n5" in timeline.read_text().splitlines()
    drawing = svg.read_text()
    assert drawing.startswith("<svg ") and drawing.endswith("</svg>\n")
    assert "1.5 s to 3.5 s" in drawing and "leader, term" in drawing


def test_trials_report_each_property_and_exit_0_when_no_promise_is_broken(capsys) -> None:
    assert cli.main(["--trials", "20", "--nemesis", "partition=0.2"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "20 trials, seeds 1 to 20"
    split = next(line for line in out if "single leader" in line)
    assert ", 0 of them where bully claims it; seeds " in split  # a lesson, not a failure


class Usurper:
    """A broken algorithm for the test: every node declares itself leader of term 1."""

    def __init__(self, name: str, rng: object, now: float) -> None:
        self.name, self.role, self.leader, self.term = name, Role.FOLLOWER, None, 0
        self.deadline = now + 0.5

    def tick(self, now: float) -> list[Send]:
        if now >= self.deadline:
            self.role, self.leader, self.term, self.deadline = Role.LEADER, self.name, 1, 1e9
        return []

    def receive(self, message: Message, now: float) -> list[Send]:
        return []

    def set_peers(self, names: object, now: float) -> list[Send]:
        return []

    def ready(self, messages: list[Send]) -> Ready:
        return Ready(None, messages)


@pytest.fixture
def usurper(monkeypatch: pytest.MonkeyPatch) -> None:
    def new_usurper(name: str, settings: object, rng: object, now: float, _: None) -> Usurper:
        return Usurper(name, rng, now)

    usurper = Algorithm("usurper", "everyone leads term 1", bully_settings, new_usurper)
    monkeypatch.setitem(ALGORITHMS, "usurper", usurper)  # what the command line offers
    claims = {"election safety": frozenset[str]()}
    monkeypatch.setitem(SIM_ALGORITHMS, "usurper", SimAlgorithm(usurper, claims))


def test_a_broken_promise_exits_1_and_names_the_seeds(usurper: None, capsys) -> None:
    assert cli.main(["--algorithm", "usurper", "--duration", "2"]) == 1
    out = capsys.readouterr().out
    assert "VIOLATED election safety: " in out and "became leader of term 1 at 0." in out
    assert "usurper claims election safety, and this run violates it" in out
    assert cli.main(["--algorithm", "usurper", "--duration", "2", "--trials", "3"]) == 1
    assert "3 violated, 3 of them where usurper claims it; seeds 1, 2, 3" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--nodes", "1"], "an election needs at least 2 nodes"),
        (["--drop", "1.5"], "must be at least 0 and less than 1"),
        (["--nemesis", "meteor"], "unknown fault kind 'meteor'"),
        (["--svg-window", "5:1"], "START must be >= 0 and before END"),
        (["--scenario", "no/such/file.txt"], "cannot read no/such/file.txt"),
        (["--nemesis", "crash", "--scenario", FAILOVER], "not allowed with argument"),
        (["--trials", "3", "--svg", "x.svg"], "record one run: leave out --trials"),
        (["--jobs", "2"], "--jobs runs trials in parallel: give --trials N"),
        (
            ["--no-pre-vote"],
            "--no-pre-vote, --no-check-quorum and --count-any-sender are for --algorithm quorum",
        ),
        (["--algorithm", "paxos"], "invalid choice: 'paxos'"),
    ],
)
def test_bad_arguments_are_argparse_errors_without_a_traceback(args, complaint) -> None:
    result = simulate(*args)
    assert result.returncode == 2
    assert complaint in result.stderr
    assert "Traceback" not in result.stderr


def test_trials_of_majority_vote_report_the_longest_overlap_and_the_cost_of_an_election(
    capsys,
) -> None:
    args = ["--algorithm", "quorum", "--nemesis", "crash,pause,partition", "--trials", "3"]
    assert cli.main([*args, "--duration", "10"]) == 0
    out = capsys.readouterr().out
    assert "  election safety         0 violated" in out
    assert "  longest overlap of two leaders: " in out
    assert " s to an agreed leader and " in out


def test_an_output_that_cannot_be_written_is_a_one_line_error(tmp_path: Path) -> None:
    result = simulate("--svg", str(tmp_path / "no" / "such" / "dir.svg"))
    assert result.returncode == 1
    assert result.stderr.startswith("ddb: error: cannot write ")
    assert "Traceback" not in result.stderr


def test_a_bad_scenario_line_is_reported_with_the_file_and_line(tmp_path: Path) -> None:
    scenario = tmp_path / "bad.txt"
    scenario.write_text("1 crash n3\n2 restart n4\n")
    result = simulate("--scenario", str(scenario))
    assert result.returncode == 2
    assert f"--scenario {scenario}: line 2: n4 has not crashed" in result.stderr


def test_register_adds_simulate_to_a_ddb_style_parser(capsys) -> None:
    parser = argparse.ArgumentParser(prog="ddb")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    cli.register(commands)
    args = parser.parse_args(["simulate", "--scenario", FAILOVER, "--duration", "5"])
    assert args.func(args) == 0
    assert capsys.readouterr().out.startswith("seed 1: bully, 5 nodes")
    with pytest.raises(SystemExit):
        parser.parse_args(["simulate", "--nodes", "0"])


def test_the_figures_in_the_docs_are_what_the_simulator_draws_today(tmp_path: Path) -> None:
    written = write_all(tmp_path)  # the election's FIGURES, then the log's LOG_FIGURES
    for path in written:
        committed = DOCS_FIGURES / path.name
        assert committed.exists(), f"run `make figures` to create {committed}"
        assert path.read_bytes() == committed.read_bytes(), f"run `make figures`: {path.name}"
    drawn_here = [p for p in DOCS_FIGURES.glob("*.svg") if not p.name.startswith("history-")]
    # (the checker's, history-*.svg, are tests/workbench/test_check_cli.py's)
    assert len(FIGURES) + len(LOG_FIGURES) == len(written) == len(drawn_here)
