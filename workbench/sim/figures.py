"""The figures in ``docs/figures``, made by the simulator from fixed scenarios and seeds.

``make figures`` runs ``python -m workbench.sim.figures``; a test makes them
again and compares the bytes, so the docs always show what the code does today. The
replicated log's figures (each node's log, not its messages) are drawn by
:mod:`~workbench.sim.logfigures`, called from here.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, replace
from pathlib import Path

from stages.v2_1_election.algorithms import ALGORITHMS
from workbench.sim.logfigures import write_all as write_log_figures
from workbench.sim.nemesis import node_names, parse_scenario
from workbench.sim.simulator import SimConfig, simulate
from workbench.sim.svg import lamport_svg

SCENARIOS = Path(__file__).parent / "scenarios"
DOCS_FIGURES = Path(__file__).resolve().parents[2] / "docs" / "figures"


@dataclass(frozen=True)
class Figure:
    name: str  # the file is NAME.svg
    seed: int
    duration: float
    scenario: str | None = None  # scenarios/SCENARIO.txt; None: crashes and pauses from the seed
    window: tuple[float, float] | None = None
    algorithm: str = "bully"
    durable: bool = True  # False: restarted nodes forget their vote (--forget-votes)
    nodes: int = 5  # the voters
    extras: tuple[str, ...] = ()  # extra nodes, absent until the scenario joins them
    overrides: tuple[tuple[str, bool], ...] = ()  # the algorithm's own settings
    busy_px: float = 2500.0  # pixels per virtual second where messages fly


FIGURES = (
    Figure("failover", seed=1, duration=5.0, scenario="failover"),
    Figure("split-brain", seed=1, duration=5.0, scenario="split-brain"),
    Figure("stale-election", seed=3, duration=30.0, window=(16.0, 16.8)),
    Figure("quorum-stale-leader", 1, 5.0, "stale-leader", (1.4, 2.3), algorithm="quorum"),
    Figure("bully-stale-leader", 1, 5.0, "stale-leader", (1.4, 2.3)),
    Figure("double-vote", 1, 3.0, "double-vote", (1.9, 2.9), algorithm="quorum", durable=False),
    Figure(
        "quorum-two-leaders",
        seed=49,
        duration=3.0,
        scenario="two-leaders",
        window=(0.765, 0.8),
        algorithm="quorum",
        nodes=3,
        extras=("stray", "stray"),
        overrides=(("count_voters_only", False),),  # the old count
        busy_px=16000.0,  # the whole story takes 25 ms
    ),
)


def draw(figure: Figure) -> str:
    settings = ALGORITHMS[figure.algorithm].settings(
        node_names(figure.nodes), **dict(figure.overrides)
    )
    config = SimConfig(
        nodes=figure.nodes,
        seed=figure.seed,
        duration=figure.duration,
        algorithm=figure.algorithm,
        election=settings,
        durable=figure.durable,
        extras=figure.extras,
    )
    if figure.scenario:
        text = (SCENARIOS / f"{figure.scenario}.txt").read_text(encoding="utf-8")
        names = node_names(figure.nodes + len(figure.extras))
        faults = parse_scenario(text, names, absent=names[figure.nodes :])
        config = replace(config, scenario=tuple(faults))
    else:
        config = replace(config, nemesis=(("crash", 0.1), ("pause", 0.1)))
    return lamport_svg(simulate(config).records, figure.window, busy_px=figure.busy_px)


def write_all(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for figure in FIGURES:
        path = directory / f"{figure.name}.svg"
        path.write_text(draw(figure), encoding="utf-8")
        written.append(path)
    return [*written, *write_log_figures(directory)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workbench.sim.figures", description=__doc__)
    parser.add_argument("--out", type=Path, default=DOCS_FIGURES, help="(default: docs/figures)")
    args = parser.parse_args(argv)
    for path in write_all(args.out):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
