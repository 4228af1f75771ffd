"""The ``ddb`` command. Each stage adds its own subcommands with ``register()``.

``ddb COMMAND ...`` imports only the module that adds COMMAND: a node, a registry or a
``ddb kv put`` starts without importing every other stage and tool (the simulator, the
lab, the checker), which more than halves the start-up a test or a demo waits for. ``ddb``,
``ddb --help`` and anything that is not a known command build the whole parser.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from typing import Any

SubParsers = argparse._SubParsersAction


def add_v2(commands: SubParsers) -> None:
    from stages.v2_1_election.listing import run_nodes_with_roles
    from stages.v2_registry import cli

    cli.register(commands, run_nodes=run_nodes_with_roles)  # roles, for v2.1 nodes


# The commands, in the order ``ddb --help`` lists them, and the module whose ``register()``
# adds them (or the function that calls it).
COMMANDS: tuple[tuple[tuple[str, ...], str | Callable[[SubParsers], None]], ...] = (
    (("v1", "kv"), "stages.v1_kv.cli"),
    (("v2", "nodes"), add_v2),
    (("v2.1", "status"), "stages.v2_1_election.cli"),
    (("v2.2",), "stages.v2_2_replication.cli"),
    (("v3",), "stages.v3_replicated_log.cli"),
    (("simulate",), "workbench.sim.cli"),
    (("lab",), "workbench.lab.cli"),
    (("check",), "workbench.history.cli"),
    (("workload",), "workbench.history.workload_cli"),
    (("nemesis",), "workbench.nemesis.cli"),
)


def add(commands: SubParsers, adder: str | Callable[[SubParsers], None]) -> None:
    """Import the module named ``adder`` and let it add its commands (or call ``adder``)."""
    if isinstance(adder, str):
        importlib.import_module(adder).register(commands)
    else:
        adder(commands)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole ``ddb`` parser; with ``command``, only the module that adds that command
    (and whatever else that module adds), if it is one."""
    parser = argparse.ArgumentParser(
        prog="ddb",
        description="distributed-db: a small distributed key/value database, one stage at a time.",
        epilog="Run 'ddb COMMAND --help' for the options of each command.",
    )
    parser.add_argument("--version", action=ShowVersion)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    known = any(command in names for names, _ in COMMANDS)
    for names, adder in COMMANDS:
        if not known or command in names:
            add(commands, adder)
    return parser


class ShowVersion(argparse.Action):
    """``--version``, as argparse's own, but read only when asked for (importlib.metadata
    alone costs a start-up more than a tenth of what a ``ddb kv`` command costs)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        kwargs.setdefault("help", "show program's version number and exit")
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *args: Any) -> None:
        print(f"{parser.prog} {version()}")
        parser.exit()


def version() -> str:
    """The installed distribution's version (``pyproject.toml``), or a plain "unknown"."""
    import importlib.metadata

    try:
        return importlib.metadata.version("distributed-db")
    except importlib.metadata.PackageNotFoundError:  # run from a checkout that is not installed
        return "unknown (not installed)"


def main(argv: list[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else argv
    args = build_parser(words[0] if words else None).parse_args(words)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130
