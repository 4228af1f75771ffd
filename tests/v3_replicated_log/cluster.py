"""A tiny deterministic cluster of log cores for the tests: no clock, no network.

It drives each :class:`~stages.v3_replicated_log.raft.RaftCore` as a real driver would
(persist, then send, then apply, after each verb's ``ready``), keeps each node's "disk"
(the entries it was told to persist) and what it applied, queues messages in order, and
lets a test cut links, deliver one round of messages at a time, or settle.
:mod:`~.script` runs the golden transcripts on it.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass, field

from stages.v2_1_election.core import HardState, Role, Send
from stages.v2_1_election.messages import Message, RequestVote, Vote
from stages.v2_1_election.quorum_config import QuorumConfig
from stages.v3_replicated_log.messages import AppendEntries, AppendEntriesReply, Entry
from stages.v3_replicated_log.raft import RaftCore


@dataclass
class Node:
    core: RaftCore
    disk: list[Entry] = field(default_factory=list)  # what the core was told to persist
    hard: HardState = field(default_factory=HardState)  # the term and vote it was told to persist
    applied: list[Entry] = field(default_factory=list)


class Cluster:
    """Named cores, a queue of messages in flight, and the links that are cut."""

    def __init__(self, names: list[str], seed: int = 1, core: type[RaftCore] = RaftCore) -> None:
        self.names, self.seed, self.now, self.core = names, seed, 0.0, core
        self.config = QuorumConfig(tuple(names))
        self.nodes = {name: self._node(name, HardState(), []) for name in names}
        self.queue: deque[tuple[str, Send]] = deque()
        self.cut: set[frozenset[str]] = set()
        self.out: list[str] = []  # what happened since the last command, for transcripts
        self.sent: list[Send] = []  # every message any node sent, in order
        self.commits: dict[Entry, int] = {}  # each entry a leader committed: at which term

    def _node(self, name: str, state: HardState, entries: list[Entry]) -> Node:
        rng = random.Random(f"{self.seed}-{name}")
        core = self.core(name, self.config, rng, self.now, state, entries)
        core.set_peers(self.names, self.now)
        return Node(core, list(entries), state)

    def restart(self, name: str, state: HardState, entries: list[Entry]) -> None:
        """Replace a node by one restored from ``state`` and ``entries`` (a disk image)."""
        self.nodes[name] = self._node(name, state, entries)

    def crash(self, name: str) -> None:
        """Restart ``name`` from what it persisted; what was in flight to it is lost."""
        node = self.nodes[name]
        self.restart(name, node.hard, node.disk)
        self.queue = deque((sender, send) for sender, send in self.queue if send.to != name)

    # -- driving the cores, as a driver does ---------------------------------------------

    def act(self, name: str, sends: list[Send], before: tuple[Role, int]) -> None:
        node = self.nodes[name]
        core = node.core
        if (core.role, core.term) != before:
            self.out.append(f"{name} is {core.role} at term {core.term}")
        ready = core.ready(sends)
        if ready.hard_state is not None:
            node.hard = ready.hard_state
        if ready.entries and ready.entries[0].index <= len(node.disk):
            cut = ready.entries[0].index
            lost = _terms(node.disk[cut - 1 :])
            self.out.append(f"{name} replaces its entries from {cut} ({lost})")
        if ready.entries:  # persist: cut the disk, then write
            del node.disk[ready.entries[0].index - 1 :]
            node.disk.extend(ready.entries)
        for send in ready.messages:
            self.queue.append((name, send))
            self.sent.append(send)
        for entry in ready.committed:
            node.applied.append(entry)
            if core.role is Role.LEADER:
                self.commits.setdefault(entry, core.term)

    def tick(self, name: str) -> None:
        """Let time reach ``name``'s deadline and tick it."""
        core = self.nodes[name].core
        self.now = max(self.now, core.deadline)
        before = (core.role, core.term)
        self.act(name, core.tick(self.now), before)

    def propose(self, name: str, data: str) -> None:
        core = self.nodes[name].core
        self.act(name, core.propose(data, self.now), (core.role, core.term))

    def deliver(self) -> None:
        """One round: deliver what is in flight now (what it causes waits for the next)."""
        for _ in range(len(self.queue)):
            sender, send = self.queue.popleft()
            if frozenset((sender, send.to)) in self.cut:
                self.out.append(f"{sender} -> {send.to}  {describe(send.message)}  LOST")
                continue
            self.out.append(f"{sender} -> {send.to}  {describe(send.message)}")
            core = self.nodes[send.to].core
            before = (core.role, core.term)
            self.act(send.to, core.receive(send.message, self.now), before)

    def settle(self, rounds: int = 50) -> None:
        for _ in range(rounds):
            if not self.queue:
                return
            self.deliver()
        raise AssertionError(f"still busy after {rounds} rounds")

    def isolate(self, name: str) -> None:
        self.cut |= {frozenset((name, other)) for other in self.names if other != name}

    def status(self) -> list[str]:
        lines = []
        for name, node in self.nodes.items():
            core = node.core
            terms = _terms(core.log.entries) or "-"
            lines.append(
                f"{name} {core.role} term {core.term} commit {core.commit_index} log {terms}"
            )
        return lines


def _terms(entries: list[Entry]) -> str:
    return " ".join(str(entry.term) for entry in entries)


def describe(message: Message) -> str:
    """One message, as the transcripts show it."""
    kind, term = message.kind, message.term
    match message:
        case AppendEntries():
            entries = " ".join(f"{e.index}/{e.term}" for e in message.entries) or "none"
            prev, commit = f"{message.prev_index}/{message.prev_term}", message.leader_commit
            return f"{kind} term {term} prev {prev} entries {entries} commit {commit}"
        case AppendEntriesReply(success=True):
            return f"{kind} term {term} ok match {message.match_index}"
        case AppendEntriesReply():
            hint = f"conflict term {message.conflict_term} from {message.conflict_index}"
            return f"{kind} term {term} reject at {message.match_index} ({hint})"
        case RequestVote():
            pre = " pre-vote" if message.pre_vote else ""
            last = getattr(message, "last_index", 0), getattr(message, "last_term", 0)
            return f"{kind} term {term}{pre} last {last[0]}/{last[1]}"
        case Vote():
            answer = "granted" if message.granted else "refused"
            return f"{kind} term {term} {answer}{' pre-vote' if message.pre_vote else ''}"
    return f"{kind} term {term}"
