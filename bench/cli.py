"""``python -m bench``: run the parts, keep the raw results, write the page and its plots.

``make bench`` runs it in ``full`` mode (``make bench QUICK=1``: ``quick``). It writes
``docs/benchmarks.md``, its plots in ``docs/benchmarks/`` and every raw figure in
``docs/benchmarks/results.json``; ``--render`` writes the page again from that file.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

from bench import etcd, failover, idle, kv, registry_scale, replicated, scaling
from bench.machine import Busy, load_average, stamp
from bench.page import write_page
from bench.settings import MODES, Mode

PARTS: dict[str, Callable[[Mode], dict[str, Any]]] = {
    "kv": kv.run,
    "registry": lambda m: registry_scale.run(m.registry_nodes, m.registry_seconds, m.registry_ttl),
    "failover": failover.run,
    "etcd": etcd.run,
    "scaling": scaling.run,
    "idle": idle.run,
    "v3": replicated.run,
}


def background_load(seconds: float = 1.0) -> float:
    """How busy the machine is before we start anything: the other tenants' share."""
    busy = Busy()
    time.sleep(seconds)
    return busy.share()


def _stop(signum: int, frame: FrameType | None) -> None:
    """Ctrl-C or SIGTERM: unwind every ``with Group()`` and ``finally``, ending each process.

    Raised here, not left to asyncio.run's own SIGINT handling, which cancels the running
    task and can lose the interrupt when the task finishes anyway.
    """
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise SystemExit(128 + signum)


def run(mode: Mode, parts: list[str]) -> dict[str, Any]:
    results: dict[str, Any] = {"mode": mode.name, "machine": stamp(), "parts": {}}
    results["machine"]["background"] = background_load()
    started = time.monotonic()
    for name in parts:
        print(f"bench: {name} ...", file=sys.stderr, flush=True)
        busy, load, began = Busy(), load_average(), time.monotonic()
        result = PARTS[name](mode)
        result["wall"] = time.monotonic() - began
        result["busy"] = busy.share()
        result["load"] = [load, load_average()]
        result["date"] = stamp()["date"]
        results["parts"][name] = result
        print(f"bench: {name} took {result['wall']:.0f}s", file=sys.stderr, flush=True)
    results["wall"] = time.monotonic() - started
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--mode", choices=sorted(MODES), default="full")
    parser.add_argument(
        "--parts", default=",".join(PARTS), help=f"a comma-separated subset of {','.join(PARTS)}"
    )
    parser.add_argument("--out", type=Path, default=Path("docs/benchmarks.md"), help="the page")
    parser.add_argument(
        "--render", action="store_true", help="only write the page again, from its results.json"
    )
    parser.add_argument(
        "--merge",
        action="store_true",
        help="measure only --parts again, and keep the other parts of results.json",
    )
    args = parser.parse_args(argv)
    figures = args.out.with_suffix("")  # docs/benchmarks.md -> docs/benchmarks/
    saved = figures / "results.json"
    if args.render:
        results = json.loads(saved.read_text(encoding="utf-8"))
    else:
        parts = [p for p in args.parts.split(",") if p]
        unknown = set(parts) - PARTS.keys()
        if unknown:
            parser.error(f"--parts: unknown {', '.join(sorted(unknown))}")
        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        results = run(MODES[args.mode], parts)
        if args.merge and saved.exists():
            for part in results["parts"].values():
                part["again"] = True  # the page says so
            earlier = json.loads(saved.read_text(encoding="utf-8"))
            results = {**earlier, "parts": {**earlier["parts"], **results["parts"]}}
        figures.mkdir(parents=True, exist_ok=True)
        saved.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    write_page(results, args.out, figures)
    print(f"bench: wrote {args.out} and {figures}/", file=sys.stderr)
    return 0
