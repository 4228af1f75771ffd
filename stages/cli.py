"""The ``ddb`` command. Each stage adds its own subcommands with ``register()``."""

from __future__ import annotations

import argparse
import importlib.metadata

from stages.v1_kv import cli as v1_cli
from stages.v2_1_election import cli as v21_cli
from stages.v2_1_election.listing import run_nodes_with_roles
from stages.v2_2_replication import cli as v22_cli
from stages.v2_registry import cli as v2_cli
from stages.v3_replicated_log import cli as v3_cli
from workbench.history import cli as check_cli
from workbench.history import workload_cli
from workbench.lab import cli as lab_cli
from workbench.nemesis import cli as nemesis_cli
from workbench.sim import cli as sim_cli


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ddb",
        description="distributed-db: a small distributed key/value database, one stage at a time.",
        epilog="Run 'ddb COMMAND --help' for the options of each command.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    v1_cli.register(commands)
    v2_cli.register(commands, run_nodes=run_nodes_with_roles)  # roles, for v2.1 nodes
    v21_cli.register(commands)
    v22_cli.register(commands)
    v3_cli.register(commands)
    sim_cli.register(commands)
    lab_cli.register(commands)
    check_cli.register(commands)
    workload_cli.register(commands)
    nemesis_cli.register(commands)
    return parser


def version() -> str:
    """The installed distribution's version (``pyproject.toml``), or a plain "unknown"."""
    try:
        return importlib.metadata.version("distributed-db")
    except importlib.metadata.PackageNotFoundError:  # run from a checkout that is not installed
        return "unknown (not installed)"


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130
