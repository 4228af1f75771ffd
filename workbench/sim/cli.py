"""``ddb simulate``: run the election in the deterministic simulator, once or many times.

Also ``python -m workbench.sim``, with the same arguments.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from stages.v2_1_election.core import ConfigError
from workbench.sim import trials
from workbench.sim.algorithms import SIM_ALGORITHMS
from workbench.sim.arguments import (
    DEFAULT_EXTRAS,
    extra_kinds,
    fail,
    nemesis,
    positive_float,
    positive_int,
    probability,
    unsafe_shortcuts,
    window,
)
from workbench.sim.checkers import check
from workbench.sim.extras import EXTRA_KINDS
from workbench.sim.logchecks import history_lines
from workbench.sim.nemesis import (
    Fault,
    ScenarioError,
    node_names,
    parse_scenario,
)
from workbench.sim.network import NetworkConfig
from workbench.sim.replay import Verdict
from workbench.sim.report import (
    broken_promises,
    faults_seen,
    summary,
)
from workbench.sim.simulator import SimConfig, simulate
from workbench.sim.svg import lamport_svg
from workbench.sim.trace import timeline
from workbench.sim.trials import Report
from workbench.sim.unsafe import UNSAFE


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--algorithm", choices=sorted(SIM_ALGORITHMS), default="bully")
    parser.add_argument(
        "--nodes", type=positive_int, default=5, help="n1..nN, the voters (default: 5)"
    )
    kinds = "; ".join(f"{kind}: {text}" for kind, text in EXTRA_KINDS.items())
    parser.add_argument(
        "--extras",
        type=extra_kinds,
        metavar="KINDS",
        help=f"extra nodes after the voters, absent until a join starts them ({kinds}); "
        "e.g. learner,stray,stray. With --nemesis extra-nodes, the default is learner,stray",
    )
    parser.add_argument("--seed", type=int, default=1, help="the run's seed (default: 1)")
    parser.add_argument(
        "--duration", type=positive_float, default=30.0, help="virtual seconds (default: 30)"
    )
    faults = parser.add_mutually_exclusive_group()
    faults.add_argument(
        "--nemesis",
        type=nemesis,
        metavar="KINDS",
        help="random faults from the seed, e.g. crash,pause,partition or crash=0.2,pause; "
        "rates in faults per second (defaults: crash 0.1, pause 0.1, partition 0.05, "
        "registry-restart 0.05, extra-nodes 0.2: an extra node joins, or comes back, and "
        "may leave); they stop after two thirds of the run",
    )
    faults.add_argument("--scenario", type=Path, metavar="FILE", help="faults from a file")
    parser.add_argument(
        "--drop",
        type=probability,
        default=0.0,
        help="odds that a message is lost (until the faults stop)",
    )
    parser.add_argument(
        "--duplicate",
        type=probability,
        default=0.0,
        help="odds that a message arrives twice (until the faults stop)",
    )
    parser.add_argument("--trials", type=positive_int, help="run seeds SEED..SEED+N-1")
    parser.add_argument(
        "--jobs",
        type=positive_int,
        default=1,
        metavar="J",
        help="with --trials: run them in J processes; the report is the same (default: 1)",
    )
    parser.add_argument(
        "--json", action="store_true", help="print the report (or the checks) as JSON"
    )
    parser.add_argument(
        "--forget-votes",
        action="store_true",
        help="restarted nodes lose their term and vote, as a node without --data-dir does",
    )
    quorum = parser.add_argument_group("majority vote (--algorithm quorum) without its guards")
    quorum.add_argument("--no-pre-vote", action="store_true", help="campaign without asking first")
    quorum.add_argument(
        "--no-check-quorum", action="store_true", help="a leader never steps down on its own"
    )
    quorum.add_argument(
        "--count-any-sender",
        action="store_true",
        help="count votes and acks from any node, as majority vote did before it counted "
        "names: a majority of a count, not of the voters' names (two leaders in one term, "
        "once there are extra nodes)",
    )
    log = parser.add_argument_group("the replicated log (--algorithm raft) without its guards")
    log.add_argument(
        "--unsafe",
        type=unsafe_shortcuts,
        metavar="SHORTCUTS",
        help="take rules out, for the checkers to catch: "
        + "; ".join(f"{name}: {text}" for name, text in UNSAFE.items()),
    )
    output = parser.add_argument_group("output of a single run")
    output.add_argument("--trace", type=Path, metavar="FILE", help="JSON lines, every event")
    output.add_argument("--timeline", type=Path, metavar="FILE", help="the story, as text")
    output.add_argument("--svg", type=Path, metavar="FILE", help="a Lamport diagram")
    output.add_argument(
        "--history", type=Path, metavar="FILE", help="raft: the clients' history, for ddb check"
    )
    output.add_argument(
        "--svg-window", type=window, metavar="START:END", help="draw only these seconds"
    )


def config_from(args: argparse.Namespace, parser: argparse.ArgumentParser) -> SimConfig:
    if args.nodes < 2:
        parser.error("--nodes: an election needs at least 2 nodes")
    extras = args.extras or ()
    if not extras and "extra-nodes" in (args.nemesis or {}):
        extras = DEFAULT_EXTRAS
    names = node_names(args.nodes + len(extras))
    scenario: tuple[Fault, ...] = ()
    if args.scenario is not None:
        try:
            text = args.scenario.read_text(encoding="utf-8")
            scenario = tuple(parse_scenario(text, names, absent=names[args.nodes :]))
        except OSError as exc:
            parser.error(f"--scenario: cannot read {args.scenario}: {exc.strerror}")
        except ScenarioError as exc:
            parser.error(f"--scenario {args.scenario}: {exc}")
    if args.jobs > 1 and not args.trials:
        parser.error("--jobs runs trials in parallel: give --trials N")
    if args.trials and (args.trace or args.svg or args.timeline or args.history):
        parser.error("--trace, --timeline, --svg and --history record one run: leave out --trials")
    if (args.unsafe or args.history) and args.algorithm != "raft":
        parser.error("--unsafe and --history are for --algorithm raft")
    guards = {
        "pre_vote": not args.no_pre_vote,
        "check_quorum": not args.no_check_quorum,
        "count_voters_only": not args.count_any_sender,
    }
    if args.algorithm != "quorum" and not all(guards.values()):
        parser.error(
            "--no-pre-vote, --no-check-quorum and --count-any-sender are for --algorithm quorum"
        )
    overrides = guards if args.algorithm == "quorum" else {}
    try:
        algorithm = SIM_ALGORITHMS[args.algorithm].algorithm
        settings = algorithm.settings(node_names(args.nodes), **overrides)
    except ConfigError as exc:
        parser.error(str(exc))
    return SimConfig(
        nodes=args.nodes,
        seed=args.seed,
        duration=args.duration,
        algorithm=args.algorithm,
        election=settings,
        durable=not args.forget_votes,
        network=NetworkConfig(drop=args.drop, duplicate=args.duplicate),
        nemesis=tuple(sorted((args.nemesis or {}).items())),
        scenario=scenario,
        extras=extras,
        unsafe=args.unsafe or (),
    )


# --8<-- [start:run_once]
def run_once(config: SimConfig, args: argparse.Namespace) -> int:
    trace = simulate(config)
    records = trace.records
    verdicts = check(records, config.election.timings())
    broken = broken_promises(config.algorithm, verdicts, faults_seen(records))
    if args.json:
        print(json.dumps(run_json(config, verdicts, broken), indent=2))
    else:
        print(summary(records, verdicts, config.election.timings().liveness_bound))
    outputs: list[tuple[Path | None, Callable[[], str]]] = [
        (args.trace, trace.to_jsonl),
        (args.timeline, lambda: timeline(records)),
        (args.svg, lambda: lamport_svg(records, args.svg_window)),
        (args.history, lambda: "".join(line + "\n" for line in history_lines(records))),
    ]
    for path, render in outputs:
        if path is not None:
            try:
                path.write_text(render(), encoding="utf-8")
            except OSError as exc:
                return fail(f"cannot write {path}: {exc.strerror}")
    if broken and not args.json:
        print(f"{config.algorithm} claims {' and '.join(broken)}, and this run violates it")
    return 1 if broken else 0


def run_json(config: SimConfig, verdicts: list[Verdict], broken: list[str]) -> dict[str, Any]:
    """``ddb simulate --json``: one run's checks, for scripts."""
    return {
        "algorithm": config.algorithm,
        "seed": config.seed,
        "checks": [
            {"name": v.name, "ok": v.ok, "detail": v.detail, "at": v.at, "nodes": list(v.nodes)}
            for v in verdicts
        ],
        "broken": broken,
    }


# --8<-- [end:run_once]


# --8<-- [start:run_trials]
def run_trials(config: SimConfig, args: argparse.Namespace) -> int:
    """Seeds SEED..SEED+N-1, on ``--jobs`` processes; the report is the same for any number."""
    report = Report(config.algorithm)
    progress = Progress(args.trials) if sys.stderr.isatty() and not args.json else None
    for trial in trials.run(config, args.trials, args.jobs, progress):
        report.add(trial)
    if progress is not None:
        progress.clear()
    print(json.dumps(report.to_json(), indent=2) if args.json else report.text())
    return 1 if report.promise_broken else 0


class Progress:
    """``123/1000 trials`` on stderr, rewritten in place, for a person at a terminal."""

    def __init__(self, total: int) -> None:
        self.total, self.shown = total, -1

    def __call__(self, done: int) -> None:
        percent = done * 100 // self.total
        if percent != self.shown:  # at most a hundred updates
            self.shown = percent
            sys.stderr.write(f"\r{done}/{self.total} trials\x1b[K")
            sys.stderr.flush()

    def clear(self) -> None:
        sys.stderr.write("\r\x1b[K")
        sys.stderr.flush()


# --8<-- [end:run_trials]


def run_simulate(args: argparse.Namespace) -> int:
    config = config_from(args, args.parser)
    if args.trials:
        return run_trials(config, args)
    return run_once(config, args)


DESCRIPTION = (
    "Run the real election core in a deterministic simulator: a virtual clock, a seeded "
    "network (latency 1-10 ms), and faults from a scenario or drawn from the seed. Print "
    "what happened and what the checkers found; exit 1 when the algorithm breaks a "
    "promise it makes. The same arguments always give the same run."
)


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``ddb simulate``."""
    parser = commands.add_parser(
        "simulate", help="test elections in a deterministic simulator", description=DESCRIPTION
    )
    add_arguments(parser)
    parser.set_defaults(func=run_simulate, parser=parser)


def main(argv: list[str] | None = None) -> int:
    """``python -m workbench.sim``: the same as ``ddb simulate``."""
    parser = argparse.ArgumentParser(prog="python -m workbench.sim", description=DESCRIPTION)
    add_arguments(parser)
    args = parser.parse_args(argv)
    args.parser = parser
    return run_simulate(args)
