"""``ddb v3 wal DATA_DIR``: what a node's write-ahead log holds, record by record.

It reads the file and changes nothing: where a starting node would cut a torn tail or
refuse a corrupt log, it says so. The v3.0 command line adds it with :func:`register`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from stages.v3_replicated_log import records
from stages.v3_replicated_log.storage import MemoryStorage
from stages.v3_replicated_log.wal import FILE_NAME


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``wal`` to a stage's subcommands."""
    wal = commands.add_parser(
        "wal",
        help="show a node's write-ahead log, record by record (changes nothing)",
        description="Print each record of DATA_DIR/log (its byte offset and its JSON), what "
        "a node would do with a damaged one, and what a node starting from it would find.",
    )
    wal.add_argument("data_dir", type=Path, metavar="DATA_DIR", help="the node's --data-dir")
    wal.set_defaults(func=show_wal)


def show_wal(args: argparse.Namespace) -> int:
    path = args.data_dir / FILE_NAME
    try:
        buffer = path.read_bytes()
    except OSError as exc:
        print(f"cannot read {path}: {exc.strerror}", file=sys.stderr)
        return 1
    print(f"{path}: {len(buffer)} bytes")
    whole, damage = records.scan(buffer)
    kept = MemoryStorage()  # the rules of WriteAheadLog's replay (test_wal: they agree)
    for offset, payload in whole:
        print(f"byte {offset:>8}  {payload.decode(errors='replace')}")
        try:
            batch = records.decode(payload)
            kept.save(batch.entries, batch.hard_state, batch.commit)
        except ValueError as exc:
            return _refused(offset, str(exc))
    if damage is not None and not damage.torn:
        return _refused(damage.offset, damage.reason)
    if damage is not None:
        size = len(buffer) - damage.offset
        print(f"byte {damage.offset:>8}  torn: {damage.reason}; a node cuts these {size} bytes off")
    state = kept.load()
    print(
        f"a node starts with {len(state.entries)} entries, term {state.hard_state.term}, "
        f"voted for {state.hard_state.voted_for or 'nobody'}, commit {state.commit}"
    )
    return 0


def _refused(offset: int, reason: str) -> int:
    print(f"byte {offset:>8}  corrupt: {reason}; a node refuses to start", file=sys.stderr)
    return 1
