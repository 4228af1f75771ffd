"""The pen for hand-written SVG diagrams: a time axis with two speeds, and a few shapes.

:class:`TimeScale` maps time to a vertical position, stretched around what happens and
squeezed in between; :class:`Drawing` collects SVG elements, labels last, on a white halo.
The simulator's Lamport diagrams (:mod:`workbench.sim.svg`) are drawn with them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

TOP, PAD = 120.0, 0.02  # the axis starts TOP pixels down; PAD seconds around each busy time


@dataclass(frozen=True)
class Segment:
    start: float
    end: float
    y: float  # where the segment starts on the page
    scale: float  # pixels per second
    busy: bool


# --8<-- [start:timescale]
class TimeScale:
    """Virtual time -> vertical position, fast around events and slow in between."""

    def __init__(
        self, busy_times: Sequence[float], start: float, end: float, busy_px: float, idle_px: float
    ) -> None:
        windows: list[list[float]] = []  # merged [from, to] around each busy time
        for t in sorted(busy_times):
            if windows and t - PAD <= windows[-1][1]:
                windows[-1][1] = max(windows[-1][1], t + PAD)
            else:
                windows.append([t - PAD, t + PAD])
        self.segments: list[Segment] = []
        y, cursor = TOP, start
        for low, high in [*windows, [end, end]]:
            low, high = max(low, start), min(high, end)
            if low > cursor:  # quiet time before this window
                y = self._add(cursor, low, y, idle_px, busy=False)
            if high > low:
                y = self._add(low, high, y, busy_px, busy=True)
            cursor = max(cursor, high)
        self.bottom = y

    def _add(self, start: float, end: float, y: float, scale: float, busy: bool) -> float:
        self.segments.append(Segment(start, end, y, scale, busy))
        return y + (end - start) * scale

    def y(self, t: float) -> float:
        for segment in self.segments:
            if t <= segment.end:
                return segment.y + max(t - segment.start, 0.0) * segment.scale
        return self.bottom

    def busy(self, t: float) -> bool:
        return any(s.busy and s.start <= t <= s.end for s in self.segments)


# --8<-- [end:timescale]


def px(value: float) -> str:
    """A coordinate as SVG text, to a tenth of a pixel."""
    return f"{value:.1f}"


class Drawing:
    def __init__(self) -> None:
        self.parts: list[str] = []
        self.labels: list[str] = []  # drawn last, on a white halo: arrows never hide them

    def line(
        self, x1: float, y1: float, x2: float, y2: float, colour: str, extra: str = ""
    ) -> None:
        self.parts.append(
            f'<line x1="{px(x1)}" y1="{px(y1)}" x2="{px(x2)}" y2="{px(y2)}" '
            f'stroke="{colour}"{extra}/>'
        )

    def rect(self, x: float, y: float, w: float, h: float, fill: str, extra: str = "") -> None:
        self.parts.append(
            f'<rect x="{px(x)}" y="{px(y)}" width="{px(w)}" height="{px(max(h, 1.0))}" '
            f'fill="{fill}"{extra}/>'
        )

    def text(self, x: float, y: float, words: str, extra: str = "") -> None:
        self.parts.append(f'<text x="{px(x)}" y="{px(y)}"{extra}>{escape(words)}</text>')

    def label(self, x: float, y: float, words: str, extra: str = "") -> None:
        halo = ' stroke="#ffffff" stroke-width="4" stroke-linejoin="round" paint-order="stroke"'
        self.labels.append(f'<text x="{px(x)}" y="{px(y)}"{halo}{extra}>{escape(words)}</text>')

    def cross(self, x: float, y: float, size: float, colour: str) -> None:
        self.line(x - size, y - size, x + size, y + size, colour, ' stroke-width="2"')
        self.line(x - size, y + size, x + size, y - size, colour, ' stroke-width="2"')

    def dot(self, x: float, y: float, radius: float, fill: str) -> None:
        self.parts.append(f'<circle cx="{px(x)}" cy="{px(y)}" r="{px(radius)}" fill="{fill}"/>')

    def document(self, width: float, height: float) -> str:
        """The whole SVG file: what was drawn, then the labels on top."""
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{px(width)}" height="{px(height)}" '
            f'viewBox="0 0 {px(width)} {px(height)}" font-family="sans-serif" font-size="12">\n'
            + "\n".join([*self.parts, *self.labels])
            + "\n</svg>\n"
        )
