"""A Lamport (space-time) diagram of a trace, as a hand-written SVG file.

One column per node, time going down, one arrow per message coloured by its type.
Leader and candidate periods are shaded on the node's line; a crash cuts the line, a
pause turns it into dashes, a partition is a band across the diagram.

Most of a run is quiet: a leader sending heartbeats. The time axis therefore has two
speeds: around anything that is not a heartbeat it is stretched (``busy_px`` pixels per
second, so a 5 ms message is a visible slant), and in between it is squeezed
(``idle_px``) and the heartbeats there are left out. The axis labels say what time it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from workbench.sim.drawing import TOP, Drawing, TimeScale, px
from workbench.sim.trace import CHATTER, Record

COLOURS = {
    "heartbeat": "#9e9e9e",
    "election": "#1f77b4",
    "answer": "#2ca02c",
    "victory": "#9467bd",
    "join": "#ff7f0e",
    "newer_term": "#8c564b",
    "request_vote": "#1f77b4",
    "vote": "#2ca02c",
    "heartbeat_ack": "#c7c7c7",
}
# The log's messages (v3.0), kept apart so that the election figures' markers stay as drawn.
LOG_COLOURS = {"append_entries": "#17becf", "append_entries_reply": "#bcbd22"}
SHADES = {"leader": "#ffd54f", "candidate": "#90caf9", "pre-candidate": "#d4e8f7"}
CRASH, PAUSE, PARTITION = "#d62728", "#fff3c4", "#f8bbd0"
LEFT, COLUMN = 90.0, 120.0


# --8<-- [start:lamport]
def lamport_svg(
    records: Sequence[Record],
    window: tuple[float, float] | None = None,
    busy_px: float = 2500.0,
    idle_px: float = 50.0,
) -> str:
    """Draw the records (those in ``window``, if given) as an SVG document."""
    header = records[0]
    nodes: list[str] = header["nodes"]
    start, end = window or (0.0, records[-1]["t"])
    shown = [r for r in records if start <= r["t"] <= end]
    busy_times = [r["t"] for r in shown if _is_busy(r)]
    scale = TimeScale(busy_times, start, end, busy_px, idle_px)
    x = {node: LEFT + COLUMN * (i + 0.5) for i, node in enumerate(nodes)}
    width, height = LEFT + COLUMN * len(nodes) + 190, scale.bottom + 30
    drawing = Drawing()
    drawing.rect(0, 0, width, height, "#ffffff")
    _draw_title_and_legend(drawing, records, start, end)
    _draw_axis(drawing, scale, width)
    _draw_periods(drawing, records, scale, x, start, end)
    _draw_messages(drawing, records, scale, x, start, end)
    for node in nodes:
        drawing.text(x[node], TOP - 12, node, ' text-anchor="middle" font-weight="bold"')
        if node in header.get("extras", {}):  # not a voter: say what it is
            kind = header["extras"][node]
            drawing.text(x[node], TOP - 1, kind, ' text-anchor="middle" font-size="10"')
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{px(width)}" height="{px(height)}" '
        f'viewBox="0 0 {px(width)} {px(height)}" font-family="sans-serif" font-size="12">\n'
        + "\n".join([*drawing.parts, *drawing.labels])
        + "\n</svg>\n"
    )


# --8<-- [end:lamport]


def _is_busy(record: Record) -> bool:
    kind = record.get("type", record.get("msg", {}).get("type"))
    return kind not in CHATTER and record["event"] not in ("start", "end", "members")


def _draw_title_and_legend(
    drawing: Drawing, records: Sequence[Record], start: float, end: float
) -> None:
    header = records[0]
    title = (
        f"{header['algorithm']} · seed {header['seed']} · {len(header['nodes'])} nodes · "
        f"{start:g} s to {end:g} s (virtual)"
    )
    drawing.text(10, 20, title, ' font-size="14" font-weight="bold"')
    sent = {r["msg"]["type"] for r in records if r["event"] == "send"}
    kinds = [(kind, colour) for kind, colour in _colours(records).items() if kind in sent]
    for i, (kind, colour) in enumerate(kinds):  # only the messages this algorithm sends
        lx = 10 + i * 100
        drawing.line(lx, 40, lx + 24, 40, colour, ' stroke-width="2"')
        drawing.text(lx + 28, 44, kind.replace("_", " "))
    roles = {r["role"] for r in records if r["event"] == "role"}
    keys = [
        (role, fill) for role, fill in SHADES.items() if role in roles or role != "pre-candidate"
    ]
    keys += [("paused", PAUSE), ("partition", PARTITION)]
    for i, (label, fill) in enumerate(keys):
        drawing.rect(10 + i * 100, 56, 24, 12, fill, ' stroke="#bbbbbb"')
        drawing.text(38 + i * 100, 66, label)
    drawing.cross(16 + len(keys) * 100, 62, 5, CRASH)
    drawing.text(26 + len(keys) * 100, 66, "crash / message lost")
    drawing.text(
        10, 88, "time goes down; stretched around events, squeezed (no heartbeats) between"
    )


def _draw_axis(drawing: Drawing, scale: TimeScale, width: float) -> None:
    last_label = -100.0
    for segment in scale.segments:
        height = (segment.end - segment.start) * segment.scale
        if not segment.busy:
            if height >= 24:  # room for a sign that time is squeezed here
                middle = segment.y + height / 2
                drawing.text(LEFT - 8, middle + 4, "≈", ' text-anchor="end" fill="#999999"')
            continue
        if segment.y - last_label >= 14:
            label = f"{segment.start:.3f} s"
            drawing.text(LEFT - 8, segment.y + 4, label, ' text-anchor="end" fill="#555555"')
            drawing.line(LEFT - 4, segment.y, width - 10, segment.y, "#eeeeee")
            last_label = segment.y


@dataclass(frozen=True)
class Period:
    node: str
    kind: str  # running, paused, leader, candidate
    start: float
    end: float
    term: int = 0


def periods(records: Sequence[Record]) -> tuple[list[Period], list[tuple[float, float, str]]]:
    """Each node's running, paused, leader and candidate periods; and the partitions."""
    end = records[-1]["t"]
    found: list[Period] = []
    absent = records[0].get("extras", {})  # extra nodes are down until they join
    status = {n: ("down" if n in absent else "running", 0.0) for n in records[0]["nodes"]}
    role: dict[str, tuple[str, float, int]] = {}
    partitions, split = [], None

    def close_role(node: str, t: float) -> None:
        if node in role and role[node][0] in SHADES:
            found.append(Period(node, role[node][0], role[node][1], t, role[node][2]))
        role.pop(node, None)

    def set_status(node: str, kind: str, t: float) -> None:
        if status[node][0] != "down":
            found.append(Period(node, status[node][0], status[node][1], t))
        status[node] = (kind, t)

    for record in records:
        event, node, t = record["event"], record.get("node", ""), record["t"]
        if event == "role":
            close_role(node, t)
            role[node] = (record["role"], t, record["term"])
        elif event == "crash":
            close_role(node, t)
            set_status(node, "down", t)
        elif event in ("restart", "resume", "join"):
            set_status(node, "running", t)
        elif event == "pause":
            set_status(node, "paused", t)
        elif event == "partition":
            split = (t, " | ".join(",".join(group) for group in record["groups"]))
        elif event == "heal" and split:
            partitions.append((split[0], t, split[1]))
            split = None
    for node in list(role):
        close_role(node, end)
    for node in status:
        set_status(node, "down", end)
    if split:
        partitions.append((split[0], end, split[1]))
    return found, partitions


def _draw_periods(
    drawing: Drawing,
    records: Sequence[Record],
    scale: TimeScale,
    x: dict[str, float],
    start: float,
    end: float,
) -> None:
    found, partitions = periods(records)
    right = LEFT + COLUMN * len(x)
    for low, high, groups in partitions:
        if high >= start and low <= end:
            top, bottom = scale.y(max(low, start)), scale.y(min(high, end))
            drawing.rect(LEFT, top, right - LEFT, bottom - top, PARTITION, ' opacity="0.45"')
            drawing.label(right + 6, top + 12, "partition", ' fill="#ad1457"')
            drawing.label(right + 6, top + 26, groups, ' fill="#ad1457"')
    for period in found:
        if period.end < start or period.start > end:
            continue
        top, bottom = scale.y(max(period.start, start)), scale.y(min(period.end, end))
        cx = x[period.node]
        if period.kind == "running":
            drawing.line(cx, top, cx, bottom, "#444444", ' stroke-width="1.5"')
        elif period.kind == "paused":
            drawing.rect(cx - 12, top, 24, bottom - top, PAUSE, ' stroke="#e0c060"')
            drawing.line(cx, top, cx, bottom, "#444444", ' stroke-dasharray="3 3"')
        elif period.kind == "leader":
            drawing.rect(cx - 7, top, 14, bottom - top, SHADES["leader"], ' opacity="0.8"')
            drawing.label(cx + 10, top + 12, f"leader, term {period.term}", ' font-size="11"')
        else:  # a candidate, or a pre-candidate asking whether it could win
            drawing.rect(cx - 4, top, 8, bottom - top, SHADES[period.kind], ' opacity="0.9"')
    for record in records:
        t, node = record["t"], record.get("node", "")
        marked = ("crash", "restart", "pause", "resume", "join")
        if not start <= t <= end or record["event"] not in marked:
            continue
        cx, y = x[node], scale.y(t)
        if record["event"] == "crash":
            drawing.cross(cx, y, 7, CRASH)
        elif record["event"] in ("restart", "join"):
            drawing.parts.append(f'<circle cx="{px(cx)}" cy="{px(y)}" r="5" fill="#2e7d32"/>')
        drawing.label(cx - 10, y + 4, record["event"], ' text-anchor="end" font-size="11"')


def _draw_messages(
    drawing: Drawing,
    records: Sequence[Record],
    scale: TimeScale,
    x: dict[str, float],
    start: float,
    end: float,
) -> None:
    markers = "".join(
        f'<marker id="to-{kind}" markerWidth="8" markerHeight="8" refX="8" refY="4" '
        f'orient="auto" markerUnits="userSpaceOnUse"><path d="M0,0 L8,4 L0,8 z" '
        f'fill="{colour}"/></marker>'
        for kind, colour in _colours(records).items()
    )
    colours = _colours(records)
    drawing.parts.append(f"<defs>{markers}</defs>")
    sent: dict[int, Record] = {}
    for record in records:
        event = record["event"]
        if event in ("send", "duplicate"):
            sent[record["id"]] = record
            continue
        if event not in ("deliver", "drop") or record["id"] not in sent:
            continue
        origin = sent.pop(record["id"])
        kind = record["type"]
        if not (start <= origin["t"] <= end or start <= record["t"] <= end):
            continue  # neither sent nor received in the window
        if kind in CHATTER and not scale.busy(origin["t"]):
            continue  # squeezed time: the heartbeats would be a grey smear
        x1, y1 = x[record["from"]], scale.y(origin["t"])
        x2, y2 = x[record["to"]], scale.y(record["t"])
        width = "1" if kind in CHATTER else "1.6"
        if event == "deliver":
            extra = f' stroke-width="{width}" marker-end="url(#to-{kind})"'
            drawing.line(x1, y1, x2, y2, colours[kind], extra)
        else:
            drawing.line(
                x1, y1, x2, y2, colours[kind], f' stroke-width="{width}" stroke-dasharray="4 3"'
            )
            drawing.cross(x2, y2, 4, CRASH)


def _colours(records: Sequence[Record]) -> dict[str, str]:
    """Each message type's colour: the elections', and the log's if this run sent any."""
    sent = {r["msg"]["type"] for r in records if r["event"] == "send"}
    return {**COLOURS, **{kind: c for kind, c in LOG_COLOURS.items() if kind in sent}}
