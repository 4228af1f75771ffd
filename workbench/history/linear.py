"""Is a history linearizable? The search of Wing and Gong, as improved by Lowe (and Porcupine).

A history is linearizable when every operation can be given one instant between its call
and its return (its *linearization point*) such that, taken in the order of those instants,
the operations are what one correct register would have done. The search tries to build
that order from the left:

* the calls and returns are one doubly linked list, in the history's order;
* at a call, try the operation now: if the model allows it, *lift* it (take its call and its
  return out of the list), remember the choice on a stack, and start again from the head;
* at a return, the operation it ends was not placed in time: *unlift* the last choice and
  try the next call after it instead (backtracking);
* a cache of (set of operations placed, register state) already tried prunes every branch
  that reaches the same point by another order (Lowe's improvement: without it the search
  is exponential in the number of concurrent operations).

It succeeds when every operation that surely happened (``ok``) is placed: an ``info``
operation, whose return is at the end, may be placed or not. It fails when there is no
choice left to undo. A step budget (and, if the caller passes a clock, a deadline) ends
it with "unknown" instead: the search is NP-complete in general, and never hangs.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from workbench.history.events import NEVER, Operation, Value
from workbench.history.register import step

DEFAULT_STEPS = 5_000_000


class OutOfBudget(Exception):
    """The search spent its budget without an answer."""


@dataclass(frozen=True)
class KeyVerdict:
    """The answer for one key: ``linearizable`` is True, False or None (unknown)."""

    key: str | None
    linearizable: bool | None
    operations: int
    order: tuple[Operation, ...] = ()  # an order that works, or the longest one found
    stuck: Operation | None = None  # not linearizable: an operation that cannot be placed
    steps: int = 0


@dataclass
class _Entries:
    """The calls and returns of one key's operations, as a doubly linked list over arrays.

    Entry 0 is the head. Entry ``2i + 1`` is operation i's call and ``2i + 2`` its return,
    so removing an operation and putting it back are a few array writes (dancing links).
    """

    ops: Sequence[Operation]
    prev: list[int] = field(default_factory=list)
    next: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        # Sort by position; a return before a call at the same position cannot happen (each
        # event has its own line), and every info return (NEVER) comes last, in id order.
        events = sorted(
            [(op.call, 0, 2 * i + 1) for i, op in enumerate(self.ops)]
            + [(op.ret, 1, 2 * i + 2) for i, op in enumerate(self.ops)]
        )
        order = [0] + [entry for _, _, entry in events]
        size = 2 * len(self.ops) + 1
        self.prev, self.next = [0] * size, [0] * size
        for before, entry in itertools.pairwise(order):
            self.prev[entry], self.next[before] = before, entry
        self.next[order[-1]] = -1  # the end of the list

    def lift(self, op: int) -> None:
        for entry in (2 * op + 1, 2 * op + 2):
            before, after = self.prev[entry], self.next[entry]
            self.next[before] = after
            if after != -1:
                self.prev[after] = before

    def unlift(self, op: int) -> None:
        for entry in (2 * op + 2, 2 * op + 1):  # the reverse of lift
            before, after = self.prev[entry], self.next[entry]
            self.next[before] = entry
            if after != -1:
                self.prev[after] = entry


# --8<-- [start:search]
def check_key(
    key: str | None,
    ops: Sequence[Operation],
    max_steps: int = DEFAULT_STEPS,
    out_of_time: Callable[[], bool] = lambda: False,
) -> KeyVerdict:
    """Search for an order of ``ops`` (one key's operations) that one register allows."""
    entries = _Entries(ops)
    state: Value = None  # every key starts missing
    placed = 0  # the set of operations placed so far, as the bits of an integer
    tried: set[tuple[int, type, Value]] = set()  # (placed, state) already explored
    stack: list[tuple[int, Value]] = []  # each operation placed, and the state before it
    longest: list[int] = []  # the longest order found, and the operation it could not place
    stuck: int | None = None
    entry, steps = entries.next[0], 0
    while entry != -1:  # the list is empty: everything is placed
        steps += 1
        if steps > max_steps or (steps % 4096 == 0 and out_of_time()):
            return KeyVerdict(key, None, len(ops), _of(ops, longest), steps=steps)
        op = (entry - 1) // 2
        if entry % 2 == 1:  # a call: place the operation here, if the register allows it
            allowed, after = step(state, ops[op])
            seen = (placed | 1 << op, type(after), after)  # the type: True == 1 in Python
            if allowed and seen not in tried:
                tried.add(seen)
                stack.append((op, state))
                state, placed = after, placed | 1 << op
                entries.lift(op)
                entry = entries.next[0]  # and start again from the first call left
            else:
                entry = entries.next[entry]  # try a later call first
            continue
        if ops[op].ret == NEVER:  # every return left is an info one: those need no place
            break
        if stuck is None or len(stack) > len(longest):
            longest, stuck = [placed_op for placed_op, _ in stack], op
        if not stack:  # an operation returned before it could be placed, whatever we tried
            return KeyVerdict(key, False, len(ops), _of(ops, longest), ops[stuck], steps)
        op, state = stack.pop()  # undo the last choice, and try the call after it
        placed &= ~(1 << op)
        entries.unlift(op)
        entry = entries.next[2 * op + 1]
    return KeyVerdict(key, True, len(ops), _of(ops, [op for op, _ in stack]), steps=steps)


# --8<-- [end:search]


def _of(ops: Sequence[Operation], ids: list[int]) -> tuple[Operation, ...]:
    return tuple(ops[i] for i in ids)
