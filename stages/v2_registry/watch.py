"""What the dashboard knows about a demo's cluster, as pure bookkeeping.

Every few hundred milliseconds the dashboard looks: at its children's processes (the
operating system's word: running, paused or dead) and at the registry's list (who is
registered, and how long ago each node's last heartbeat arrived). It hands each look to
:meth:`ClusterWatch.observe` as a list of :class:`NodeSeen`, with the time; the watch
compares it with the previous look and returns the :class:`Event`\\ s that tell what
changed. Nothing is guessed: an event is a difference between two things the processes
(or the kernel) reported. Its time is when the dashboard saw it, one look after it happened
at most.

The dashboard's own actions (kill, pause, ...) are events too, recorded by
:meth:`ClusterWatch.act`; announced first with :meth:`ClusterWatch.expect`, the change of
process state that they cause is not reported a second time.

No clock, no I/O: ``now`` is a parameter, so the tests feed it looks one by one.
"""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

MAX_EVENTS = 500  # the newest events are kept; the page shows them all


@dataclass(frozen=True)
class Event:
    at: float  # seconds since the epoch, when the dashboard saw it (or acted)
    node: str
    kind: str  # registered, expired, killed, paused, resumed, restarted, exited, ...
    text: str  # one line a person can read: "n3 became leader at term 3"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class NodeSeen:
    """One node in one look: its process, and the registry's entry for it (if any)."""

    name: str
    url: str
    pid: int
    process: str  # "running", "paused" or "dead"
    last_heartbeat_age: float | None = None  # None: the registry does not list it

    @property
    def registered(self) -> bool:
        return self.last_heartbeat_age is not None

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "registered": self.registered}


# What the dashboard's actions do to a process, and the event kind each is logged as.
ACTIONS = {
    "kill": "killed",
    "pause": "paused",
    "resume": "resumed",
    "restart": "restarted",
    "add": "added",
}
# The process state each action leads to. A restart's old process ends (politely) before
# the new one starts: a look in between sees it dead, which is no news either.
EXPECTED_PROCESS = {"kill": "dead", "pause": "paused", "resume": "running", "restart": "dead"}
SIGNALS = {"kill": "SIGKILL", "pause": "SIGSTOP", "resume": "SIGCONT"}


# --8<-- [start:watch]
class ClusterWatch:
    """The latest look at every node, and the events so far."""

    def __init__(self, max_events: int = MAX_EVENTS) -> None:
        self.nodes: dict[str, NodeSeen] = {}
        self.events: deque[Event] = deque(maxlen=max_events)
        self._expected: dict[str, str] = {}  # a process state our own action will cause
        self.count = 0  # events ever recorded, so that a reader can ask for the new ones

    def observe(self, now: float, nodes: list[NodeSeen]) -> list[Event]:
        """Take one look; return (and keep) the events it reveals."""
        new: list[Event] = []
        for node in nodes:
            new += self.compare(self.nodes.get(node.name), node, now)
            self.nodes[node.name] = node
        self._record(new)
        return new

    def since(self, count: int) -> list[Event]:
        """The events recorded after the first ``count`` (as many as are still kept)."""
        return list(self.events)[len(self.events) - min(self.count - count, len(self.events)) :]

    def _record(self, events: list[Event]) -> None:
        self.events.extend(events)
        self.count += len(events)

    def expect(self, name: str, action: str | None) -> None:
        """Before an action on ``name`` (None: it did not happen after all): the change of
        process state it causes is not news, even if a look sees it before :meth:`act`."""
        self._expected.pop(name, None)
        if action in EXPECTED_PROCESS:
            self._expected[name] = EXPECTED_PROCESS[action]

    def act(self, now: float, name: str, action: str, pid: int) -> Event:
        """Record an action of the dashboard on ``name`` (one of ``ACTIONS``), once done."""
        how = f"{SIGNALS[action]} to pid {pid}" if action in SIGNALS else f"pid {pid}"
        done = ACTIONS[action]
        event = Event(now, name, done, f"{name} {done} from the dashboard ({how})")
        self._record([event])
        return event

    def timeline_json(self) -> list[dict[str, Any]] | None:
        """The leadership timeline, for a stage that has leaders (v2 has none: None)."""
        return None

    def compare(self, before: NodeSeen | None, after: NodeSeen, now: float) -> list[Event]:
        """The events between two looks at one node (``before`` is None the first time).

        A later stage overrides this to add its own, and calls it for these.
        """
        name, events = after.name, []
        if before is None or after.pid != before.pid:
            events.append(Event(now, name, "started", f"{name} started (pid {after.pid})"))
            self._expected.pop(name, None)  # what we expected of the old process is moot
        elif after.process not in (before.process, self._expected.get(name)):
            events.append(process_change(name, before.process, after.process, now))
        if after.process == self._expected.get(name):
            del self._expected[name]
        registered_before = before is not None and before.registered
        if after.registered and not registered_before:
            events.append(Event(now, name, "registered", f"{name} registered with the registry"))
        elif registered_before and not after.registered:
            how = "deregistered" if before and before.process == "running" else "expired"
            events.append(Event(now, name, how, f"the registry no longer lists {name} ({how})"))
        return events


# --8<-- [end:watch]


def process_change(name: str, was: str, now_is: str, now: float) -> Event:
    """A change of process state the dashboard did not cause (``kill`` in a terminal)."""
    if now_is == "dead":
        return Event(now, name, "exited", f"{name} exited")
    if now_is == "paused":
        return Event(now, name, "paused", f"{name} was stopped (SIGSTOP, not from the dashboard)")
    return Event(now, name, "resumed", f"{name} runs again (it was {was})")
