"""``ddb v3.0 wal``: each record and what a starting node would find; never a change."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from stages.v2_1_election.core import HardState
from stages.v3_replicated_log.messages import Entry
from stages.v3_replicated_log.wal import FILE_NAME, WriteAheadLog
from stages.v3_replicated_log.wal_cli import register


def _wal(directory: Path) -> int:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(required=True))
    args = parser.parse_args(["wal", str(directory)])
    return int(args.func(args))


@pytest.fixture
def log(tmp_path: Path) -> Path:
    wal = WriteAheadLog.open(tmp_path)
    wal.save([Entry(1, 1), Entry(2, 1, "set x 1")], HardState(1, "n1"), None)
    wal.save([], None, 2)
    wal.close()
    return tmp_path / FILE_NAME


def test_it_shows_each_record_and_what_a_node_starts_with(
    log: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _wal(log.parent) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].startswith("byte        0  {") and '"data":"set x 1"' in lines[1]
    assert lines[2].endswith('{"entries":[],"hard_state":null,"commit":2}')
    assert lines[3] == "a node starts with 2 entries, term 1, voted for n1, commit 2"


def test_it_says_a_torn_tail_would_be_cut_and_cuts_nothing(
    log: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    torn = log.read_bytes()[:-5]
    log.write_bytes(torn)
    assert _wal(log.parent) == 0
    out = capsys.readouterr().out
    assert "torn: its payload is cut short (38 of 43 bytes)" in out
    assert "a node cuts these 46 bytes off" in out  # its header, and what it has of its payload
    assert "a node starts with 2 entries, term 1, voted for n1, commit 0" in out
    assert log.read_bytes() == torn


def test_it_says_a_corrupt_log_would_refuse_to_start(
    log: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    damaged = bytearray(log.read_bytes())
    damaged[20] ^= 1
    log.write_bytes(damaged)
    assert _wal(log.parent) == 1
    assert "byte        0  corrupt: its CRC-32" in capsys.readouterr().err
