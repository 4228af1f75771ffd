"""Command line for stage v2.1: ``ddb v2.1 node|demo``, ``ddb status``, and role columns in
``ddb nodes`` (through the ``run_nodes`` hook that stage v2's ``register`` offers)."""

from __future__ import annotations

import argparse
import logging
from dataclasses import fields
from pathlib import Path
from typing import Any

from stages.v1_kv.cli import fail, program
from stages.v1_kv.runner import http_url, positive_float, serve
from stages.v2_1_election.algorithms import ALGORITHMS
from stages.v2_1_election.core import ConfigError, Storage
from stages.v2_1_election.listing import run_status
from stages.v2_1_election.majority import MajorityConfig, VotersError, parse_voters
from stages.v2_1_election.node import create_election_app
from stages.v2_1_election.votefile import VoteFile, VoteFileError
from stages.v2_registry.cli import (
    add_demo_arguments,
    add_node_arguments,
    demo_dashboard,
    demo_nodes,
    demo_token,
    node_config,
    start_node,
)
from workbench.demo.election import ELECTION_STAGE
from workbench.demo.run import run_demo

log = logging.getLogger(__name__)

# Each timing flag, the setting it overrides, and its help; which algorithm uses which is
# read from the algorithm's settings, so a flag it does not use is an error, not ignored.
TIMINGS = {
    "heartbeat_interval": "the leader's heartbeats to its followers (default: 0.1)",
    "leader_timeout": "bully: silence after which a follower starts an election; at least 3 "
    "heartbeat intervals (default: 0.5)",
    "answer_timeout": "bully: how long a candidate waits for a higher node to answer "
    "(default: 0.2)",
    "victory_timeout": "bully: how long an answered candidate waits for the winner's Victory "
    "(default: 0.5)",
    "election_timeout": "quorum: T; a follower that hears no leader waits a random time in "
    "[T, 2T) before it asks for votes; at least 3 heartbeat intervals (default: 0.5)",
}


# -- ddb v2.1 node ----------------------------------------------------------------------


def add_election_arguments(parser: argparse.ArgumentParser) -> None:
    add_node_arguments(parser, heartbeat_flag="--registry-heartbeat-interval")
    election = parser.add_argument_group("the election")
    election.add_argument(
        "--election",
        choices=sorted(ALGORITHMS),
        default="bully",
        help="bully: the highest-ranked live node leads; quorum: a majority of the "
        "--voters elects, as in Raft (default: %(default)s)",
    )
    election.add_argument(
        "--voters",
        type=voter_list,
        metavar="NAMES",
        help="quorum: the cluster's voters by name, the same list on every node, such as "
        "n1,n2,n3 (not whoever the registry lists at the moment); a leader needs the votes "
        "of more than half of them, and only theirs count. Required for quorum",
    )
    election.add_argument(
        "--non-voter",
        action="store_true",
        help="quorum: this node is not one of --voters; it follows the leader but never "
        "votes or campaigns (a node outside the list is otherwise refused at start-up)",
    )
    election.add_argument("--cluster-size", type=str, help=argparse.SUPPRESS)  # see below
    election.add_argument(
        "--data-dir",
        type=Path,
        metavar="DIR",
        help="quorum: keep the term and vote in DIR/vote.json, written before a vote is "
        "answered, so that a restarted node never votes twice in one term",
    )
    timing = parser.add_argument_group("election timings (seconds)")
    for setting, help_text in TIMINGS.items():
        timing.add_argument(f"--{setting.replace('_', '-')}", type=positive_float, help=help_text)


def voter_list(text: str) -> MajorityConfig:
    try:
        return parse_voters(text)
    except VotersError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


# --8<-- [start:check_voters]
def check_voters(name: str, voters: MajorityConfig, non_voter: bool) -> None:
    """A node is one of the voters, or says it is not: never a silent outsider."""
    if name not in voters and not non_voter:
        raise ConfigError(
            f"{name} is not one of the voters ({voters}): its votes would count for nothing. "
            "Add it to --voters on every node, or start it with --non-voter to follow the "
            "leader without voting"
        )
    if name in voters and non_voter:
        raise ConfigError(f"--non-voter: {name} is one of the voters ({voters})")


# --8<-- [end:check_voters]


def election_settings(args: argparse.Namespace) -> Any:
    """The chosen algorithm's settings from the flags; ConfigError says what does not fit."""
    algorithm = ALGORITHMS[args.election]
    if args.cluster_size is not None:  # the old flag: a majority of a count is unsafe
        text = args.cluster_size
        size = int(text) if text.isascii() and text.isdigit() and len(text) <= 4 else 3
        example = ",".join(f"n{i}" for i in range(1, min(max(size, 1), 9) + 1))
        raise ConfigError(
            "--cluster-size was replaced by --voters: a majority must be of named voters, "
            f"not of a count, or a node outside the set counts; for example --voters {example}"
        )
    overrides = {name: getattr(args, name) for name in TIMINGS if getattr(args, name) is not None}
    known = {field.name for field in fields(algorithm.settings(["n1"]))}
    for name in overrides.keys() - known:
        raise ConfigError(f"--{name.replace('_', '-')} is not a setting of {algorithm.name}")
    if "voters" in known and args.voters is None:
        raise ConfigError(f"--election {algorithm.name} needs --voters, such as n1,n2,n3")
    if "voters" not in known and (args.voters is not None or args.non_voter):
        flag = "--voters" if args.voters is not None else "--non-voter"
        raise ConfigError(f"{flag} is not a setting of {algorithm.name}")
    if args.data_dir is not None and not algorithm.durable:
        raise ConfigError(f"--data-dir: {algorithm.name} keeps nothing across a restart")
    if args.voters is None:
        return algorithm.settings(None, **overrides)
    if args.name is None:
        raise ConfigError(f"--election {algorithm.name} needs --name: voters are known by name")
    check_voters(args.name, args.voters, args.non_voter)
    return algorithm.settings(args.voters.voters, **overrides)


def vote_storage(data_dir: Path) -> Storage:
    """The vote file in ``data_dir``, read once now: a file it cannot trust stops the start."""
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise VoteFileError(f"--data-dir {data_dir}: {exc.strerror}") from None
    storage = VoteFile(data_dir)
    storage.load()
    return storage


def run_election_node(args: argparse.Namespace) -> int:
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
    if algorithm.durable and storage is None:
        log.warning(
            "%s keeps its term and vote in memory only (no --data-dir): after a restart it "
            "may vote twice in one term, and a term may get two leaders",
            args.name,
        )
    app = create_election_app(node_config(args, sock), algorithm.factory(settings), storage)
    serve(app, sock, args.host)
    return 0


# -- ddb v2.1 demo ----------------------------------------------------------------------


def run_v21_demo(args: argparse.Namespace) -> int:
    try:
        token = demo_token(args)
    except ValueError as exc:
        return fail(str(exc))
    nodes = demo_nodes(args)
    election: tuple[str, ...] = ()
    added: tuple[str, ...] = ()
    if args.election == "quorum":  # the demo's first nodes are the voters, and no other
        voters = ",".join(node.name for node in nodes)
        election = ("--election", "quorum", "--voters", voters)
        added = ("--non-voter",)  # a node added from the dashboard follows, never counts
    dashboard = demo_dashboard(args, ELECTION_STAGE)
    return run_demo("v2.1", args.registry_port, nodes, election, token, dashboard, added)


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``v2.1`` and ``status``. (:func:`~stages.v2_1_election.listing.run_nodes_with_roles`
    is for stage v2's ``nodes``.)"""
    v21 = commands.add_parser(
        "v2.1", help="stage v2.1: leader and followers (Bully, or majority vote)"
    )
    sub = v21.add_subparsers(dest="v21_command", required=True, metavar="COMMAND")
    node = sub.add_parser(
        "node",
        help="run a key/value node that joins the cluster and takes part in elections",
        description="Run a v2 node (key/value, registration, heartbeats to the registry) "
        "that discovers its peers through the registry and elects a leader: with the Bully "
        "algorithm (the highest name in sort order wins), or with --election quorum by "
        "majority vote (Raft's election, with PreVote and CheckQuorum).",
    )
    add_election_arguments(node)
    node.set_defaults(func=run_election_node)
    demo = sub.add_parser(
        "demo",
        help="run a registry and three v2.1 nodes on loopback (what `make run` does)",
        description="Start a registry and N v2.1 nodes as child processes on 127.0.0.1, and "
        "a dashboard that shows them live. Kill the leader (from the dashboard, or by the PID "
        "`ddb nodes` shows) and watch the others elect a new one; Ctrl-C stops them all.",
    )
    add_demo_arguments(demo)
    demo.add_argument(
        "--election",
        choices=sorted(ALGORITHMS),
        default="bully",
        help="the nodes' election; with quorum, the first --nodes nodes are the voters and "
        "a node added from the dashboard is a non-voter (default: %(default)s)",
    )
    demo.set_defaults(func=run_v21_demo)

    status = commands.add_parser(
        "status",
        help="show a node's role, term and leader",
        description="Print a v2.1 node's view of the election (GET /cluster/status).",
    )
    status.add_argument(
        "--url",
        type=http_url,
        default="http://127.0.0.1:8051",
        help="the node's address (default: %(default)s)",
    )
    status.add_argument(
        "--timeout",
        type=positive_float,
        default=5.0,
        help="seconds to wait for the node (default: %(default)s)",
    )
    status.add_argument(
        "--json", action="store_true", help="print the node's status as JSON, for scripts"
    )
    status.set_defaults(func=run_status)


def node_main(argv: list[str] | None = None) -> int:
    """``python -m stages.v2_1_election``: the same as ``ddb v2.1 node``."""
    parser = argparse.ArgumentParser(
        prog="python -m stages.v2_1_election", description="Run a v2.1 node."
    )
    add_election_arguments(parser)
    parser.set_defaults(prog=parser.prog)  # errors name this program, not ddb
    args = parser.parse_args(argv)
    return run_election_node(args)
