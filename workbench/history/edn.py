"""Jepsen's own history lines, in EDN: ``{:process 0, :type :invoke, :f :read, :value nil}``.

Enough of EDN for an operation map: maps, vectors and lists, keywords, whole numbers,
strings, ``nil``, ``true`` and ``false``; commas are whitespace. Keywords in value position
(``:invoke``, ``:read``) become plain strings, so an EDN line reads as the same event as its
JSON spelling. ``:key`` is optional (one register when absent). Lines of the nemesis
(``:process :nemesis``) say what the faults did, not what a client saw, and are skipped.
Anything else is refused with its line number.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

from workbench.history.events import Event, HistoryError, event

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<open>[{\[(]) | (?P<close>[}\])])
    | (?P<string>"(?:[^"\\]|\\.)*")
    | (?P<number>-?\d+(?![\w.]))
    | (?P<keyword>:[A-Za-z_*+!?<>=/.-][\w*+!?<>=/.:-]*)
    | (?P<symbol>nil|true|false)(?![\w-])
    )""",
    re.VERBOSE,
)
_CLOSING = {"{": "}", "[": "]", "(": ")"}


class _Reader:
    def __init__(self, text: str, line: int) -> None:
        self.text, self.line, self.at = text.replace(",", " "), line, 0

    def fail(self, problem: str) -> HistoryError:
        return HistoryError(self.line, f"not EDN that this reader knows: {problem}")

    def value(self) -> Any:
        match = _TOKEN.match(self.text, self.at)
        if match is None:
            shown = self.text[self.at :].strip()[:20] or "the end of the line"
            raise self.fail(f"unexpected {shown!r}")
        self.at = match.end()
        kind, token = match.lastgroup, match.group(match.lastgroup or 0)
        if kind == "open":
            items = self.items(_CLOSING[token])
            if token != "{":
                return items
            if len(items) % 2:
                raise self.fail("a map needs a value for every key")
            return dict(zip(items[::2], items[1::2], strict=True))
        if kind == "close":
            raise self.fail(f"an unmatched {token!r}")
        if kind == "string":
            return json.loads(token)  # EDN's string escapes are JSON's, for what we accept
        if kind == "number":
            return int(token)
        if kind == "keyword":
            return token[1:]
        return {"nil": None, "true": True, "false": False}[token]

    def items(self, closing: str) -> list[Any]:
        items: list[Any] = []
        while True:
            match = re.compile(r"\s*([}\])])").match(self.text, self.at)
            if match:
                if match.group(1) != closing:
                    raise self.fail(f"{match.group(1)!r} closes a {closing!r}")
                self.at = match.end()
                return items
            if not self.text[self.at :].strip():
                raise self.fail(f"the line ends before its {closing!r}")
            items.append(self.value())

    def end(self) -> None:
        if self.text[self.at :].strip():
            raise self.fail(f"more after the map: {self.text[self.at :].strip()[:20]!r}")


def read_edn(lines: Iterable[str]) -> Iterator[Event]:
    """The client events of an EDN history, one map per line."""
    for number, text in enumerate(lines, start=1):
        if not text.strip() or text.lstrip().startswith(";"):
            continue  # blank, or a comment
        reader = _Reader(text, number)
        data = reader.value()
        reader.end()
        if isinstance(data, dict) and data.get("process") == "nemesis":
            continue
        yield event(number, data)
