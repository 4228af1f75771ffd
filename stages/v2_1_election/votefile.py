"""Durable vote: a node's term and vote, kept where a restart cannot lose them.

A majority-vote election is safe only if no node votes twice in one term. A node
that votes for n2 in term 7, crashes, restarts with no memory and votes for n3 in
term 7 can give term 7 two leaders. So, as Raft requires, a node writes its term
and vote to stable storage *before* it answers a vote request, and reads them back
when it starts. The core only says what to keep (its ``ready`` hands out a
:class:`~stages.v2_1_election.core.HardState`); the node's driver writes it here, and
sends the answer once ``save`` has returned.

The file is one line of JSON, ``{"term": 7, "voted_for": "n2"}``, replaced
atomically: write a temporary file, fsync it, rename it over the old one, fsync the
directory (so the rename itself survives a power cut). A file that cannot be read
or makes no sense is an error at start-up, never a silent reset to term 0.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from stages.v2_1_election.core import HardState
from stages.v2_1_election.messages import MAX_TERM
from stages.v2_registry.models import InvalidMessage, check_name

FILE_NAME = "vote.json"


class VoteFileError(Exception):
    """The state file exists but cannot be read or trusted."""


class MemoryStorage:
    """Term and vote kept in memory only: lost when the process ends (tests, simulator)."""

    def __init__(self, state: HardState | None = None) -> None:
        self.state = state or HardState()
        self.saves = 0

    def load(self) -> HardState:
        return self.state

    def save(self, state: HardState) -> None:
        self.state = state
        self.saves += 1


# --8<-- [start:vote_file]
class VoteFile:
    """Term and vote in ``DIR/vote.json``, written atomically and synced to disk."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / FILE_NAME

    def load(self) -> HardState:
        """What was saved last; term 0 and no vote if the file was never written."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return HardState()
        except OSError as exc:
            raise VoteFileError(f"cannot read {self.path}: {exc.strerror}") from None
        try:
            data = json.loads(text)
            term, voted_for = data["term"], data["voted_for"]
            if isinstance(term, bool) or not isinstance(term, int) or not 0 <= term <= MAX_TERM:
                raise ValueError(f"term {term!r} is not a whole number from 0 to 2**63-1")
            return HardState(term, None if voted_for is None else check_name(voted_for))
        except (ValueError, KeyError, TypeError, InvalidMessage) as exc:
            raise VoteFileError(
                f"{self.path} is corrupt ({exc}); refusing to start with a forgotten vote. "
                "Move it away only if you know this node cannot have voted in a later term."
            ) from None

    def save(self, state: HardState) -> None:
        """Replace the file; when this returns, the vote survives a crash or power cut."""
        temporary = self.path.with_suffix(".tmp")
        with temporary.open("w", encoding="utf-8") as file:
            file.write(json.dumps({"term": state.term, "voted_for": state.voted_for}) + "\n")
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, self.path)
        directory = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


# --8<-- [end:vote_file]
