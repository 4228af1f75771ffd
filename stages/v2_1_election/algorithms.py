"""The election algorithms, by name: what ``--election`` and ``--algorithm`` choose from.

Adding an algorithm is one entry here; the node, the CLI and the simulator only ever
use the :class:`~stages.v2_1_election.core.Elector` protocol.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import Any

from stages.v2_1_election.bully import BullyElector, ElectionConfig
from stages.v2_1_election.core import Algorithm, Elector, HardState
from stages.v2_1_election.quorum import QuorumConfig, QuorumElector


def bully_settings(voters: Iterable[str] | None = None, **timings: Any) -> ElectionConfig:
    """Bully needs no voters: the highest live name wins, however many nodes there are."""
    return ElectionConfig(**timings)


def new_bully(
    name: str, config: ElectionConfig, rng: random.Random, now: float, restored: HardState
) -> Elector:
    return BullyElector(name, config, rng, now)  # Bully keeps nothing across a restart


def quorum_settings(voters: Iterable[str], **timings: Any) -> QuorumConfig:
    return QuorumConfig(tuple(voters), **timings)


# --8<-- [start:algorithms]
ALGORITHMS: dict[str, Algorithm] = {
    "bully": Algorithm(
        "bully",
        "the highest-ranked live node wins (Bully, with a generation clock)",
        bully_settings,
        new_bully,
    ),
    "quorum": Algorithm(
        "quorum",
        "a majority of the named voters elects (Raft's election, PreVote, CheckQuorum)",
        quorum_settings,
        QuorumElector,
        durable=True,
    ),
}
# --8<-- [end:algorithms]
