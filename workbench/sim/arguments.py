"""The argument types of ``ddb simulate``: each turns one flag's text into a value, or says
in one line what is wrong with it (argparse prints it, with the usage, and exits 2).

The simulator imports neither asyncio nor aiohttp, so these few helpers are its own rather
than v1's (whose runner module imports aiohttp).
"""

from __future__ import annotations

import argparse
import sys

from workbench.sim.extras import parse_extras
from workbench.sim.nemesis import parse_kinds
from workbench.sim.unsafe import UNSAFE


def fail(message: str) -> int:
    print(f"ddb: error: {message}", file=sys.stderr)
    return 1


def positive_int(text: str) -> int:
    if not text.isdigit() or int(text) == 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number greater than 0")
    return int(text)


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text} must be a number greater than 0")
    return value


def probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"{text} must be at least 0 and less than 1")
    return value


def window(text: str) -> tuple[float, float]:
    start, _, end = text.partition(":")
    try:
        low, high = float(start), float(end)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not START:END in seconds") from None
    if not 0 <= low < high:
        raise argparse.ArgumentTypeError(f"{text}: START must be >= 0 and before END")
    return low, high


def nemesis(text: str) -> dict[str, float]:
    try:
        return parse_kinds(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def extra_kinds(text: str) -> tuple[str, ...]:
    try:
        return parse_extras(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def unsafe_shortcuts(text: str) -> tuple[str, ...]:
    """``commit-old-term,ack-before-sync`` -> the shortcuts, each one known."""
    names = tuple(sorted({name.strip() for name in text.split(",")}))
    for name in names:
        if name not in UNSAFE:
            raise argparse.ArgumentTypeError(
                f"unknown shortcut {name!r}; known: {', '.join(UNSAFE)}"
            )
    return names


DEFAULT_EXTRAS = ("learner", "stray")  # what --nemesis extra-nodes adds, unless --extras
