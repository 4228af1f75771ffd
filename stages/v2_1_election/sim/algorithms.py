"""What the simulator needs from an election algorithm, and the algorithms it knows.

The simulator drives any object that has the three verbs of the election core
(``tick``, ``receive``, ``set_peers``) and shows its state (``role``, ``leader``,
``term``). :class:`Elector` says exactly that, so a later algorithm plugs in by
adding one entry to :data:`ALGORITHMS`, with the properties it promises.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from stages.v2_1_election.bully import BullyElector, ElectionConfig, Role, Send
from stages.v2_1_election.messages import Message


# --8<-- [start:elector]
class Elector(Protocol):
    """One node's election core, as the simulator (and the real node) drives it."""

    @property
    def name(self) -> str: ...

    @property
    def role(self) -> Role: ...

    @property
    def leader(self) -> str | None: ...

    @property
    def term(self) -> int: ...

    @property
    def deadline(self) -> float:
        """The earliest time at which ``tick`` may act; a tick before it changes nothing."""
        ...

    def tick(self, now: float) -> list[Send]: ...

    def receive(self, message: Message, now: float) -> list[Send]: ...

    def set_peers(self, names: Iterable[str], now: float) -> list[Send]: ...

    def resumed(self, now: float) -> list[Send]: ...


ElectorFactory = Callable[[str, random.Random, float], Elector]  # (name, rng, now) -> a new core


@dataclass(frozen=True)
class Algorithm:
    """An election algorithm: how to build a node's core, and what it promises.

    ``claims`` maps each property the algorithm promises to the faults that void the
    promise: Bully with a generation clock is safe only while no message is lost.
    """

    name: str
    build: Callable[[ElectionConfig], ElectorFactory]
    claims: dict[str, frozenset[str]]


def bully(config: ElectionConfig) -> ElectorFactory:
    def new_core(name: str, rng: random.Random, now: float) -> Elector:
        return BullyElector(name, config, rng, now)

    return new_core


LOSSY = frozenset({"partition", "lost"})  # faults under which a message never arrives

ALGORITHMS: dict[str, Algorithm] = {
    "bully": Algorithm(
        "bully",
        bully,
        claims={"election safety": LOSSY, "liveness": frozenset(), "stability": LOSSY},
    ),
}
# --8<-- [end:elector]
