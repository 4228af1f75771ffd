"""Jepsen's own history lines, in EDN: ``{:process 0, :type :invoke, :f :read, :value nil}``.

Enough of EDN for an operation map: maps, vectors, lists and sets, keywords, symbols (such
as an exception's ``java.net.SocketTimeoutException``), whole numbers, strings, ``nil``,
``true`` and ``false``; commas are whitespace, a tag (``#object``) is skipped. Keywords and
symbols in value position (``:invoke``, ``:read``) become plain strings, so an EDN line reads
as the same event as its JSON spelling. What Jepsen and Knossos write, read as they mean it:

- ``:key`` is optional: one register when absent; ``jepsen.independent``'s ``:value [k v]``
  (for a cas, ``[k [expected new]]``) is the key ``k`` and the value ``v``;
- a read that returned ``nil`` read something unknown (Knossos's registers treat it so);
- lines of the nemesis (``:process :nemesis``) say what the faults did, not what a client
  saw, and are skipped;
- a file that is one vector of maps, one per line (Knossos's ``data/*.edn``), is read as
  the maps it holds.

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
      (?P<open>\#\{|[{\[(]) | (?P<close>[}\])])
    | (?P<tag>\#[A-Za-z][\w.\-/]*)
    | (?P<string>"(?:[^"\\]|\\.)*")
    | (?P<number>-?[0-9]+(?![\w.]))
    | (?P<keyword>:[A-Za-z_*+!?<>=/.\-][\w*+!?<>=/.:\-]*)
    | (?P<constant>nil|true|false)(?![\w.\-])
    | (?P<symbol>[A-Za-z_*+!?<>=.\-][\w*+!?<>=/.:\-$]*)
    )""",
    re.VERBOSE,
)
_CLOSING = {"{": "}", "#{": "}", "[": "]", "(": ")"}
_CLOSE = re.compile(r"\s*([}\])])")
MAX_DEPTH = 32  # an operation map nests a few levels; an exception's, a few more
MAX_DIGITS = 30


class _Reader:
    def __init__(self, text: str, line: int) -> None:
        self.text, self.line, self.at, self.depth = text.replace(",", " "), line, 0, 0

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
            return self.collection(token)
        if kind == "close":
            raise self.fail(f"an unmatched {token!r}")
        if kind == "tag":
            return self.value()  # #object[...], #inst "...": the value, untagged
        if kind == "string":
            try:
                return json.loads(token, strict=False)  # EDN's escapes, as far as JSON has them
            except ValueError:
                problem = f"a string with an escape this reader does not know: {token[:20]}"
                raise self.fail(problem) from None
        if kind == "number":
            if len(token.lstrip("-")) > MAX_DIGITS:
                raise self.fail(f"a number of more than {MAX_DIGITS} digits")
            return int(token)
        if kind in ("keyword", "symbol"):
            return token.removeprefix(":")
        return {"nil": None, "true": True, "false": False}[token]

    def collection(self, opening: str) -> Any:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(f"nested more than {MAX_DEPTH} deep")
        items = self.items(_CLOSING[opening])
        self.depth -= 1
        if opening != "{":
            return items
        if len(items) % 2:
            raise self.fail("a map needs a value for every key")
        keys = items[::2]
        if any(isinstance(key, list | dict) for key in keys):
            raise self.fail("a map's key must be a keyword, a string or a number")
        return dict(zip(keys, items[1::2], strict=True))

    def items(self, closing: str) -> list[Any]:
        items: list[Any] = []
        while True:
            match = _CLOSE.match(self.text, self.at)
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


def _independent(data: dict[str, Any]) -> dict[str, Any]:
    """``jepsen.independent``'s ``:value [k v]``, as the key ``k`` and the value ``v``."""
    value = data.get("value")
    if "key" in data or not isinstance(value, list) or len(value) != 2:
        return data
    key, inner = value
    if data.get("f") == "cas" and not isinstance(inner, list):
        return data  # [expected new]: a plain cas
    if isinstance(key, list | dict):
        return data
    return {**data, "key": str(key), "value": inner}


def read_edn(lines: Iterable[str]) -> Iterator[Event]:
    """The client events of an EDN history, one map per line."""
    lines = list(lines)

    def content(i: int) -> bool:
        return bool(lines[i].strip()) and not lines[i].lstrip().startswith(";")

    first = next((i for i in range(len(lines)) if content(i)), None)
    last = next((i for i in reversed(range(len(lines))) if content(i)), None)
    if first is not None and last is not None and lines[first].lstrip().startswith("["):
        if not lines[last].rstrip().endswith("]"):  # Knossos's files: one vector of maps
            raise HistoryError(last + 1, "not EDN that this reader knows: the ']' is missing")
        lines[first] = lines[first].lstrip()[1:]
        lines[last] = lines[last].rstrip()[:-1]
    for number, text in enumerate(lines, start=1):
        if not text.strip() or text.lstrip().startswith(";"):
            continue  # blank, or a comment
        reader = _Reader(text, number)
        data = reader.value()
        reader.end()
        if isinstance(data, dict) and data.get("process") == "nemesis":
            continue
        yield event(number, _independent(data) if isinstance(data, dict) else data, True)
