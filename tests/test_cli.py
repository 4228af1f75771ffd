"""The ``ddb`` entry point: each command imports only the module that adds it, and parses
exactly as the whole parser does."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from stages.cli import COMMANDS, build_parser

NAMES = [name for names, _ in COMMANDS for name in names]


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    (action,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_the_whole_parser_has_every_command_in_the_table_in_its_order() -> None:
    assert list(subcommands(build_parser())) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_one_command_alone_has_the_same_help_as_in_the_whole_parser(name: str) -> None:
    alone = subcommands(build_parser(name))
    assert name in alone
    assert alone[name].format_help() == subcommands(build_parser())[name].format_help()


def test_an_unknown_command_gets_the_whole_parser() -> None:
    assert list(subcommands(build_parser("nope"))) == NAMES


def test_a_node_starts_without_the_simulator_the_checker_or_the_version() -> None:
    code = (
        "import sys; from stages.cli import build_parser; build_parser('v2.1'); "
        "print(sorted({m for m in sys.modules if m.startswith(('workbench.sim', "
        "'workbench.history', 'workbench.lab', 'workbench.nemesis', 'stages.v3', "
        "'importlib.metadata'))}))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=20)
    assert result.stdout.decode().strip() == "[]", result.stderr.decode()
