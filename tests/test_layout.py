"""The house's layout holds as it grows: chapters, the workbench beside them, short modules.

Read from the source with :mod:`ast`, so a test import cannot hide a violation:

- nothing a user installs or runs (``stages``, ``workbench``, ``bench``, ``tools``) imports
  the tests;
- a chapter's core, node and server never import the workbench; only its command line may,
  to offer a tool (``ddb v2.1 demo`` runs the workbench's supervisor);
- every module stays short enough to read in one sitting (the house style's 300 lines).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ["stages", "workbench", "bench", "tools"]
MAX_LINES = 300
# The only modules of a chapter that may import the workbench: the command lines.
CLI_MODULES = {
    "stages/cli.py",
    "stages/v2_registry/cli.py",
    "stages/v2_1_election/cli.py",
    "stages/v2_2_replication/cli.py",
    "stages/v3_replicated_log/cli.py",
}


def modules(*folders: str) -> list[Path]:
    return sorted(path for folder in folders for path in (ROOT / folder).rglob("*.py"))


def imported(path: Path) -> set[str]:
    """Every top-level package ``path`` imports, at any depth of the module."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def shown(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("path", modules(*PRODUCT), ids=shown)
def test_nothing_installed_or_run_imports_the_tests(path: Path) -> None:
    assert "tests" not in imported(path)


@pytest.mark.parametrize("path", modules("stages"), ids=shown)
def test_chapters_import_the_workbench_only_from_their_command_lines(path: Path) -> None:
    if shown(path) not in CLI_MODULES:
        assert "workbench" not in imported(path)


@pytest.mark.parametrize("path", modules(*PRODUCT), ids=shown)
def test_every_module_is_short_enough_to_read(path: Path) -> None:
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_LINES, f"{shown(path)} has {lines} lines; split it (at most {MAX_LINES})"
