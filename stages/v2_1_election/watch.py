"""Stage v2's cluster watch, plus what each node reports of the election.

Each look now also holds every node's answer to ``GET /cluster/status``: its role, term
and leader (None when it did not answer: dead, paused, or not started yet). Comparing two
looks at a node gives the election's events (an election started, a leader elected, a
leader stepped down), and the leadership timeline: who led, at which term, from when to
when, as the dashboard saw it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from stages.v2_registry.watch import ClusterWatch, Event, NodeSeen

CAMPAIGNING = ("candidate", "pre-candidate")


@dataclass(frozen=True)
class ElectionSeen(NodeSeen):
    """A node in one look, with its own view of the election (when it answered)."""

    role: str | None = None
    term: int | None = None
    leader: str | None = None
    voter: bool | None = None  # False: a non-voter (majority vote), which only follows


@dataclass
class Tenure:
    """One leader at one term; ``end`` is None while it lasts."""

    leader: str
    term: int
    start: float
    end: float | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


# --8<-- [start:election_watch]
class ElectionWatch(ClusterWatch):
    """The cluster watch, plus the election's events and the leadership timeline."""

    def __init__(self, max_events: int = 500, max_tenures: int = 200) -> None:
        super().__init__(max_events)
        self.timeline: list[Tenure] = []
        self._max_tenures = max_tenures
        self._said: dict[str, ElectionSeen] = {}  # each process's last answer, while it lives

    def compare(self, before: NodeSeen | None, after: NodeSeen, now: float) -> list[Event]:
        events = super().compare(before, after, now)
        assert isinstance(after, ElectionSeen)
        name, role, term = after.name, after.role, after.term
        was = self._said.get(name)
        if after.process == "dead" or (was is not None and was.pid != after.pid):
            self._end_tenure(name, now)  # that process leads no more
        if was is None or was.pid != after.pid:  # a new process has said nothing yet
            was = ElectionSeen(name, after.url, after.pid, after.process)
        if role is None:  # it did not answer (paused, dead, starting): it said nothing new
            return events
        self._said[name] = after
        if role != was.role or term != was.term:
            if role in CAMPAIGNING and role != was.role:
                text = f"{name} started an election at term {term} (as {role})"
                events.append(Event(now, name, "election", text))
            if role == "leader":
                events.append(Event(now, name, "leader", f"{name} became leader at term {term}"))
                self._begin_tenure(name, term, now)
            elif was.role == "leader":
                text = f"{name} stepped down at term {term} (now {role})"
                events.append(Event(now, name, "stepped_down", text))
                self._end_tenure(name, now)
        return events

    def timeline_json(self) -> list[dict[str, Any]]:
        return [tenure.to_json() for tenure in self.timeline]

    def _begin_tenure(self, name: str, term: int | None, now: float) -> None:
        for tenure in self.timeline:  # a leader at a higher term ends older tenures
            if tenure.end is None and (tenure.leader == name or tenure.term < (term or 0)):
                tenure.end = now
        self.timeline.append(Tenure(name, term or 0, now))
        del self.timeline[: -self._max_tenures]

    def _end_tenure(self, name: str, now: float) -> None:
        for tenure in self.timeline:
            if tenure.leader == name and tenure.end is None:
                tenure.end = now


# --8<-- [end:election_watch]
