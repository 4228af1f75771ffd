"""The election's messages: frozen dataclasses with JSON round trips that validate.

Every message carries its sender and the sender's term (the generation clock).
On the wire each is a JSON object with a ``type``::

    {"type": "heartbeat", "sender": "n3", "term": 4}
    {"type": "newer_term", "sender": "n2", "term": 5, "leader": "n2"}

Parsing is generic: a message type is one dataclass, and its fields say what to
check (``str``: a node name, ``int``: a whole number up to :data:`MAX_TERM`, ``bool``,
or ``str | None``); a field of any other type names its check in the class's
``checks`` (:func:`list_of` and :func:`object_of` build them, bounded). Nothing is
registered globally: a node parses what arrives with its algorithm's own types
(``Elector.messages``, :func:`message_from_json`), so a later stage adds message
types and fields in its own modules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import MISSING, Field, dataclass, fields
from typing import Any, ClassVar, Self

from stages.v2_registry.models import InvalidMessage, check_name

MAX_TERM = 2**63 - 1  # the largest term: what etcd's raft keeps in a uint64, with room to spare

Check = Callable[[Any], Any]  # a value from JSON -> the field's value, or InvalidMessage


def whole_number(name: str) -> Check:
    """The check of an ``int`` field: a whole number from 0 to :data:`MAX_TERM`."""

    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_TERM:
            raise InvalidMessage(
                f"{name!r} must be a whole number from 0 to 2**63 - 1; got {_shown(value)}"
            )
        return value

    return check


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


# A field's check by its type; "int" is whole_number(the field's name).
CHECKS: dict[str, Check] = {"str": check_name, "bool": _bool, "str | None": _optional_name}


def _type_name(hint: Any) -> str:
    """``int``, ``"int"`` -> "int": annotations are strings or types, as a module imports."""
    if isinstance(hint, str):
        return hint
    return hint.__name__ if isinstance(hint, type) else str(hint)


def list_of(item: Check, at_most: int) -> Check:
    """The check of a field that holds a JSON list of at most ``at_most`` items, each
    passing ``item`` (a list of entries, say); the value is a tuple."""

    def check(value: Any) -> tuple[Any, ...]:
        if not isinstance(value, list | tuple):  # a tuple: what to_json gave, before JSON
            raise InvalidMessage(f"expected a list; got {_shown(value)}")
        if len(value) > at_most:
            raise InvalidMessage(f"at most {at_most} items, not {len(value)}")
        checked = []
        for index, each in enumerate(value):
            try:
                checked.append(item(each))
            except InvalidMessage as exc:
                raise InvalidMessage(f"item {index}: {exc}") from None
        return tuple(checked)

    return check


def object_of(checks: Mapping[str, Check]) -> Check:
    """The check of a JSON object with exactly these keys, each value passing its check."""

    def check(value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise InvalidMessage(f"expected a JSON object; got {_shown(value)}")
        if set(value) != set(checks):
            raise InvalidMessage(
                f"expected the keys {', '.join(checks)}; got {_shown(list(value))}"
            )
        return {key: each(value[key]) for key, each in checks.items()}

    return check


# --8<-- [start:messages]
@dataclass(frozen=True)
class Message:
    """What every election message has: who sent it, and at which term."""

    kind: ClassVar[str] = "message"
    checks: ClassVar[Mapping[str, Check]] = {}  # field -> its check, for a type CHECKS lacks
    _plan: ClassVar[tuple[tuple[str, Check, bool], ...]] = ()  # each field, its check, needed?
    sender: str
    term: int

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name, hint in cls.__annotations__.items():  # each field a type parsing checks
            kind = _type_name(hint)
            known = kind in (*CHECKS, "int") or kind.startswith(("ClassVar", "typing.ClassVar"))
            assert known or name in cls.checks, f"{cls.__name__}.{name}: no check for {hint}"

    def to_json(self) -> dict[str, Any]:
        names = (name for name, _, _ in type(self).fields_to_check())
        return {"type": self.kind, **{name: getattr(self, name) for name in names}}

    @classmethod
    def from_json(cls, data: Any) -> Self:
        """Parse and validate a message of this type; raise :class:`InvalidMessage`
        saying what is wrong."""
        if not isinstance(data, dict):
            raise InvalidMessage(f"expected a JSON object, got {type(data).__name__}")
        if data.get("type") != cls.kind:
            raise InvalidMessage(f"expected a {cls.kind}, got {_shown(data.get('type'))}")
        plan = cls.fields_to_check()
        unknown = set(data) - {"type"} - {name for name, _, _ in plan}
        if unknown:
            raise InvalidMessage(f"unknown field(s) for {cls.kind}: {', '.join(sorted(unknown))}")
        values: dict[str, Any] = {}
        for name, check, required in plan:
            if name in data:
                try:
                    values[name] = check(data[name])
                except InvalidMessage as exc:
                    raise InvalidMessage(f"{cls.kind}.{name}: {exc}") from None
            elif required:
                needed = " and ".join(f"'{n}'" for n, _, needs in plan if needs)
                raise InvalidMessage(f"a {cls.kind} needs {needed}")
        return cls(**values)

    @classmethod
    def fields_to_check(cls) -> tuple[tuple[str, Check, bool], ...]:
        """Each field's name, its check, and whether it must be given; worked out once."""
        if "_plan" not in cls.__dict__:
            cls._plan = tuple((f.name, _check(cls, f), _required(f)) for f in fields(cls))
        return cls._plan


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


def message_from_json(data: Any, types: Iterable[type[Message]]) -> Message:
    """Parse one message of an algorithm's ``types`` (its ``Elector.messages``), found by its
    ``type``; raise :class:`InvalidMessage` saying what is wrong."""
    if not isinstance(data, dict):
        raise InvalidMessage(f"expected a JSON object, got {type(data).__name__}")
    by_kind = {cls.kind: cls for cls in types}
    kind = data.get("type")
    if not isinstance(kind, str) or kind not in by_kind:
        raise InvalidMessage(f"'type' must be one of {', '.join(by_kind)}; got {_shown(kind)}")
    return by_kind[kind].from_json(data)


def _check(cls: type[Message], field: Field[Any]) -> Check:
    if field.name in cls.checks:
        return cls.checks[field.name]
    name = _type_name(field.type)
    return whole_number(field.name) if name == "int" else CHECKS[name]


def _required(field: Field[Any]) -> bool:
    return field.default is MISSING and field.default_factory is MISSING
