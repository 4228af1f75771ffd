"""The election's messages: frozen dataclasses with JSON round trips that validate.

Every message carries its sender and the sender's term (the generation clock).
On the wire each is a JSON object with a ``type``::

    {"type": "heartbeat", "sender": "n3", "term": 4}
    {"type": "newer_term", "sender": "n2", "term": 5, "leader": "n2"}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from stages.v2_registry.models import InvalidMessage, check_name

MAX_TERM = 2**63 - 1  # the largest term: what etcd's raft keeps in a uint64, with room to spare


def _term(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_TERM:
        raise InvalidMessage(
            f"'term' must be a whole number from 0 to 2**63 - 1; got {_shown(value)}"
        )
    return value


def _shown(value: Any) -> str:
    """A bad value, short enough for an error message (Python cannot print a huge int)."""
    if isinstance(value, int) and value.bit_length() > 64:
        return f"a {value.bit_length()}-bit number"
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:40]}..."


# --8<-- [start:messages]
@dataclass(frozen=True)
class Message:
    """What every election message has: who sent it, and at which term."""

    kind: ClassVar[str] = "message"
    sender: str
    term: int

    def to_json(self) -> dict[str, Any]:
        return {"type": self.kind, "sender": self.sender, "term": self.term}

    @classmethod
    def from_json(cls, data: Any) -> Message:
        """Parse and validate; ``Heartbeat.from_json`` also insists on a heartbeat."""
        message = message_from_json(data)
        if cls is not Message and not isinstance(message, cls):
            raise InvalidMessage(f"expected a {cls.kind}, got a {message.kind}")
        return message


@dataclass(frozen=True)
class Heartbeat(Message):
    """Leader to followers, every ``heartbeat_interval``: "I am alive and in charge"."""

    kind: ClassVar[str] = "heartbeat"


@dataclass(frozen=True)
class Election(Message):
    """Candidate to every higher-ranked peer: "I want to lead; is anyone above me alive?"."""

    kind: ClassVar[str] = "election"


@dataclass(frozen=True)
class Answer(Message):
    """Higher-ranked node to a candidate: "I am alive, stand down; I will take it from here"."""

    kind: ClassVar[str] = "answer"


@dataclass(frozen=True)
class Victory(Message):
    """The winner to every peer: "I am the leader for this term" (the coordinator message)."""

    kind: ClassVar[str] = "victory"


@dataclass(frozen=True)
class Join(Message):
    """A node with no leader to a peer it has just discovered: "who leads here?".

    The leader replies with a Heartbeat, any other node at a newer term with a
    NewerTerm. This is how a node joins a cluster with a live leader without
    deposing it, however high it ranks, and without reusing an old term.
    """

    kind: ClassVar[str] = "join"


@dataclass(frozen=True)
class Resign(Message):
    """A leader that is shutting down, to every peer: "elect someone else, now".

    Without it the others would notice only after ``leader_timeout`` of silence.
    """

    kind: ClassVar[str] = "resign"


@dataclass(frozen=True)
class NewerTerm(Message):
    """Reply to a Heartbeat, Victory or Join from an older term: "you are out of date"."""

    kind: ClassVar[str] = "newer_term"
    leader: str | None = None  # who leads the newer term, if the replier knows

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "leader": self.leader}


# --8<-- [end:messages]

MESSAGE_TYPES: dict[str, type[Message]] = {
    cls.kind: cls for cls in (Heartbeat, Election, Answer, Victory, Join, NewerTerm, Resign)
}


def message_from_json(data: Any) -> Message:
    """Parse and validate one message; raise :class:`InvalidMessage` saying what is wrong."""
    if not isinstance(data, dict):
        raise InvalidMessage(f"expected a JSON object, got {type(data).__name__}")
    cls = MESSAGE_TYPES.get(data.get("type"))  # type: ignore[arg-type]
    if cls is None:
        kinds = ", ".join(MESSAGE_TYPES)
        raise InvalidMessage(f"'type' must be one of {kinds}; got {data.get('type')!r}")
    allowed = {"type", "sender", "term"} | ({"leader"} if cls is NewerTerm else set())
    unknown = set(data) - allowed
    if unknown:
        raise InvalidMessage(f"unknown field(s) for {cls.kind}: {', '.join(sorted(unknown))}")
    if "sender" not in data or "term" not in data:
        raise InvalidMessage(f"a {cls.kind} needs 'sender' and 'term'")
    sender, term = check_name(data["sender"]), _term(data["term"])
    if cls is NewerTerm:
        leader = data.get("leader")
        return NewerTerm(sender, term, None if leader is None else check_name(leader))
    return cls(sender, term)
