"""A majority of a fixed set of voters, by name (etcd's ``quorum.MajorityConfig``).

"More than half" must be of *names*, never of a count. Count to three out of five and
two different groups of three can each have "a majority": {n1, n2, n3} and {n3, n4,
n5} share n3, so they cannot both win one term; but {n1, n2, n3} and {n4, n5, n6} share
nobody, and a sixth node started with ``--cluster-size 5`` makes that second group. A
majority of the *set* {n1, ..., n5} has three of those five names, and any two such
majorities share a voter, who votes once per term. Nodes outside the set may follow a
leader, but their votes and acknowledgements count for nothing.

Pure: no clock, no I/O. The election counts votes with :meth:`MajorityConfig.has_quorum`
and CheckQuorum counts acknowledgements with it; a replicated log will take its commit
index from :meth:`MajorityConfig.committed_index`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from stages.v2_registry.models import InvalidMessage, check_name

MAX_VOTERS = 1000  # voter lists come from the command line: bound them


class VotersError(ValueError):
    """A voter set that cannot be a cluster's: empty, too large, with a duplicate or a bad name."""


# --8<-- [start:majority]
@dataclass(frozen=True)
class MajorityConfig:
    """The voters of a cluster, by name; a quorum is more than half of them."""

    voters: frozenset[str]

    def __post_init__(self) -> None:
        if not self.voters:
            raise VotersError("the set of voters is empty: a cluster needs at least one")
        if len(self.voters) > MAX_VOTERS:
            raise VotersError(f"at most {MAX_VOTERS} voters, not {len(self.voters)}")
        for name in sorted(self.voters):
            try:
                check_name(name)
            except InvalidMessage as exc:
                raise VotersError(f"voter {name!r}: {exc}") from None

    def __contains__(self, name: object) -> bool:
        return name in self.voters

    def __len__(self) -> int:
        return len(self.voters)

    @property
    def quorum(self) -> int:
        """How many voters make a majority: more than half of the set."""
        return len(self.voters) // 2 + 1

    def has_quorum(self, names: Iterable[str]) -> bool:
        """Do these names include a majority of the voters? Anyone else counts for nothing."""
        return len(self.voters.intersection(names)) >= self.quorum

    def committed_index(self, match: Mapping[str, int]) -> int:
        """The highest index that a majority of the voters have (0 for a voter not listed)."""
        indexes = sorted((match.get(voter, 0) for voter in self.voters), reverse=True)
        return indexes[self.quorum - 1]

    def __str__(self) -> str:
        return ",".join(sorted(self.voters))

    @classmethod
    def of(cls, names: Sequence[str]) -> MajorityConfig:
        """The set of ``names``; a name listed twice is an error, never silently merged."""
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise VotersError(f"{', '.join(duplicates)} is listed twice")
        return cls(frozenset(names))


# --8<-- [end:majority]


def parse_voters(text: str) -> MajorityConfig:
    """``n1,n2,n3`` -> the voter set; a duplicate, an empty name or an empty list is an error."""
    names = [name.strip() for name in text.split(",")]
    if names == [""]:
        raise VotersError("the list of voters is empty: name them, as in n1,n2,n3")
    if "" in names:
        raise VotersError(f"an empty name in {text!r}: separate the names with single commas")
    return MajorityConfig.of(names)


def numbered_voters(count: int) -> MajorityConfig:
    """n1, n2, ..., nCOUNT: the voters of a demo, a lab or a simulation of ``count`` nodes."""
    return MajorityConfig(frozenset(f"n{i}" for i in range(1, count + 1)))
