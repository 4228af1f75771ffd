"""The classic cases as readable transcripts: each golden file holds its commands and the
expected output; a failing test prints the diff, which tells the story.

After a deliberate change, rewrite them with ``DDB_REWRITE_GOLDEN=1 pytest
tests/v3_replicated_log/test_golden.py`` and read the diff before committing it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.v3_replicated_log.script import run_script

GOLDEN = Path(__file__).parent / "golden"


@pytest.mark.parametrize("name", ["figure7.txt", "figure8.txt", "deposed-leader.txt", "rejoin.txt"])
def test_transcript_matches_its_golden_file(name: str) -> None:
    path = GOLDEN / name
    got = run_script(path.read_text(encoding="utf-8"))
    if os.environ.get("DDB_REWRITE_GOLDEN") == "1":
        path.write_text(got, encoding="utf-8")
    assert got == path.read_text(encoding="utf-8")
