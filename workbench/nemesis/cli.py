"""``ddb nemesis``: repeated runs of a workload under faults, each checked, and the counts."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from workbench.history.cli import BAD_INPUT, usage_errors_exit_with
from workbench.history.workload_cli import add_client_arguments
from workbench.nemesis.anomalies import ANOMALIES
from workbench.nemesis.faults import FAULTS, MOVES
from workbench.nemesis.stages import STAGES, label
from workbench.nemesis.trial import TrialConfig, TrialResult, run_trial
from workbench.sim.arguments import positive_float, positive_int

ELECTIONS = ("bully", "quorum")
MAX_NODES = 9
VERDICT = {True: "linearizable", False: "NOT linearizable", None: "unknown"}


def faults(text: str) -> tuple[str, ...]:
    if text == "none":
        return ()
    chosen = tuple(part.strip() for part in text.split(",") if part.strip())
    wrong = [part for part in chosen if part not in MOVES]
    if wrong or not chosen:
        raise argparse.ArgumentTypeError(
            f"{text!r}: a comma-separated list of {', '.join(MOVES)}, or none"
        )
    return chosen


def cluster_size(text: str) -> int:
    size = positive_int(text)
    if size > MAX_NODES:
        raise argparse.ArgumentTypeError(f"{text}: at most {MAX_NODES} nodes per run")
    return size


def describe(result: TrialResult, runs: int) -> str:
    found = ", ".join(result.anomalies) or "nothing wrong"
    return (
        f"run {result.run}/{runs} (seed {result.seed}): {VERDICT[result.linearizable]}, "
        f"{result.operations} operations ({result.unknown} unknown), {len(result.faults)} "
        f"nemesis moves; {found}"
    )


def summary(config: TrialConfig, results: list[TrialResult], seconds: float) -> list[str]:
    invalid = sum(result.linearizable is False for result in results)
    counts = Counter(anomaly for result in results for anomaly in result.anomalies)
    lines = [
        f"{label(config.stage, config.election)}, {config.nodes} nodes, route {config.route}, "
        f"faults {','.join(config.faults) or 'none'}: {invalid} of {len(results)} runs not "
        f"linearizable ({seconds:.0f} s)"
    ]
    for anomaly in ANOMALIES:
        first = next((r for r in results if anomaly in r.anomalies), None)
        where = "" if first is None else f"   first in run {first.run}: {first.history}"
        lines.append(f"  {anomaly:<18} {counts[anomaly]:>3} runs{where}")
    return lines


def result_json(result: TrialResult) -> dict[str, Any]:
    return {
        "run": result.run,
        "seed": result.seed,
        "linearizable": result.linearizable,
        "operations": result.operations,
        "unknown": result.unknown,
        "anomalies": [vars(finding) for finding in result.findings],
        "nemesis": result.faults,
        "digests": result.digests,
        "history": str(result.history),
        "svg": None if result.svg is None else str(result.svg),
    }


def run(args: argparse.Namespace) -> int:
    if args.stage == "v3" and args.election is not None:
        print("ddb: error: --election is v2.2's: a v3 node always elects by Raft's vote",
              file=sys.stderr)  # fmt: skip
        return BAD_INPUT
    args.election = args.election or "bully"
    config = TrialConfig(
        stage=args.stage, election=args.election, nodes=args.nodes, time=args.time,
        faults=args.faults, route=args.route, clients=args.clients, keys=args.keys,
        interval=args.interval, down=args.down, timeout=args.timeout,
    )  # fmt: skip
    try:
        args.out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        print(f"ddb: error: cannot create {args.out}: {exc.strerror}", file=sys.stderr)
        return BAD_INPUT
    started, results = time.monotonic(), []
    try:
        for run_number in range(1, args.runs + 1):
            seed = args.seed + run_number - 1
            print(f"run {run_number}/{args.runs}: starting {config.nodes} {config.stage} "
                  "nodes...", file=sys.stderr, flush=True)  # fmt: skip
            result = asyncio.run(run_trial(config, run_number, seed, args.out))
            results.append(result)
            if not args.json:
                print(describe(result, args.runs), flush=True)
                for finding in result.findings:
                    print(f"    {finding.anomaly}: {finding.example}", flush=True)
    except KeyboardInterrupt:
        print("\nddb: interrupted; every process it started is stopped", file=sys.stderr)
        return 130
    except AssertionError as exc:  # the cluster never formed, or never healed
        print(f"ddb: error: {exc}", file=sys.stderr)
        return BAD_INPUT
    if args.json:
        print(json.dumps([result_json(result) for result in results], indent=2))
    else:
        print("\n".join(summary(config, results, time.monotonic() - started)))
    if any(result.linearizable is False for result in results):
        return 1
    return 2 if any(result.linearizable is None for result in results) else 0


DESCRIPTION = (
    "Put a stage through faults, as Jepsen does: for each run, start a fresh registry and "
    "nodes on loopback, run `ddb workload`'s clients against them while a nemesis kills the "
    "leader (kill -9), pauses a follower (SIGSTOP) or restarts a node, heal the cluster, read "
    "every key from every node, and check the history. Each run prints its verdict and what "
    "went wrong (a stale read, a lost write, replicas that disagree); the last lines count "
    "them over all runs. The same faults against v2.2 (simple replication) and v3 (Raft's "
    "log, each node's log on disk, kept across its restarts) show the difference."
)
EPILOG = (
    "Each run's history is OUT/run-N.jsonl (check it again with `ddb check`), and the first "
    "key that failed is drawn in OUT/run-N.svg; a run that went wrong keeps its nodes' logs "
    "in OUT/run-N.logs/ (and v3's logs on disk in OUT/run-N.data/). Exit status: 0 every run "
    "linearizable, 1 some run not, 2 some run unknown, 3 the cluster could not be started or "
    "healed."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--stage",
        choices=STAGES,
        default="v2.2",
        help="the nodes to start: `ddb v2.2 node` (simple replication) or `ddb v3 node` "
        "(Raft's replicated log, each with --voters and its own --data-dir) "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--election",
        choices=ELECTIONS,
        help="v2.2's election: Bully, or majority vote with every node a voter "
        "(default: bully; v3 always uses Raft's)",
    )
    parser.add_argument(
        "--nodes",
        type=cluster_size,
        default=3,
        help=f"nodes per run, 1 to {MAX_NODES}, all voters (default: %(default)s)",
    )
    parser.add_argument(
        "--runs", type=positive_int, default=5, help="how many runs (default: %(default)s)"
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=1,
        help="the first run's seed; run N uses seed+N-1 (default: %(default)s)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("nemesis"),
        metavar="DIR",
        help="where the histories and figures go (default: %(default)s)",
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    workload = parser.add_argument_group("the workload (as `ddb workload`)")
    workload.add_argument(
        "--time",
        type=positive_float,
        default=10.0,
        metavar="SECONDS",
        help="each run's workload (default: %(default)s)",
    )
    add_client_arguments(workload)
    nemesis = parser.add_argument_group("the nemesis")
    nemesis.add_argument(
        "--faults",
        type=faults,
        default=FAULTS,
        metavar="LIST",
        help=f"which moves, from {','.join(MOVES)}, or none: kill -9 of the leader (or of "
        "a follower), SIGSTOP of a follower (or of the leader), SIGTERM of any node; a killed "
        f"or stopped node is started again (default: {','.join(FAULTS)})",
    )
    nemesis.add_argument(
        "--interval",
        type=positive_float,
        default=1.0,
        metavar="SECONDS",
        help="quiet time between two faults (default: %(default)s)",
    )
    nemesis.add_argument(
        "--down",
        type=positive_float,
        default=2.0,
        metavar="SECONDS",
        help="how long a node stays killed or paused (default: %(default)s)",
    )


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``nemesis``."""
    parser = commands.add_parser(
        "nemesis", help="run a workload under faults, N times, and count what went wrong",
        description=DESCRIPTION, epilog=EPILOG,
    )  # fmt: skip
    add_arguments(parser)
    parser.set_defaults(func=run)
    usage_errors_exit_with(BAD_INPUT, parser)  # 2 means "unknown" here
