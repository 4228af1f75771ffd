"""Command line for stage v2: ``ddb v2 registry|node|demo`` and ``ddb nodes``."""

from __future__ import annotations

import argparse
import socket
import uuid
from collections.abc import Callable

from stages.v1_kv.cli import fail, start_server
from stages.v1_kv.runner import (
    add_server_arguments,
    bound_port,
    http_url,
    port_number,
    positive_float,
    positive_int,
    serve,
)
from stages.v1_kv.server import DEFAULT_MAX_VALUE_BYTES
from stages.v2_registry.auth import (
    CLUSTER_TOKEN_ENV,
    KV_TOKEN_ENV,
    Secret,
    add_token_arguments,
    token_from,
)
from stages.v2_registry.listing import DEFAULT_REGISTRY, add_nodes_parser, run_nodes
from stages.v2_registry.membership import DEFAULT_HEARTBEAT_INTERVAL
from stages.v2_registry.models import NAME_PATTERN, NAME_RULE, InvalidMessage, check_host
from stages.v2_registry.node import NodeConfig, create_node_app
from stages.v2_registry.registry import DEFAULT_MAX_NODES, DEFAULT_TTL
from stages.v2_registry.server import RegistryConfig, create_registry_app
from workbench.demo.dashboard import Stage
from workbench.demo.run import Dashboard, NodeSpec, run_demo


def host_name(text: str) -> str:
    """An argparse type: a host name or address the registry will accept."""
    try:
        return check_host(text)
    except InvalidMessage as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def node_name(text: str) -> str:
    if not NAME_PATTERN.fullmatch(text):
        raise argparse.ArgumentTypeError(f"{text!r}: a node name is {NAME_RULE}")
    return text


# -- ddb v2 registry --------------------------------------------------------------------


def add_registry_parser(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    add_server_arguments(parser, default_port=8080)
    parser.add_argument(
        "--ttl",
        type=positive_float,
        default=DEFAULT_TTL,
        help="seconds a node stays listed after its last heartbeat (default: %(default)s)",
    )
    parser.add_argument(
        "--max-nodes",
        type=positive_int,
        default=DEFAULT_MAX_NODES,
        help="most nodes listed at once; new names beyond it are refused with 409, so a flood "
        "of made-up names cannot swamp the registry or the nodes (default: %(default)s)",
    )
    add_token_arguments(parser)
    parser.set_defaults(func=run_registry)
    return parser


def run_registry(args: argparse.Namespace) -> int:
    try:
        token = token_from(args.cluster_token, CLUSTER_TOKEN_ENV)
    except ValueError as exc:
        return fail(str(exc))
    sock = start_server(args, "registry")
    if sock is None:
        return 1
    config = RegistryConfig(ttl=args.ttl, max_nodes=args.max_nodes, token=token)
    serve(create_registry_app(config), sock, args.host)
    return 0


# -- ddb v2 node ------------------------------------------------------------------------


def add_node_arguments(
    parser: argparse.ArgumentParser, heartbeat_flag: str = "--heartbeat-interval"
) -> None:
    """The flags of a v2 node; the v2.1 node adds its own to these.

    v2.1 gives ``--heartbeat-interval`` to the leader's heartbeats, so it passes
    another ``heartbeat_flag`` for the heartbeats to the registry.
    """
    parser.add_argument(
        "-ra",
        "--registry-address",
        required=True,
        type=http_url,
        metavar="URL",
        help=f"the registry's address, e.g. {DEFAULT_REGISTRY} (the only address a node needs)",
    )
    parser.add_argument(
        "--name",
        type=node_name,
        default=None,
        help="this node's name in the cluster (default: a fresh UUID4)",
    )
    add_server_arguments(parser, default_port=8050)
    parser.add_argument(
        "--advertise-host",
        type=host_name,
        default=None,
        metavar="HOST",
        help="the host other nodes should use to reach this one "
        "(default: the address the registry sees the node's requests come from)",
    )
    parser.add_argument(
        heartbeat_flag,
        dest="registry_heartbeat_interval",
        type=positive_float,
        default=DEFAULT_HEARTBEAT_INTERVAL,
        metavar="SECONDS",
        help="seconds between heartbeats to the registry; keep it well under the registry's "
        "TTL (default: %(default)s, a fifth of the default TTL)",
    )
    parser.add_argument(
        "--max-value-bytes",
        type=positive_int,
        default=DEFAULT_MAX_VALUE_BYTES,
        help="largest value a PUT may store, in bytes (default: %(default)s)",
    )
    add_token_arguments(parser, kv=True)


def node_config(args: argparse.Namespace, sock: socket.socket) -> NodeConfig:
    """The v2 node's configuration from its flags and its listening socket."""
    return NodeConfig(
        name=args.name,
        registry_url=args.registry_address,
        port=bound_port(sock),
        advertise_host=args.advertise_host,
        heartbeat_interval=args.registry_heartbeat_interval,
        max_value_bytes=args.max_value_bytes,
        cluster_token=args.cluster_token,
        kv_token=args.kv_token,
    )


def start_node(args: argparse.Namespace) -> socket.socket | None:
    """Name the node, read its tokens, set up its logging and bind its socket.

    None: something was wrong, and has been reported.
    """
    args.name = args.name or str(uuid.uuid4())
    try:  # from here on args holds Secrets, which never print themselves
        args.cluster_token = token_from(args.cluster_token, CLUSTER_TOKEN_ENV)
        args.kv_token = token_from(args.kv_token, KV_TOKEN_ENV)
    except ValueError as exc:
        fail(str(exc))
        return None
    return start_server(args, args.name)


def run_node(args: argparse.Namespace) -> int:
    sock = start_node(args)
    if sock is None:
        return 1
    serve(create_node_app(node_config(args, sock)), sock, args.host)
    return 0


# -- ddb nodes --------------------------------------------------------------------------


# -- ddb v2 demo ------------------------------------------------------------------------


def demo_nodes(args: argparse.Namespace) -> list[NodeSpec]:
    """n1, n2, ... on consecutive ports; zero-padded past nine (n01 ... n10), so that the
    names sort, and rank, in the order they were numbered."""
    width = len(str(args.nodes))
    return [
        NodeSpec(f"n{i:0{width}d}", args.first_node_port + i - 1) for i in range(1, args.nodes + 1)
    ]


def demo_token(args: argparse.Namespace) -> Secret | None:
    """The demo's cluster token (its children get it through the environment, not argv)."""
    return token_from(args.cluster_token, CLUSTER_TOKEN_ENV)


def demo_dashboard(args: argparse.Namespace, stage: Stage) -> Dashboard | None:
    """The demo's dashboard, as its flags ask (None: ``--no-dashboard``)."""
    return None if args.no_dashboard else Dashboard(args.dashboard_port, stage)


def run_v2_demo(args: argparse.Namespace) -> int:
    try:
        token = demo_token(args)
    except ValueError as exc:
        return fail(str(exc))
    dashboard = demo_dashboard(args, Stage("v2"))  # membership only: no election to show
    return run_demo("v2", args.registry_port, demo_nodes(args), token=token, dashboard=dashboard)


def add_demo_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--nodes", type=positive_int, default=3, help="how many nodes (default: 3)")
    parser.add_argument(
        "--registry-port",
        type=positive_int,
        default=8080,
        help="the registry's port (default: %(default)s)",
    )
    parser.add_argument(
        "--first-node-port",
        type=positive_int,
        default=8051,
        help="n1's port; n2 takes the next (default: 8051)",
    )
    parser.add_argument(
        "--dashboard-port",
        type=port_number,
        default=8090,
        help="serve the dashboard, a live page of the cluster with buttons to kill, pause "
        "and restart nodes, on http://127.0.0.1:PORT/; 0 picks a free port (default: 8090)",
    )
    parser.add_argument("--no-dashboard", action="store_true", help="do not serve the dashboard")
    add_token_arguments(parser)


def register(
    commands: argparse._SubParsersAction,
    run_nodes: Callable[[argparse.Namespace], int] = run_nodes,
) -> None:
    """Add ``v2`` and ``nodes`` to the ``ddb`` command.

    ``run_nodes`` is the hook a later stage uses to show more in ``ddb nodes`` (v2.1 adds
    each node's role, term and leader), instead of replacing the handler after the fact.
    """
    v2 = commands.add_parser("v2", help="stage v2: registry, heartbeats and expiry")
    sub = v2.add_subparsers(dest="v2_command", required=True, metavar="COMMAND")
    add_registry_parser(
        sub.add_parser(
            "registry",
            help="run the registry",
            description="Run the registry: nodes register here, renew with heartbeats, "
            "and are forgotten when they fall silent for a whole TTL.",
        )
    )
    node = sub.add_parser(
        "node",
        help="run a key/value node that registers itself",
        description="Run a v1 key/value server that registers itself with the registry, "
        "renews its entry with heartbeats, and deregisters when stopped.",
    )
    add_node_arguments(node)
    node.set_defaults(func=run_node)
    demo = sub.add_parser(
        "demo",
        help="run a registry and three nodes on loopback (what `make run` does)",
        description="Start a registry and N nodes as child processes on 127.0.0.1, and a "
        "dashboard that shows them live; Ctrl-C stops them all.",
    )
    add_demo_arguments(demo)
    demo.set_defaults(func=run_v2_demo)
    add_nodes_parser(
        commands.add_parser(
            "nodes",
            help="list the nodes a registry knows",
            description="Print the registry's table of live nodes.",
        ),
        run_nodes,
    )


def registry_main(argv: list[str] | None = None) -> int:
    """``python -m stages.v2_registry``: the same as ``ddb v2 registry``."""
    parser = argparse.ArgumentParser(
        prog="python -m stages.v2_registry", description="Run the registry."
    )
    parser.set_defaults(prog=parser.prog)  # errors name this program, not ddb
    args = add_registry_parser(parser).parse_args(argv)
    return int(args.func(args))
