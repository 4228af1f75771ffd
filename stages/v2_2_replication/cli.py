"""Command line for stage v2.2: ``ddb v2.2 node|demo``, with v2.1's flags and one more."""

from __future__ import annotations

import argparse
import logging

from stages.v1_kv.cli import fail, program
from stages.v1_kv.runner import positive_float, serve
from stages.v2_1_election.algorithms import ALGORITHMS
from stages.v2_1_election.cli import (
    add_election_arguments,
    election_settings,
    vote_storage,
)
from stages.v2_1_election.core import ConfigError
from stages.v2_1_election.votefile import VoteFileError
from stages.v2_2_replication.node import create_replication_app
from stages.v2_registry.cli import (
    add_demo_arguments,
    demo_dashboard,
    demo_nodes,
    demo_token,
    node_config,
    start_node,
)
from workbench.demo.replication import REPLICATION_STAGE
from workbench.demo.run import run_demo

log = logging.getLogger(__name__)


def add_replication_arguments(parser: argparse.ArgumentParser) -> None:
    add_election_arguments(parser)
    parser.add_argument_group("replication").add_argument(
        "--replication-timeout",
        type=positive_float,
        default=1.0,
        metavar="SECONDS",
        help="how long the leader waits for each follower to take a write before it answers "
        "the client anyway (default: %(default)s)",
    )


def run_replication_node(args: argparse.Namespace) -> int:
    """v2.1's ``run_election_node``, with v2.2's app (it offers no hook for the app)."""
    try:
        settings = election_settings(args)
    except ConfigError as exc:
        return fail(f"inconsistent election settings: {exc}", program(args))
    storage = None
    if args.data_dir is not None:
        try:
            storage = vote_storage(args.data_dir)
        except VoteFileError as exc:
            return fail(str(exc), program(args))
    sock = start_node(args)
    if sock is None:
        return 1
    algorithm = ALGORITHMS[args.election]
    app = create_replication_app(
        node_config(args, sock),
        algorithm.factory(settings),
        storage,
        replication_timeout=args.replication_timeout,
    )
    serve(app, sock, args.host)
    return 0


def run_v22_demo(args: argparse.Namespace) -> int:
    """v2.1's ``run_v21_demo`` with v2.2's nodes (it names its stage itself)."""
    try:
        token = demo_token(args)
    except ValueError as exc:
        return fail(str(exc))
    nodes = demo_nodes(args)
    election: tuple[str, ...] = ()
    added: tuple[str, ...] = ()
    if args.election == "quorum":  # the first nodes are the voters; an added one is not
        election = ("--election", "quorum", "--voters", ",".join(node.name for node in nodes))
        added = ("--non-voter",)
    dashboard = demo_dashboard(args, REPLICATION_STAGE)
    return run_demo("v2.2", args.registry_port, nodes, election, token, dashboard, added)


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``v2.2``."""
    v22 = commands.add_parser("v2.2", help="stage v2.2: the leader copies writes to followers")
    sub = v22.add_subparsers(dest="v22_command", required=True, metavar="COMMAND")
    node = sub.add_parser(
        "node",
        help="run a v2.1 node whose leader replicates every write to its followers",
        description="Run a v2.1 node (Bully or majority vote) that sends writes to the "
        "leader (307 Temporary Redirect), copies the leader's writes, answers reads from its "
        "own store, and copies the leader's whole store once when it joins. Not "
        "fault-tolerant: `ddb workload --check` shows how.",
    )
    add_replication_arguments(node)
    node.set_defaults(func=run_replication_node)
    demo = sub.add_parser(
        "demo",
        help="run a registry and three v2.2 nodes on loopback",
        description="Start a registry and N v2.2 nodes as child processes on 127.0.0.1, and "
        "the election's dashboard; Ctrl-C stops them all.",
    )
    add_demo_arguments(demo)
    demo.add_argument(
        "--election",
        choices=sorted(ALGORITHMS),
        default="bully",
        help="the nodes' election (default: %(default)s)",
    )
    demo.set_defaults(func=run_v22_demo)


def node_main(argv: list[str] | None = None) -> int:
    """``python -m stages.v2_2_replication``: the same as ``ddb v2.2 node``."""
    parser = argparse.ArgumentParser(
        prog="python -m stages.v2_2_replication", description="Run a v2.2 node."
    )
    add_replication_arguments(parser)
    parser.set_defaults(prog=parser.prog)  # errors name this program, not ddb
    return run_replication_node(parser.parse_args(argv))
