"""The replicated log's figures: every node's log at a few instants of a simulated run.

A Lamport diagram (:mod:`~workbench.sim.svg`) draws messages; what a log's shortcut breaks
is in the logs. Each panel here is the cluster at one instant of the trace: a row per
node, a box per entry (its term, coloured by term, and its command: ``c1.36`` or
``no-op``), a thick border on the entries that node has applied, its role and term, and
the partition in force. The entries come from the trace's ``restored``, ``log`` and
``apply`` records, as the checkers read them (:mod:`~workbench.sim.logchecks`).

``make figures`` draws them with the election's (:mod:`~workbench.sim.figures`), and the
same test compares the bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from workbench.sim.drawing import Drawing
from workbench.sim.nemesis import node_names, parse_scenario
from workbench.sim.network import NetworkConfig
from workbench.sim.simulator import SimConfig, simulate
from workbench.sim.trace import Record

SCENARIOS = Path(__file__).parent / "scenarios"
RANDOM = (("crash", 0.1), ("partition", 0.05), ("pause", 0.1))  # the acceptance run's faults
TERMS = ("#e3f2fd", "#fff3e0", "#e8f5e9", "#fce4ec", "#ede7f6", "#e0f7fa", "#f9fbe7")
LEFT, BOX, GAP, ROW = 60.0, 50.0, 4.0, 40.0


@dataclass(frozen=True)
class LogFigure:
    name: str  # the file is NAME.svg
    seed: int
    duration: float
    moments: tuple[float, ...]  # one panel each: the cluster once everything at t happened
    indexes: tuple[int, int]  # the first and the last index drawn
    nodes: int = 5
    scenario: str | None = None  # scenarios/SCENARIO.txt; None: the acceptance run's faults
    lossy: bool = True  # with random faults: --drop 0.05 --duplicate 0.05
    unsafe: tuple[str, ...] = ()
    mark: int | None = None  # an index to outline in red: the one the checkers name
    acked: bool = False  # say what each follower acknowledged (as "synced before sent" counts)


LOG_FIGURES = (
    LogFigure(
        "raft-figure-8",
        seed=1,
        duration=8.0,
        moments=(3.599, 3.668, 5.414, 6.75),
        indexes=(108, 113),
        nodes=3,
        scenario="figure-8",
        unsafe=("commit-old-term",),
        mark=110,
    ),
    LogFigure(
        "raft-no-log-check-on-vote",
        seed=12,
        duration=20.0,
        moments=(12.6, 12.649, 12.67),
        indexes=(359, 364),
        unsafe=("no-log-check-on-vote",),
        mark=362,
    ),
    LogFigure(
        "raft-ack-before-sync",
        seed=24,
        duration=10.0,
        moments=(2.4135, 5.056),
        indexes=(106, 111),
        unsafe=("ack-before-sync",),
        mark=110,
        acked=True,
    ),
)


@dataclass
class NodeState:
    entries: list[tuple[int, str]] = field(default_factory=list)  # (term, command) per index
    applied: int = 0
    acked: int = 0  # the entries it told a leader it stores (as the checker counts them)
    role: str = "follower"
    term: int = 0
    status: str = ""  # "down", "paused" or ""


def states_at(records: Sequence[Record], t: float) -> tuple[dict[str, NodeState], str]:
    """Every node's log, applied index and role once all records at ``t`` or before
    happened; and the partition then in force (``""``: none)."""
    states = {name: NodeState() for name in records[0]["nodes"]}
    partition = ""
    for record in records:
        if record["t"] > t:
            break
        event, state = record["event"], states.get(record.get("node", record.get("from", "")))
        if event == "partition":
            partition = " | ".join(",".join(group) for group in record["groups"])
        elif event == "heal":
            partition = ""
        if state is None:
            continue
        if event == "restored":  # a start: the disk's entries, applied again from the first
            state.entries = [(term, id) for term, id in record["entries"]]
            state.applied, state.status = 0, ""
        elif event == "log":
            state.acked = min(state.acked, record["from"] - 1)  # a cut: no longer promised
            del state.entries[record["from"] - 1 :]
            state.entries.extend((term, id) for term, id in record["entries"])
        elif event == "apply":
            state.applied = record["from"] + len(record["entries"]) - 1
        elif event == "role":
            state.role, state.term = record["role"], record["term"]
        elif event == "send" and record["msg"]["type"] == "append_entries_reply":
            if record["msg"]["success"]:
                state.acked = max(state.acked, record["msg"]["match_index"])
        elif event in ("crash", "pause"):
            state.status = "down" if event == "crash" else "paused"
        elif event == "resume":
            state.status = ""
    return states, partition


def log_svg(
    records: Sequence[Record],
    moments: Sequence[float],
    indexes: tuple[int, int],
    mark: int | None = None,
    acked: bool = False,
) -> str:
    header = records[0]
    first, last = indexes
    count = last - first + 1
    width = LEFT + count * (BOX + GAP) + 170
    panel = 34 + len(header["nodes"]) * ROW + 16
    drawing = Drawing()
    height = 64 + panel * len(moments)
    drawing.rect(0, 0, width, height, "#ffffff")
    unsafe = " · --unsafe " + ",".join(header["unsafe"]) if header.get("unsafe") else ""
    title = f"{header['algorithm']} · seed {header['seed']}{unsafe}"
    drawing.text(10, 20, title, ' font-size="14" font-weight="bold"')
    drawing.text(10, 40, "each box: an entry, its term and its command; thick border: applied")
    drawing.text(
        10, 56, "by that node" + ("; red outline: the index the checkers name" if mark else "")
    )
    for number, t in enumerate(moments):
        top = 64 + number * panel
        states, partition = states_at(records, t)
        caption = f"({chr(ord('a') + number)}) at {t:.4f} s"
        if partition:
            caption += f" · partition {partition}"
        drawing.text(10, top + 18, caption, ' font-weight="bold"')
        for i in range(count):
            x = LEFT + i * (BOX + GAP)
            drawing.text(
                x + BOX / 2, top + 32, str(first + i), ' text-anchor="middle" fill="#777777"'
            )
        for row, (name, state) in enumerate(states.items()):
            _draw_row(drawing, name, state, top + 38 + row * ROW, indexes, mark, acked)
    return drawing.document(width, height)


def _draw_row(
    drawing: Drawing,
    name: str,
    state: NodeState,
    y: float,
    indexes: tuple[int, int],
    mark: int | None,
    acked: bool,
) -> None:
    first, last = indexes
    faded = ' opacity="0.45"' if state.status == "down" else ""
    drawing.text(10, y + 20, name, ' font-weight="bold"')
    for index in range(first, last + 1):
        x = LEFT + (index - first) * (BOX + GAP)
        outline = ' stroke="#d62728" stroke-width="1"' if index == mark else ' stroke="#dddddd"'
        if index > len(state.entries):
            drawing.rect(x, y, BOX, BOX * 0.6, "none", outline + ' stroke-dasharray="3,3"')
            continue
        term, id = state.entries[index - 1]
        applied = index <= state.applied
        border = ' stroke="#222222" stroke-width="3"' if applied else outline
        drawing.rect(x, y, BOX, BOX * 0.6, TERMS[term % len(TERMS)], border + faded)
        drawing.text(x + BOX / 2, y + 13, f"term {term}", ' text-anchor="middle" font-size="10"')
        drawing.text(x + BOX / 2, y + 26, id, ' text-anchor="middle" font-size="10"')
    where = LEFT + (last - first + 1) * (BOX + GAP) + 6
    role = state.status or f"{state.role}, term {state.term}"
    drawing.text(where, y + 13, role, ' font-weight="bold"' if state.role == "leader" else "")
    if state.status == "down":
        return  # what it held in memory is gone; its disk is what a restart finds
    ends = f"last {len(state.entries)}, applied {state.applied}"
    if acked and state.acked and state.role != "leader":
        ends += f", acked {state.acked}"
    drawing.text(where, y + 27, ends, ' font-size="10" fill="#555555"')


def draw(figure: LogFigure) -> str:
    names = node_names(figure.nodes)
    config = SimConfig(
        nodes=figure.nodes,
        seed=figure.seed,
        duration=figure.duration,
        algorithm="raft",
        unsafe=figure.unsafe,
    )
    if figure.scenario:
        text = (SCENARIOS / f"{figure.scenario}.txt").read_text(encoding="utf-8")
        config = replace(config, scenario=tuple(parse_scenario(text, names)))
    else:
        network = NetworkConfig(drop=0.05, duplicate=0.05) if figure.lossy else NetworkConfig()
        config = replace(config, nemesis=RANDOM, network=network)
    records = simulate(config).records
    return log_svg(records, figure.moments, figure.indexes, figure.mark, figure.acked)


def write_all(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for figure in LOG_FIGURES:
        path = directory / f"{figure.name}.svg"
        path.write_text(draw(figure), encoding="utf-8")
        written.append(path)
    return written
