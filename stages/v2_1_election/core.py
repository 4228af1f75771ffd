"""What every election algorithm offers: the seam between an algorithm and its drivers.

The real node (aiohttp, real timers) and the simulator (virtual clock and network)
drive an election core through the :class:`Elector` protocol and nothing else. An
algorithm is a pure state machine: nothing in it reads a clock, sleeps, sends, receives
or writes a file. The caller hands in the time (``now``) and every verb returns the
messages to send, as a list of :class:`Send`; then ``ready(sends)`` says, as etcd's
raft ``Ready`` does, what the driver must do and in which order: persist the core's
:class:`HardState` if it changed, then send. A vote is on disk before the Vote leaves.

Two algorithms implement it: :mod:`~stages.v2_1_election.bully` (the story of
version 2.1) and :mod:`~stages.v2_1_election.quorum` (majority vote, as Raft elects).
:mod:`~stages.v2_1_election.algorithms` lists them by name.
"""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar, NamedTuple, Protocol

from stages.v2_1_election.messages import MAX_TERM, Message

log = logging.getLogger(__name__)


class Role(StrEnum):
    FOLLOWER = "follower"
    PRE_CANDIDATE = "pre-candidate"  # majority vote only: asking whether it could win
    CANDIDATE = "candidate"
    LEADER = "leader"


class ConfigError(ValueError):
    """Timings (or a set of voters) that cannot work together."""


@dataclass(frozen=True)
class Send:
    """An instruction to the caller: deliver ``message`` to the node named ``to``."""

    to: str
    message: Message


# --8<-- [start:ready]
class HardState(NamedTuple):
    """What a core must find again after a restart: its term, and whom it voted for in it."""

    term: int = 0
    voted_for: str | None = None


@dataclass(frozen=True)
class Ready:
    """What a driver does after each verb, in this order (etcd's raft ``Ready``):

    1. persist ``hard_state`` (None: nothing changed), and wait until it is on disk;
    2. send ``messages``, which may depend on it (a Vote counts once the vote is kept);
    3. apply what is committed: nothing yet. A replicated log's core (v3.0) hands out a
       subclass that adds the entries to persist with the hard state and the committed
       entries to apply after the messages, and its driver overrides ``persist`` and
       ``apply`` (:class:`~stages.v2_1_election.node.ElectionDriver`).
    """

    hard_state: HardState | None = None
    messages: list[Send] = field(default_factory=list)


# --8<-- [end:ready]


# --8<-- [start:timings]
@dataclass(frozen=True)
class Timings:
    """What a driver (node or simulator) and the checkers need to know about an algorithm's
    timings, in seconds, whatever its own settings are called."""

    heartbeat_interval: float  # the node wakes at least once per interval; 2 without is a stall
    message_timeout: float  # give up on delivering one message after this long
    leader_timeout: float  # a follower's shortest wait for its leader; peers are read twice in it
    liveness_bound: float  # once faults stop, one agreed leader within this long
    stale_leader_bound: float | None = None  # the longest two leaders overlap, if bounded


# --8<-- [end:timings]


# --8<-- [start:next_tick]
def next_tick(now: float, due: float, epoch: float, every: float) -> float:
    """When a driver should tick next: the first point of its grid (``epoch + k * every``)
    strictly after ``now`` and at or after ``due``. Before a core's deadline a tick changes
    nothing, so the node sleeps until then, and the simulator plans no event before it."""
    step = max(math.floor((now - epoch) / every) + 1, 0)  # strictly after now
    step = max(step, math.ceil((due - epoch) / every))
    while epoch + step * every < due:  # rounding
        step += 1
    return epoch + step * every


# --8<-- [end:next_tick]


def cannot_be_real(name: str, message: Message) -> bool:
    """A message "from" the receiver itself, or past :data:`MAX_TERM`: forged or misrouted.

    Every core checks this first and ignores such a message, with one warning.
    """
    if message.sender == name or message.term > MAX_TERM:
        log.warning("%s ignored a %s that cannot be real: %s", name, message.kind, message)
        return True
    return False


# --8<-- [start:elector]
class Elector(Protocol):
    """One node's election core, as the node and the simulator drive it."""

    algorithm: str  # "bully", "quorum": what /cluster/status reports
    messages: tuple[type[Message], ...]  # the types its nodes exchange: the node's routes
    voter: bool  # may it campaign and count? (majority vote: is it one of the voters)

    @property
    def name(self) -> str: ...

    @property
    def role(self) -> Role: ...

    @property
    def term(self) -> int: ...

    @property
    def leader(self) -> str | None: ...

    @property
    def peers(self) -> frozenset[str]: ...

    @property
    def timings(self) -> Timings: ...

    @property
    def deadline(self) -> float:
        """The earliest time at which ``tick`` may act; a tick before it changes nothing."""
        ...

    def tick(self, now: float) -> list[Send]: ...

    def receive(self, message: Message, now: float) -> list[Send]: ...

    def set_peers(self, names: Iterable[str], now: float) -> list[Send]: ...

    def resumed(self, now: float) -> list[Send]: ...

    def resign(self, now: float) -> list[Send]:
        """The node is shutting down: what it tells its peers (a leader, that it resigns)."""
        ...

    def ready(self, messages: list[Send]) -> Ready:
        """After a verb: its ``messages``, and the hard state to persist before them if the
        verb changed it (each change is handed out once)."""
        ...


# --8<-- [end:elector]


class ElectionSettings(Protocol):
    """An algorithm's own settings (a frozen dataclass), and the timings they imply."""

    __dataclass_fields__: ClassVar[dict[str, Any]]  # a dataclass: fields() lists the settings

    def timings(self) -> Timings: ...


class Storage(Protocol):
    """Where a driver keeps a core's hard state across restarts (``--data-dir``)."""

    def load(self) -> HardState: ...

    def save(self, state: HardState) -> None:
        """When this returns, ``state`` survives a crash."""
        ...


# (name, rng, now, restored) -> a new core, from the hard state it kept before a restart
ElectorFactory = Callable[[str, random.Random, float, HardState], Elector]


# --8<-- [start:algorithm]
@dataclass(frozen=True)
class Algorithm:
    """An election algorithm by name: its settings, and how to build one node's core.

    ``settings(voters, **overrides)`` makes the algorithm's settings from the names of
    the cluster's voters (a :class:`ConfigError` if they cannot work; an algorithm
    that needs no voters ignores them); ``new_elector(name, settings, rng, now,
    restored)`` builds one node's core, from the hard state its driver kept; ``durable``:
    its cores hand out a term and vote that must survive a restart (``--data-dir``).
    """

    name: str
    summary: str
    settings: Callable[..., ElectionSettings]
    new_elector: Callable[[str, Any, random.Random, float, HardState], Elector]
    durable: bool = False

    def factory(self, settings: ElectionSettings) -> ElectorFactory:
        """A function that builds a fresh core for any node, with these settings."""

        def new_core(name: str, rng: random.Random, now: float, restored: HardState) -> Elector:
            return self.new_elector(name, settings, rng, now, restored)

        return new_core


# --8<-- [end:algorithm]
