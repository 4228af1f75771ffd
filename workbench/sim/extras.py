"""Nodes beyond the voters: what an operator (or the dashboard's *Add a node*) starts.

A cluster's voters are configuration; nothing stops somebody from starting one more node.
The simulator runs such nodes beside the voters n1..nN, named after them, each of a kind:

* ``learner``: a node started as it should be, as a non-voter (``--non-voter``): it
  has the voters' own settings, and its name is not among them.
* ``stray``: a misconfigured node that believes it is a voter: its settings name the
  voters *and itself* (an operator who added the new node to its own ``--voters`` only,
  or, before the fix, one more node started with the same ``--cluster-size``).

An extra node is absent until a ``join`` fault starts it; then it may crash and restart
like any other. For an algorithm without voters (Bully), every extra node is simply one
more node.
"""

from __future__ import annotations

import dataclasses
import random
from typing import Any

from stages.v2_1_election.core import ElectionSettings, Elector, HardState
from workbench.sim.algorithms import sim_algorithm

EXTRA_KINDS = {
    "learner": "a non-voter, as --non-voter starts one: it follows and never counts",
    "stray": "a misconfigured node whose own voter list adds itself: it believes it votes",
}


def parse_extras(text: str) -> tuple[str, ...]:
    """``learner,stray,stray`` -> the kinds of the extra nodes, in order."""
    kinds = tuple(kind.strip() for kind in text.split(","))
    for kind in kinds:
        if kind not in EXTRA_KINDS:
            known = ", ".join(EXTRA_KINDS)
            raise ValueError(f"unknown kind of extra node {kind!r}; known: {known}")
    return kinds


def misconfigured(settings: ElectionSettings, name: str) -> ElectionSettings:
    """The settings a stray node runs with: the voters, and itself among them."""
    voters = getattr(settings, "voters", None)
    if voters is None:  # no voters to get wrong
        return settings
    return dataclasses.replace(settings, voters=(*voters, name))


class Extras:
    """The extra nodes of a run: their names and kinds, and each node's own settings."""

    def __init__(
        self, algorithm: str, settings: ElectionSettings, voters: int, kinds: tuple[str, ...]
    ) -> None:
        self.algorithm, self.settings = sim_algorithm(algorithm).algorithm, settings
        self.names = [f"n{voters + i}" for i in range(1, len(kinds) + 1)]
        self.kinds = dict(zip(self.names, kinds, strict=True))

    def settings_of(self, name: str) -> ElectionSettings:
        if self.kinds.get(name) == "stray":
            return misconfigured(self.settings, name)
        return self.settings  # a voter, or a learner: the cluster's own settings

    def new_core(self, name: str, rng: random.Random, now: float, restored: HardState) -> Elector:
        return self.algorithm.new_elector(name, self.settings_of(name), rng, now, restored)

    def header(self) -> dict[str, Any]:
        """What the trace's start record says of them (nothing, when there are none)."""
        return {"extras": dict(self.kinds)} if self.kinds else {}
