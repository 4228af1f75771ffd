"""The simulator is deterministic, so the docs can show its real output and keep it true.

Every ``$ ddb simulate ...`` command in a ``console`` block of docs/simulation.md and
docs/majority-vote.md is run again here, and its output must match the page line for line.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.support import DDB

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "docs" / "simulation.md", ROOT / "docs" / "majority-vote.md"]


def console_commands(text: str) -> list[tuple[str, list[str]]]:
    """(command, expected output lines) for each ``$ ddb simulate`` in a console block."""
    found = []
    for block in re.findall(r"```console\n(.*?)```", text, re.DOTALL):
        lines = block.splitlines()
        i = 0
        while i < len(lines):
            command, i = lines[i].removeprefix("$ "), i + 1
            expected = []
            while i < len(lines) and not lines[i].startswith("$ "):
                expected.append(lines[i])
                i += 1
            if command.startswith("ddb simulate") and not set(command) & set("><|&;"):
                found.append((command, expected))
    return found


COMMANDS = [found for page in PAGES for found in console_commands(page.read_text("utf-8"))]


def test_the_page_shows_simulator_commands() -> None:
    assert len(COMMANDS) >= 3


@pytest.mark.timeout(120)
@pytest.mark.parametrize(("command", "expected"), COMMANDS, ids=[c for c, _ in COMMANDS])
def test_each_simulate_command_prints_what_the_page_shows(
    command: str, expected: list[str], tmp_path: Path
) -> None:
    args = command.split()[1:]  # no shell: the page's commands are plain words
    (tmp_path / "stages").symlink_to(ROOT / "stages")  # the page runs from the project folder
    result = subprocess.run(
        [*DDB, *args], capture_output=True, text=True, cwd=tmp_path, timeout=100
    )
    assert result.stdout.splitlines() == expected
