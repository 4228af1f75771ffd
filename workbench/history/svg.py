"""A history as a picture: one lane per process, each operation a bar from call to return.

Time goes right, in the history's own order: one step per call or return shown. An ``info``
operation's bar runs to the right edge, faded: it may have taken effect at any time after
its call. The order the checker found is drawn as dots, one linearization point inside
each operation's bar, joined left to right; for a key that is not linearizable, that is the
longest order that works, and the operation it cannot place is red (Knossos's
``linear.svg`` and Porcupine's pages draw the same story).
"""

from __future__ import annotations

import bisect
import itertools
import json
from collections.abc import Sequence

from workbench.history.events import NEVER, Operation
from workbench.history.linear import KeyVerdict
from workbench.sim.drawing import Drawing

LEFT, TOP, LANE, BAR, STEP, MOST = 50.0, 78.0, 48.0, 20.0, 30.0, 24
OK, INFO, STUCK, PATH = "#90caf9", "#e3f2fd", "#ef9a9a", "#1a237e"


def label(op: Operation) -> str:
    def shown(value: object) -> str:
        return "nil" if value is None else json.dumps(value)

    if op.f == "cas":
        return f"cas {shown(op.value[0])}→{shown(op.value[1])}"
    if op.f == "delete":
        return "delete"
    return f"{'w' if op.f == 'write' else 'r'} {shown(op.value)}"


def points(order: Sequence[Operation]) -> dict[int, float]:
    """A linearization point per operation of ``order``: the earliest that keeps the order,
    a little after its call, and before its return."""
    placed: dict[int, float] = {}
    last = float("-inf")
    for op in order:
        at = max(op.call + 0.6, last + 0.15)
        last = placed[op.id] = min(at, op.ret - 0.1)
    return placed


def shown_window(ops: Sequence[Operation], verdict: KeyVerdict) -> list[Operation]:
    """At most ``MOST`` operations: the last ones called before the operation that cannot be
    placed returned (or the last ones of all), which is where the story is."""
    focus = verdict.stuck or ops[-1]
    before = [op for op in ops if op.call <= focus.ret]
    return before[-MOST:]


# --8<-- [start:history_svg]
def history_svg(ops: Sequence[Operation], verdict: KeyVerdict) -> str:
    """Draw one key's operations and the checker's verdict on them as an SVG document."""
    ops = shown_window(ops, verdict)
    processes = sorted({op.process for op in ops})
    lane = {process: TOP + LANE * i for i, process in enumerate(processes)}
    ticks = sorted({op.call for op in ops} | {op.ret for op in ops if op.ret != NEVER})
    end = len(ticks) + 1  # where info operations' bars end

    def x(position: float) -> float:
        """Each call or return shown is one step right of the one before (other keys' lines
        and the operations left out take no room); points between them, in proportion."""
        if position == NEVER:
            return LEFT + STEP * end
        i = max(bisect.bisect_right(ticks, position) - 1, 0)
        after = ticks[i + 1] if i + 1 < len(ticks) else ticks[i] + 1
        return LEFT + STEP * (i + 1 + (position - ticks[i]) / (after - ticks[i]))

    width, height = max(x(NEVER) + 20, 560.0), TOP + LANE * len(processes) + 24
    drawing = Drawing()
    drawing.rect(0, 0, width, height, "#ffffff")
    word = {True: "linearizable", False: "not linearizable", None: "unknown"}[verdict.linearizable]
    key = "(no key)" if verdict.key is None else verdict.key
    drawing.text(10, 22, f"key {key}: {word}", ' font-weight="bold" font-size="14"')
    notes = []
    if verdict.stuck is not None:
        notes.append(
            f"red: cannot be placed after the longest order that works (dots, "
            f"{len(verdict.order)} operations)"
        )
    else:
        notes.append("dots: one linearization point per operation, in the order found")
    if any(op.ret == NEVER for op in ops):
        notes.append("pale: info, no answer; it may take effect any time after its call")
    drawing.text(10, 42, "; ".join(notes), ' font-size="11"')
    drawing.text(
        LEFT,
        height - 8,
        "time → (one step per call or return)",
        ' font-size="10" fill="#546e7a"',
    )
    for process, y in lane.items():
        drawing.text(10, y + BAR / 2 + 4, f"p{process}", ' font-weight="bold"')
    for op in ops:
        fill = STUCK if op == verdict.stuck else INFO if op.ret == NEVER else OK
        left, right = x(op.call), x(op.ret)
        drawing.rect(left, lane[op.process], right - left, BAR, fill, ' stroke="#546e7a"')
        drawing.label(left + 2, lane[op.process] - 4, label(op), ' font-size="11"')
    placed = points(verdict.order)
    path = [(x(placed[op.id]), lane[op.process] + BAR / 2) for op in verdict.order if op in ops]
    for (x1, y1), (x2, y2) in itertools.pairwise(path):
        drawing.line(x1, y1, x2, y2, PATH, ' stroke-width="1.5" stroke-dasharray="4 3"')
    for cx, cy in path:
        drawing.dot(cx, cy, 4, PATH)
    return drawing.document(width, height)


# --8<-- [end:history_svg]
