"""Command line for stage v2.1: ``ddb v2.1 node|demo``, ``ddb status``, and role columns in
``ddb nodes``."""

from __future__ import annotations

import argparse
import asyncio

import aiohttp

from stages.v1_kv.cli import fail
from stages.v1_kv.client import ClientError
from stages.v1_kv.runner import http_url, positive_float, serve
from stages.v2_1_election.bully import ConfigError, ElectionConfig
from stages.v2_1_election.client import ClusterStatus, ElectionClient
from stages.v2_1_election.node import create_election_app
from stages.v2_registry.cli import (
    add_demo_arguments,
    add_node_arguments,
    demo_nodes,
    demo_token,
    format_table,
    node_config,
    nodes_table,
    start_node,
)
from stages.v2_registry.client import RegistryClient
from stages.v2_registry.demo import run_demo
from stages.v2_registry.models import InvalidMessage

DEFAULTS = ElectionConfig()


# -- ddb v2.1 node ----------------------------------------------------------------------


def add_election_arguments(parser: argparse.ArgumentParser) -> None:
    add_node_arguments(parser, heartbeat_flag="--registry-heartbeat-interval")
    timing = parser.add_argument_group("election timings (seconds)")
    timing.add_argument(
        "--heartbeat-interval",
        type=positive_float,
        default=DEFAULTS.heartbeat_interval,
        help="the leader's heartbeats to its followers (default: %(default)s)",
    )
    timing.add_argument(
        "--leader-timeout",
        type=positive_float,
        default=DEFAULTS.leader_timeout,
        help="silence after which a follower starts an election; at least 3 heartbeat "
        "intervals (default: %(default)s)",
    )
    timing.add_argument(
        "--answer-timeout",
        type=positive_float,
        default=DEFAULTS.answer_timeout,
        help="how long a candidate waits for a higher node to answer (default: %(default)s)",
    )
    timing.add_argument(
        "--victory-timeout",
        type=positive_float,
        default=DEFAULTS.victory_timeout,
        help="how long an answered candidate waits for the winner's Victory (default: %(default)s)",
    )


def election_config(args: argparse.Namespace) -> ElectionConfig:
    return ElectionConfig(
        heartbeat_interval=args.heartbeat_interval,
        leader_timeout=args.leader_timeout,
        answer_timeout=args.answer_timeout,
        victory_timeout=args.victory_timeout,
    )


def run_election_node(args: argparse.Namespace) -> int:
    try:
        timings = election_config(args)
    except ConfigError as exc:
        return fail(f"inconsistent election timings: {exc}")
    sock = start_node(args)
    if sock is None:
        return 1
    serve(create_election_app(node_config(args, sock), timings), sock, args.host)
    return 0


# -- ddb status ---------------------------------------------------------------------------


async def _status(url: str, timeout: float) -> ClusterStatus:
    async with ElectionClient(url, timeout=timeout) as client:
        return await client.status()


def format_status(status: ClusterStatus) -> str:
    leader = status.leader or "(none known)"
    if status.leader_url:
        leader += f" ({status.leader_url})"
    rows = [
        ["name", status.name],
        ["role", status.role],
        ["term", str(status.term)],
        ["leader", leader],
        ["peers", ", ".join(status.peers) or "(none)"],
        ["algorithm", status.algorithm],
    ]
    return format_table(rows)


def run_status(args: argparse.Namespace) -> int:
    try:
        print(format_status(asyncio.run(_status(args.url, args.timeout))))
    except ClientError as exc:
        return fail(str(exc))
    return 0


# -- ddb nodes, with roles -------------------------------------------------------------


async def _nodes_with_status(registry_url: str, timeout: float) -> str:
    """The registry's table; with ROLE, TERM and LEADER columns when the nodes are v2.1 nodes."""
    async with aiohttp.ClientSession() as session:  # one session for every call
        registry = RegistryClient(registry_url, timeout=timeout, session=session)
        nodes = await registry.nodes()

        async def status_of(url: str) -> ClusterStatus | None:
            try:
                return await ElectionClient(
                    url, timeout=min(timeout, 1.0), session=session
                ).status()
            except (ClientError, InvalidMessage):
                return None  # a v2 node (no election) or one that is not answering

        statuses = await asyncio.gather(*(status_of(node.url) for node in nodes))
    if not nodes:
        return "no nodes are registered"
    if all(status is None for status in statuses):
        return nodes_table(nodes)  # v2 nodes: nothing to add
    rows = [["NAME", "URL", "LAST SEEN", "ROLE", "TERM", "LEADER"]]
    for node, status in zip(nodes, statuses, strict=True):
        extra = ["-", "-", "-"]
        if status is not None:
            extra = [status.role, str(status.term), status.leader or "-"]
        rows.append([node.name, node.url, f"{node.last_seen_seconds_ago:.1f}s ago", *extra])
    return format_table(rows)


def run_nodes_with_roles(args: argparse.Namespace) -> int:
    try:
        print(asyncio.run(_nodes_with_status(args.registry, args.timeout)))
    except ClientError as exc:
        return fail(str(exc))
    return 0


# -- ddb v2.1 demo ----------------------------------------------------------------------


def run_v21_demo(args: argparse.Namespace) -> int:
    try:
        token = demo_token(args)
    except ValueError as exc:
        return fail(str(exc))
    return run_demo("v2.1", args.registry_port, demo_nodes(args), token=token)


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``v2.1`` and ``status``, and give ``nodes`` role and term columns."""
    v21 = commands.add_parser("v2.1", help="stage v2.1: leader and followers (Bully election)")
    sub = v21.add_subparsers(dest="v21_command", required=True, metavar="COMMAND")
    node = sub.add_parser(
        "node",
        help="run a key/value node that joins the cluster and takes part in elections",
        description="Run a v2 node (key/value, registration, heartbeats to the registry) "
        "that discovers its peers through the registry and elects a leader with the Bully "
        "algorithm. The highest name in sort order wins an election.",
    )
    add_election_arguments(node)
    node.set_defaults(func=run_election_node)
    demo = sub.add_parser(
        "demo",
        help="run a registry and three v2.1 nodes on loopback (what `make run` does)",
        description="Start a registry and N v2.1 nodes as child processes on 127.0.0.1. "
        "Kill the leader (its pid is in `ps`) and watch the others elect a new one; "
        "Ctrl-C stops them all.",
    )
    add_demo_arguments(demo)
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
    status.add_argument("--timeout", type=positive_float, default=5.0, help="seconds to wait")
    status.set_defaults(func=run_status)

    commands.choices["nodes"].set_defaults(func=run_nodes_with_roles)


def node_main(argv: list[str] | None = None) -> int:
    """``python -m stages.v2_1_election``: the same as ``ddb v2.1 node``."""
    parser = argparse.ArgumentParser(
        prog="python -m stages.v2_1_election", description="Run a v2.1 node."
    )
    add_election_arguments(parser)
    args = parser.parse_args(argv)
    return run_election_node(args)
