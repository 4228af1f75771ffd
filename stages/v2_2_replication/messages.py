"""What v2.2 nodes send each other besides the election's messages, validated.

* :class:`Replicate`, leader to follower (``POST /cluster/replicate``): one write, the
  key and the value (base64, since JSON has no bytes) or ``null`` for a delete. It is a
  v2.1 :class:`~stages.v2_1_election.messages.Message`, so it carries its sender and the
  sender's term, and v2.1's ``receive_message`` parses it with the driver's own types.
* :class:`Snapshot`, the leader's answer to ``GET /cluster/snapshot``: its whole store.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Self

from stages.v1_kv.commands import Command, Delete, Put
from stages.v1_kv.store import InvalidKey, validate_key
from stages.v2_1_election.messages import MAX_TERM, Check, Message
from stages.v2_registry.models import InvalidMessage, check_name

MAX_SNAPSHOT_KEYS = 1_000_000  # a snapshot lists at most so many keys


def check_key(value: Any) -> str:
    """A key, by v1's rules (:func:`~stages.v1_kv.store.validate_key`)."""
    if not isinstance(value, str):
        raise InvalidMessage(f"a key is a string; got {type(value).__name__}")
    try:
        validate_key(value)
    except InvalidKey as exc:
        raise InvalidMessage(str(exc)) from None
    return value


def check_value(value: Any) -> str | None:
    """A value in base64, or None (a delete)."""
    if value is None:
        return None
    decode(value)
    return str(value)


def encode(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


def decode(value: Any) -> bytes:
    if not isinstance(value, str):
        raise InvalidMessage(f"a value is a base64 string; got {type(value).__name__}")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidMessage("a value must be base64 (RFC 4648, with padding)") from None


# --8<-- [start:replicate]
@dataclass(frozen=True)
class Replicate(Message):
    """Leader to follower: "apply this write; I lead at ``term``"."""

    kind: ClassVar[str] = "replicate"
    checks: ClassVar[Mapping[str, Check]] = {"key": check_key, "value": check_value}
    key: str
    value: str | None = None  # base64; None: delete the key

    @classmethod
    def of(cls, sender: str, term: int, command: Command) -> Self:
        value = encode(command.value) if isinstance(command, Put) else None
        return cls(sender=sender, term=term, key=command.key, value=value)

    def command(self) -> Command:
        return Delete(self.key) if self.value is None else Put(self.key, decode(self.value))


# --8<-- [end:replicate]


@dataclass(frozen=True)
class Snapshot:
    """The leader's whole store at one moment, and who it was at which term."""

    leader: str
    term: int
    items: Mapping[str, bytes]

    def to_json(self) -> dict[str, Any]:
        items = {key: encode(value) for key, value in sorted(self.items.items())}
        return {"leader": self.leader, "term": self.term, "items": items}

    @classmethod
    def from_json(cls, data: Any) -> Self:
        if not isinstance(data, dict) or set(data) != {"leader", "term", "items"}:
            raise InvalidMessage("a snapshot is a JSON object with leader, term and items")
        term, items = data["term"], data["items"]
        if isinstance(term, bool) or not isinstance(term, int) or not 0 <= term <= MAX_TERM:
            raise InvalidMessage("snapshot.term must be a whole number from 0 to 2**63 - 1")
        if not isinstance(items, dict) or len(items) > MAX_SNAPSHOT_KEYS:
            raise InvalidMessage(f"snapshot.items is an object of at most {MAX_SNAPSHOT_KEYS} keys")
        checked = {check_key(key): decode(value) for key, value in items.items()}
        return cls(check_name(data["leader"]), term, checked)
