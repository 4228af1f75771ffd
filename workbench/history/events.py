"""A history: what concurrent clients asked a database and what it told them, in time order.

One event per line of JSON (JSON Lines), Jepsen's operation maps spelled in JSON::

    {"process": 3, "type": "invoke", "f": "write", "key": "k1", "value": 17}
    {"process": 3, "type": "ok", "f": "write", "key": "k1", "value": 17}

``type`` is ``invoke`` (a client asks), then one of ``ok`` (it happened), ``fail`` (it
certainly did not happen) or ``info`` (nobody knows: a timeout, a lost connection). An
``info`` operation may have taken effect at any time after its call, so it stays open to
the end of the history, and its process never calls again (Jepsen's rule: a client that
does not know starts afresh as a new process). An ``invoke`` with no answer at all by the
end of the history counts as ``info``. ``f`` is ``read``, ``write``, ``cas`` (the value is
``[expected, new]``) or ``delete``; a read's ``ok`` carries the value read, ``null`` for a
missing key. Optional: ``time`` (monotonic nanoseconds) and ``node`` (who answered).

:func:`operations` pairs the calls with their returns into :class:`Operation` values, and
refuses a malformed history with the line that is wrong. Nothing here guesses.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

FUNCTIONS = ("read", "write", "cas", "delete")
TYPES = ("invoke", "ok", "fail", "info")
MAX_PROCESS = 2**31 - 1
NEVER = float("inf")  # an info operation's return: it may take effect until the end

Value = int | str | bool | None  # what a register holds (None: the key is missing)


class HistoryError(ValueError):
    """A malformed history: the line number and what is wrong with it."""

    def __init__(self, line: int, problem: str) -> None:
        super().__init__(f"line {line}: {problem}")
        self.line = line
        self.problem = problem


@dataclass(frozen=True)
class Event:
    """One line of a history, checked on its own."""

    line: int
    process: int
    type: str
    f: str
    key: str | None
    value: Any
    node: str | None = None
    unknown: bool = False  # a read whose value nobody knows (Knossos's nil read)


# --8<-- [start:operation]
@dataclass(frozen=True)
class Operation:
    """A call and its return, as the checker places it: between ``call`` and ``ret``.

    ``call`` and ``ret`` are positions in the history (line numbers), which is its real-time
    order; an ``info`` operation's ``ret`` is :data:`NEVER`. ``value`` is what was written
    (``write``), ``(expected, new)`` (``cas``) or what was read (``read``, when ``ok``).
    """

    id: int
    process: int
    f: str
    key: str | None
    value: Any
    call: int
    ret: float
    status: str  # "ok" or "info": "fail" operations never happened and are dropped
    node: str | None = None

    def __str__(self) -> str:
        """``p3 write 17 k1 at n2 (lines 5-9)``: who did what, where and when."""
        if self.f == "cas":
            what = f"cas {_show(self.value[0])}->{_show(self.value[1])}"
        elif self.f == "delete":
            what = "delete"
        else:
            what = f"{self.f} {_show(self.value)}"
        key = "" if self.key is None else f" {self.key}"
        ret = "end, info" if self.ret == NEVER else str(int(self.ret))
        node = "" if self.node is None else f" at {self.node}"
        return f"p{self.process} {what}{key}{node} (lines {self.call}-{ret})"


# --8<-- [end:operation]


def _same(a: Any, b: Any) -> bool:
    """Equal, and of the same type (``True == 1`` in Python, but not in a history)."""
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def _json(value: Any) -> str:
    return json.dumps(list(value) if isinstance(value, tuple) else value)


def _show(value: Value) -> str:
    return "missing" if value is None else json.dumps(value)


MAX_TEXT = 10_000  # characters in a key, a node's name or a value


def _text(line: int, text: str, what: str) -> str:
    if len(text) > MAX_TEXT:
        raise HistoryError(line, f"{what} is {len(text)} characters long; at most {MAX_TEXT}")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate, such as "\ud800"
        raise HistoryError(line, f"{what} is not text that UTF-8 can encode") from None
    return text


def _value(line: int, value: Any, what: str) -> Value:
    if isinstance(value, str):
        return _text(line, value, what)
    if value is None or isinstance(value, int | bool):
        return value
    raise HistoryError(
        line, f"{what} must be a number, a string, true, false or null, not {value!r}"
    )


def _optional_text(line: int, data: dict[str, Any], field: str) -> str | None:
    value = data.get(field)
    if value is not None and not isinstance(value, str):
        raise HistoryError(line, f"'{field}' must be a string, not {value!r}")
    return None if value is None else _text(line, value, f"'{field}'")


def event(line: int, data: Any, unknown_nil_reads: bool = False) -> Event:
    """One event, from one decoded line, or a :class:`HistoryError` saying what is wrong.
    ``unknown_nil_reads``: a read that returned nil read *something* unknown (Knossos's
    rule for its EDN histories), rather than a missing key."""
    if not isinstance(data, dict):
        raise HistoryError(line, 'an event is an object such as {"process": 0, "type": ...}')
    process = data.get("process")
    if isinstance(process, bool) or not isinstance(process, int) or not 0 <= process <= MAX_PROCESS:
        raise HistoryError(line, f"'process' must be a whole number from 0 to {MAX_PROCESS}")
    kind, f = data.get("type"), data.get("f")
    if kind not in TYPES:
        raise HistoryError(line, f"'type' must be one of {', '.join(TYPES)}, not {kind!r}")
    if f not in FUNCTIONS:
        raise HistoryError(line, f"'f' must be one of {', '.join(FUNCTIONS)}, not {f!r}")
    key, node = _optional_text(line, data, "key"), _optional_text(line, data, "node")
    moment = data.get("time")
    if moment is not None and (isinstance(moment, bool) or not isinstance(moment, int)):
        raise HistoryError(line, f"'time' must be a whole number of nanoseconds, not {moment!r}")
    value = data.get("value")
    if f == "read" and kind == "ok" and "value" not in data:
        raise HistoryError(line, "a read's ok must say what it read: 'value' (null: missing)")
    if f == "cas" and (kind == "invoke" or value is not None):
        if not (isinstance(value, list) and len(value) == 2):
            raise HistoryError(line, "a cas's 'value' is [expected, new]")
        value = (_value(line, value[0], "expected"), _value(line, value[1], "new"))
    elif f != "cas":
        value = _value(line, value, "'value'")
    unknown = unknown_nil_reads and f == "read" and kind == "ok" and value is None
    return Event(line, process, kind, f, key, value, node, unknown)


def read_jsonl(lines: Iterable[str]) -> Iterator[Event]:
    """The events of a JSON Lines history; blank lines are skipped."""
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise HistoryError(number, f"not JSON ({exc.msg}, column {exc.colno})") from None
        except (ValueError, RecursionError) as exc:  # a 5,000-digit number; 10,000 brackets
            raise HistoryError(number, f"not JSON that can be read: {str(exc)[:80]}") from None
        yield event(number, data)


# --8<-- [start:operations]
def operations(events: Iterable[Event]) -> list[Operation]:
    """Pair each call with its return; ``fail`` operations are dropped (they did not happen),
    and so are reads whose answer nobody knows (they changed nothing)."""
    open_calls: dict[int, Event] = {}  # process -> its call without a return yet
    retired: dict[int, int] = {}  # process -> the line where it ended with info
    found: list[Operation] = []

    def add(call: Event, ret: float, status: str, value: Any, node: str | None) -> None:
        if call.f == "read" and status == "info":
            return  # a read without an answer constrains nothing
        found.append(
            Operation(
                len(found), call.process, call.f, call.key, value, call.line, ret, status, node
            )
        )

    for e in events:
        if e.process in retired:
            raise HistoryError(
                e.line,
                f"process {e.process} ended with info on line {retired[e.process]}; "
                "a client that does not know starts again as a new process",
            )
        call = open_calls.pop(e.process, None)
        if e.type == "invoke":
            if call is not None:
                raise HistoryError(
                    e.line,
                    f"process {e.process} calls again before its call on line {call.line} returned",
                )
            open_calls[e.process] = e
            continue
        if call is None:
            raise HistoryError(
                e.line,
                f"a return ({e.type}) without its call: process {e.process} has no open call",
            )
        if (e.f, e.key) != (call.f, call.key):
            raise HistoryError(
                e.line,
                f"this {e.f} of {e.key!r} returns a call that was a "
                f"{call.f} of {call.key!r} (line {call.line})",
            )
        if e.f in ("write", "cas") and e.value is not None and not _same(e.value, call.value):
            raise HistoryError(
                e.line,
                f"this {e.f} returns {_json(e.value)}, but its call (line "
                f"{call.line}) was for {_json(call.value)}",
            )
        if e.type == "ok" and e.unknown:
            continue  # it read something, nobody knows what: it constrains nothing
        if e.type == "ok":
            value = e.value if call.f == "read" else call.value
            add(call, e.line, "ok", value, e.node)
        elif e.type == "info":
            retired[e.process] = e.line
            add(call, NEVER, "info", call.value, e.node)
    for call in open_calls.values():  # never answered: it may yet take effect
        add(call, NEVER, "info", call.value, None)
    found.sort(key=lambda op: op.call)
    return [
        Operation(i, o.process, o.f, o.key, o.value, o.call, o.ret, o.status, o.node)
        for i, o in enumerate(found)
    ]


# --8<-- [end:operations]
