"""The checker: read a history, split it by key, and search each key's part.

Linearizability is local, so a history is linearizable when every key's part is; the
verdict is "not linearizable" as soon as one key is not, "unknown" when one key spent the
budget and no key failed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import groupby

from workbench.history.edn import read_edn
from workbench.history.events import Operation, operations, read_jsonl
from workbench.history.linear import DEFAULT_STEPS, KeyVerdict, check_key

_EDN = re.compile(r"\s*\[?\s*\{\s*:")  # {:process 0, ...}, not {"process": 0, ...}


def read_history(lines: Iterable[str]) -> list[Operation]:
    """The operations of a history in JSON Lines or Jepsen's EDN (told apart by the first
    event), or a :class:`~workbench.history.events.HistoryError`."""
    lines = list(lines)
    first = next((line for line in lines if line.strip() and not line.lstrip().startswith(";")), "")
    events = read_edn(lines) if _EDN.match(first) else read_jsonl(lines)
    return operations(events)


@dataclass(frozen=True)
class Verdict:
    """The whole history's answer: ``linearizable`` True, False or None (unknown)."""

    linearizable: bool | None
    keys: tuple[KeyVerdict, ...]

    @property
    def operations(self) -> int:
        return sum(key.operations for key in self.keys)

    @property
    def failed(self) -> tuple[KeyVerdict, ...]:
        return tuple(key for key in self.keys if key.linearizable is False)

    @property
    def unknown(self) -> tuple[KeyVerdict, ...]:
        return tuple(key for key in self.keys if key.linearizable is None)


# --8<-- [start:check]
def check(
    ops: Iterable[Operation],
    max_steps: int = DEFAULT_STEPS,
    out_of_time: Callable[[], bool] = lambda: False,
) -> Verdict:
    """Check every key's operations on their own (linearizability is local)."""
    by_key = sorted(ops, key=lambda op: (op.key is not None, op.key or "", op.call))
    keys = []
    for key, group in groupby(by_key, key=lambda op: op.key):
        keys.append(check_key(key, list(group), max_steps, out_of_time))
    if any(key.linearizable is False for key in keys):
        return Verdict(False, tuple(keys))
    if any(key.linearizable is None for key in keys):
        return Verdict(None, tuple(keys))
    return Verdict(True, tuple(keys))


# --8<-- [end:check]
