"""Many seeded runs: ``ddb simulate --trials N``, on one core or several (``--jobs``).

Each trial is one seed, simulated and checked on its own (:func:`one_trial`), so trials can
run in separate processes; their results are taken in seed order, and a :class:`Report`
adds them up in that order, so the report is the same, byte for byte, whatever ``jobs`` is.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

from workbench.sim.checkers import check, longest_overlap
from workbench.sim.replay import Verdict
from workbench.sim.report import Budget, budget, claimed, faults_seen
from workbench.sim.simulator import SimConfig, simulate


@dataclass(frozen=True)
class Trial:
    """What one seed came to: its faults, the cost of its elections, and the verdicts."""

    seed: int
    faults: frozenset[str]
    budget: Budget
    overlap: float  # the longest time two leaders both acted as leader
    verdicts: tuple[Verdict, ...]


def one_trial(config: SimConfig, seed: int) -> Trial:
    records = simulate(replace(config, seed=seed)).records
    verdicts = tuple(check(records, config.election.timings()))
    return Trial(seed, frozenset(faults_seen(records)), budget(records), longest_overlap(records),
                 verdicts)  # fmt: skip


def run(
    config: SimConfig, count: int, jobs: int = 1, done: Callable[[int], None] | None = None
) -> Iterator[Trial]:
    """The trials of seeds ``config.seed`` to ``config.seed + count - 1``, in seed order;
    ``done(n)`` is told after each, for a progress line."""
    seeds = range(config.seed, config.seed + count)
    if jobs == 1:
        results: Iterator[Trial] = map(partial(one_trial, config), seeds)
        for n, trial in enumerate(results, start=1):
            yield trial
            if done is not None:
                done(n)
        return
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        chunk = max(1, min(20, count // (4 * jobs)))
        for n, trial in enumerate(pool.map(partial(one_trial, config), seeds, chunksize=chunk), 1):
            yield trial
            if done is not None:
                done(n)


@dataclass
class Report:
    """The trials added up: each property's violations, and what elections cost."""

    algorithm: str
    seeds: list[int] = field(default_factory=list)
    names: list[str] = field(default_factory=list)  # the properties, in the checkers' order
    violated: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    broken: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    overlap: tuple[float, int] | None = None  # the longest overlap, and its seed
    elections: int = 0
    messages: int = 0
    seconds: float = 0.0

    def add(self, trial: Trial) -> None:
        self.seeds.append(trial.seed)
        self.elections += trial.budget.elections
        self.messages += trial.budget.election_messages
        self.seconds += trial.budget.electing_seconds
        if self.overlap is None or trial.overlap > self.overlap[0]:
            self.overlap = (trial.overlap, trial.seed)
        for verdict in trial.verdicts:
            self.names += [verdict.name] if verdict.name not in self.names else []
            if verdict.ok is False:
                self.violated[verdict.name].append(trial.seed)
                if claimed(self.algorithm, verdict, set(trial.faults)):
                    self.broken[verdict.name].append(trial.seed)

    @property
    def promise_broken(self) -> bool:
        return any(self.broken.values())

    def text(self) -> str:
        seeds, lines = (
            self.seeds,
            [f"{len(self.seeds)} trials, seeds {self.seeds[0]} to {self.seeds[-1]}"],
        )
        for name in self.names:
            found, promised = self.violated[name], self.broken[name]
            line = f"  {name:<20} {len(found):>4} violated"
            if found:
                line += f", {len(promised)} of them where {self.algorithm} claims it"
                line += "; seeds " + ", ".join(map(str, (promised or found)[:8]))
            lines.append(line)
        overlap = self.overlap or (0.0, seeds[0])
        lines.append(f"  longest overlap of two leaders: {overlap[0]:.3f} s (seed {overlap[1]})")
        if self.elections:
            lines.append(
                f"  {self.elections} elections: {self.seconds / self.elections:.3f} s to an "
                f"agreed leader and {self.messages / self.elections:.1f} messages each, on average"
            )
        if any(self.violated.values()):
            lines.append(
                "replay one with --seed SEED (and the same other arguments), adding --svg FILE"
            )
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        overlap = self.overlap or (0.0, self.seeds[0])
        return {
            "algorithm": self.algorithm,
            "trials": len(self.seeds),
            "seeds": [self.seeds[0], self.seeds[-1]],
            "properties": {
                name: {"violated": self.violated[name], "claimed_and_broken": self.broken[name]}
                for name in self.names
            },
            "longest_overlap": {"seconds": round(overlap[0], 6), "seed": overlap[1]},
            "elections": self.elections,
            "seconds_to_agree": round(self.seconds / self.elections, 6) if self.elections else None,
            "messages_per_election": (
                round(self.messages / self.elections, 3) if self.elections else None
            ),
            "promise_broken": self.promise_broken,
        }
