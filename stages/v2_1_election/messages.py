"""The election's messages: frozen dataclasses with JSON round trips that validate.

Every message carries its sender and the sender's term (the generation clock).
On the wire each is a JSON object with a ``type``::

    {"type": "heartbeat", "sender": "n3", "term": 4}
    {"type": "newer_term", "sender": "n2", "term": 5, "leader": "n2"}

Parsing is generic: a message type is one dataclass, and its fields say what to
check (``str``: a node name, ``int``: a term, ``bool``, or ``str | None``). Each
subclass with a ``kind`` of its own is found by that kind in :data:`MESSAGE_TYPES`.
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, fields
from typing import Any, ClassVar

from stages.v2_registry.models import InvalidMessage, check_name

MESSAGE_TYPES: dict[str, type[Message]] = {}  # kind -> class, filled as each class is defined

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


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidMessage(f"expected true or false; got {_shown(value)}")
    return value


def _optional_name(value: Any) -> str | None:
    return None if value is None else check_name(value)


CHECKS = {"str": check_name, "int": _term, "bool": _bool, "str | None": _optional_name}


# --8<-- [start:messages]
@dataclass(frozen=True)
class Message:
    """What every election message has: who sent it, and at which term."""

    kind: ClassVar[str] = "message"
    sender: str
    term: int

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name, hint in cls.__annotations__.items():  # each field a type parsing checks
            assert hint.startswith("ClassVar") or hint in CHECKS, f"{name}: cannot check {hint}"
        if "kind" in cls.__dict__:  # a message type of its own: parse it by its kind
            MESSAGE_TYPES[cls.kind] = cls

    def to_json(self) -> dict[str, Any]:
        return {"type": self.kind, **{name: getattr(self, name) for name in _names(type(self))}}

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


# --8<-- [end:messages]


# Majority vote's messages (stages/v2_1_election/quorum.py); its heartbeat is Heartbeat.


# --8<-- [start:quorum_messages]
@dataclass(frozen=True)
class RequestVote(Message):
    """Candidate to every peer: "vote for me in ``term``". With ``pre_vote``: "would you?"."""

    kind: ClassVar[str] = "request_vote"
    pre_vote: bool = False


@dataclass(frozen=True)
class Vote(Message):
    """The answer to a RequestVote: granted or not, for a real or a pre-vote."""

    kind: ClassVar[str] = "vote"
    granted: bool = False
    pre_vote: bool = False


@dataclass(frozen=True)
class HeartbeatAck(Message):
    """Follower to leader, for each heartbeat: "I hear you" (what CheckQuorum counts)."""

    kind: ClassVar[str] = "heartbeat_ack"


# --8<-- [end:quorum_messages]


_NAMES: dict[type[Message], tuple[str, ...]] = {}  # each message type's field names


def _names(cls: type[Message]) -> tuple[str, ...]:
    if cls not in _NAMES:
        _NAMES[cls] = tuple(field.name for field in fields(cls))
    return _NAMES[cls]


def message_from_json(data: Any) -> Message:
    """Parse and validate one message; raise :class:`InvalidMessage` saying what is wrong."""
    if not isinstance(data, dict):
        raise InvalidMessage(f"expected a JSON object, got {type(data).__name__}")
    cls = MESSAGE_TYPES.get(data.get("type"))  # type: ignore[arg-type]
    if cls is None:
        kinds = ", ".join(MESSAGE_TYPES)
        raise InvalidMessage(f"'type' must be one of {kinds}; got {data.get('type')!r}")
    declared = fields(cls)
    unknown = set(data) - {"type"} - {field.name for field in declared}
    if unknown:
        raise InvalidMessage(f"unknown field(s) for {cls.kind}: {', '.join(sorted(unknown))}")
    values: dict[str, Any] = {}
    for field in declared:
        if field.name in data:
            try:
                values[field.name] = CHECKS[str(field.type)](data[field.name])
            except InvalidMessage as exc:
                raise InvalidMessage(f"{cls.kind}.{field.name}: {exc}") from None
        elif field.default is MISSING:
            needed = " and ".join(f"'{f.name}'" for f in declared if f.default is MISSING)
            raise InvalidMessage(f"a {cls.kind} needs {needed}")
    return cls(**values)
