"""The key/value store itself: a dictionary with rules about what a key may be.

Nothing here does I/O, so it can be tested without a server and read without
HTTP noise. The server in :mod:`stages.v1_kv.server` only translates requests
into reads and commands (:mod:`stages.v1_kv.commands`), which v1 applies to a
:class:`KVStore` at once.
"""

from __future__ import annotations

import re
from typing import assert_never

from stages.v1_kv.commands import Command, Delete, Put, WriteResult

MAX_KEY_BYTES = 1024
"""The longest key, counted in UTF-8 bytes (not characters)."""

# Unicode's control characters (category Cc): C0, DEL and C1. One regular expression
# finds them faster than asking unicodedata about every character.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


class InvalidKey(ValueError):
    """A key that breaks the rules in :func:`validate_key`."""


# --8<-- [start:validate_key]
def validate_key(key: str) -> None:
    """Raise :class:`InvalidKey` unless ``key`` is 1 to 1024 UTF-8 bytes of text.

    Any character is allowed but control characters (NUL, newline, DEL, ...), which
    no person can read in a listing or a log line; slashes are fine (``users/42``),
    so callers can build their own hierarchies with prefixes.
    """
    if not key:
        raise InvalidKey("the key is empty; put it after /kv/, for example /kv/greeting")
    try:
        size = len(key.encode("utf-8"))
    except UnicodeEncodeError as exc:  # lone surrogates cannot be stored as UTF-8
        raise InvalidKey(f"the key is not valid Unicode text: {exc.reason}") from None
    if size > MAX_KEY_BYTES:
        raise InvalidKey(f"the key is {size} bytes long; the limit is {MAX_KEY_BYTES} UTF-8 bytes")
    control = _CONTROL.search(key)
    if control is not None:
        raise InvalidKey(f"the key contains the control character {control[0]!r}; keys are text")


# --8<-- [end:validate_key]


# --8<-- [start:store]
class KVStore:
    """Keys (text) mapped to values (raw bytes), kept in memory only."""

    def __init__(self) -> None:
        self._data: dict[str, bytes] = {}

    def put(self, key: str, value: bytes) -> bool:
        """Store ``value`` under ``key``; return True if the key is new."""
        validate_key(key)
        created = key not in self._data
        self._data[key] = bytes(value)
        return created

    def get(self, key: str) -> bytes | None:
        """Return the value stored under ``key``, or None if there is none."""
        validate_key(key)
        return self._data.get(key)

    def delete(self, key: str) -> bool:
        """Remove ``key``; return True if it was there."""
        validate_key(key)
        return self._data.pop(key, None) is not None

    def keys(self, prefix: str = "") -> list[str]:
        """All keys that start with ``prefix``, sorted."""
        return sorted(key for key in self._data if key.startswith(prefix))

    def __len__(self) -> int:
        return len(self._data)

    def apply(self, command: Command) -> WriteResult:
        """Carry out a write given as data (a :class:`Put` or a :class:`Delete`)."""
        match command:
            case Put(key, value):
                return WriteResult(existed=not self.put(key, value))
            case Delete(key):
                return WriteResult(existed=self.delete(key))
            case _:
                assert_never(command)


# --8<-- [end:store]
