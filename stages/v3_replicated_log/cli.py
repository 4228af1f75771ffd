"""Command line for stage v3.0: ``ddb v3 node|demo`` (v3, as v1 and v2 are named: 3.0).

A v3.0 node takes v2.1's flags for majority vote, without ``--election``: Raft's log needs
Raft's election (a Bully leader may lack committed entries), so the algorithm is fixed.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from stages.v1_kv.cli import fail, program
from stages.v1_kv.runner import positive_float, serve
from stages.v2_1_election.cli import TIMINGS, election_settings, voter_list
from stages.v2_1_election.core import ConfigError
from stages.v2_registry.cli import (
    add_demo_arguments,
    add_node_arguments,
    demo_dashboard,
    demo_nodes,
    demo_token,
    node_config,
    start_node,
)
from stages.v3_replicated_log.messages import MAX_DATA
from stages.v3_replicated_log.node import create_raft_app
from stages.v3_replicated_log.wal import WALCorrupt, WriteAheadLog
from stages.v3_replicated_log.wal_cli import register as register_wal
from workbench.demo.raftlog import RAFT_LOG_STAGE
from workbench.demo.run import run_demo

MAX_VALUE_BYTES = 2048  # in base64, with its key and client, a command fits in MAX_DATA


def add_raft_arguments(parser: argparse.ArgumentParser) -> None:
    add_node_arguments(parser, heartbeat_flag="--registry-heartbeat-interval")
    group = parser.add_argument_group("the replicated log")
    group.add_argument(
        "--voters",
        type=voter_list,
        required=True,
        metavar="NAMES",
        help="the cluster's voters by name, the same list on every node, such as n1,n2,n3; "
        "an entry commits once more than half of them store it, and only theirs count",
    )
    group.add_argument(
        "--non-voter",
        action="store_true",
        help="this node is not one of --voters: it keeps a copy of the log, never votes",
    )
    group.add_argument("--cluster-size", type=str, help=argparse.SUPPRESS)  # v2.1 explains
    group.add_argument("--election", dest="election_asked", help=argparse.SUPPRESS)  # see below
    group.add_argument(
        "--data-dir",
        type=Path,
        required=True,
        metavar="DIR",
        help="where the node keeps its log, term and vote across restarts",
    )
    group.add_argument(
        "--timeout",
        type=positive_float,
        default=5.0,
        metavar="SECONDS",
        help="the longest a client waits for its write to be applied (then 503, outcome "
        "unknown) or its read to be confirmed (default: %(default)s)",
    )
    timing = parser.add_argument_group("election timings (seconds)")
    for setting in ("heartbeat_interval", "election_timeout"):
        timing.add_argument(
            f"--{setting.replace('_', '-')}", type=positive_float, help=TIMINGS[setting]
        )
    parser.set_defaults(  # what v2.1's election_settings reads: majority vote, no Bully timings
        election="quorum",
        leader_timeout=None,
        answer_timeout=None,
        victory_timeout=None,
        max_value_bytes=MAX_VALUE_BYTES,
    )


def run_raft_node(args: argparse.Namespace) -> int:
    if args.election_asked is not None:  # said, not guessed: argparse would take it for a prefix
        return fail(
            "--election: a v3.0 node always runs majority vote with Raft's election "
            "restriction; Bully could elect a leader that lacks committed entries",
            program(args),
        )
    try:
        settings = election_settings(args)
    except ConfigError as exc:
        return fail(f"inconsistent election settings: {exc}", program(args))
    if args.max_value_bytes * 4 // 3 + 1024 > MAX_DATA:
        return fail(
            f"--max-value-bytes: a log entry holds at most {MAX_DATA} characters, so a value "
            f"at most {(MAX_DATA - 1024) * 3 // 4} bytes",
            program(args),
        )
    sock = start_node(args)  # its logging too, which tells what the log held
    if sock is None:
        return 1
    try:  # before it joins: a node that cannot trust its log must not take part
        storage = WriteAheadLog.open(args.data_dir)
    except (OSError, WALCorrupt) as exc:
        sock.close()
        return fail(f"--data-dir {args.data_dir}: {exc}", program(args))
    app = create_raft_app(node_config(args, sock), settings, storage, timeout=args.timeout)
    serve(app, sock, args.host)
    return 0


def run_v3_demo(args: argparse.Namespace) -> int:
    """v2.2's demo with v3.0's nodes: the first nodes are the voters, each has its own data
    directory under ``--data-dir`` (a new temporary one by default)."""
    try:
        token = demo_token(args)
    except ValueError as exc:
        return fail(str(exc))
    nodes = demo_nodes(args)
    root = args.data_dir or Path(tempfile.mkdtemp(prefix="ddb-v3-demo-"))
    voters = ("--voters", ",".join(node.name for node in nodes))
    dashboard = demo_dashboard(args, RAFT_LOG_STAGE)  # the election, and each log

    def data_dir(name: str) -> tuple[str, ...]:
        return ("--data-dir", str(root / name))

    print(f"The nodes keep their logs in {root}", flush=True)
    return run_demo(
        "v3", args.registry_port, nodes, voters, token, dashboard, ("--non-voter",), data_dir
    )


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``v3``."""
    v3 = commands.add_parser("v3", help="stage v3.0: Raft's replicated log under the key/value API")
    sub = v3.add_subparsers(dest="v3_command", required=True, metavar="COMMAND")
    node = sub.add_parser(
        "node",
        help="run a node of a Raft cluster: writes through the log, linearizable reads",
        description="Run a v3.0 node: majority vote elects a leader, which appends every "
        "write to a replicated log and answers once a majority stores it and it is applied "
        "(307 from a follower, 503 without a leader or when the outcome is unknown); reads "
        "are linearizable (ReadIndex) unless ?consistency=stale.",
    )
    add_raft_arguments(node)
    node.set_defaults(func=run_raft_node)
    demo = sub.add_parser(
        "demo",
        help="run a registry and three v3.0 nodes on loopback",
        description="Start a registry and N v3.0 nodes (all voters) as child processes on "
        "127.0.0.1, and a dashboard of the election and of each node's log; Ctrl-C stops them all.",
    )
    add_demo_arguments(demo)
    demo.add_argument(
        "--data-dir",
        type=Path,
        metavar="DIR",
        help="keep each node's log in DIR/NAME (default: a new temporary directory)",
    )
    demo.set_defaults(func=run_v3_demo)
    register_wal(sub)


def node_main(argv: list[str] | None = None) -> int:
    """``python -m stages.v3_replicated_log``: the same as ``ddb v3 node``."""
    parser = argparse.ArgumentParser(
        prog="python -m stages.v3_replicated_log", description="Run a v3.0 node."
    )
    add_raft_arguments(parser)
    parser.set_defaults(prog=parser.prog)  # errors name this program, not ddb
    return run_raft_node(parser.parse_args(argv))
