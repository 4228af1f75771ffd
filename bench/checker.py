"""The checker's speed: operations checked per second, against history size and concurrency.

Each history is one a correct register produced (:mod:`workbench.history.synthetic`): a
real workload's shape, linearizable by construction, so the search has to place every
operation. The baseline, in the same process, is reading the same history (parsing each
line and pairing calls with returns): the ratio says what checking adds to merely reading.

    python -m bench.checker            # the page's table and plot (about a minute)
    python -m bench.checker --quick    # smaller histories, a few seconds
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from workbench.history.checker import check, read_history
from workbench.history.synthetic import valid_history

SIZES = (1_000, 3_000, 10_000, 30_000)
CLIENTS = (2, 5, 10, 20)
KEYS = 10
FIGURE = Path(__file__).resolve().parent.parent / "docs" / "benchmarks" / "checker.png"


def measure(operations: int, clients: int, keys: int = KEYS, seed: int = 1) -> dict[str, Any]:
    history = valid_history(operations, keys=keys, clients=clients, seed=seed)
    started = time.perf_counter()
    ops = read_history(history)
    read = time.perf_counter() - started
    started = time.perf_counter()
    verdict = check(ops)
    checked = time.perf_counter() - started
    assert verdict.linearizable is True, "a correct register's history must be linearizable"
    return {
        "operations": len(ops), "clients": clients, "keys": keys, "read": read,
        "check": checked, "per_second": len(ops) / checked,
        "steps": sum(k.steps for k in verdict.keys),
    }  # fmt: skip


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| operations | clients | check s | operations / s | steps per operation | check / read |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['operations']:,} | {r['clients']} | {r['check']:.3f} | {r['per_second']:,.0f} "
            f"| {r['steps'] / r['operations']:.2f} | {r['check'] / r['read']:.2f} |"
        )
    return "\n".join(lines)


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 9, "figure.dpi": 110})
    fig, ax = plt.subplots(figsize=(6.4, 3.2))
    for clients in sorted({r["clients"] for r in rows}):
        mine = [r for r in rows if r["clients"] == clients]
        ax.plot([r["operations"] for r in mine], [r["per_second"] for r in mine], "o-",
                label=f"{clients} clients")  # fmt: skip
    ax.set_xscale("log")
    ax.set_xlabel(f"operations in the history ({KEYS} keys)")
    ax.set_ylabel("operations checked / s")
    ax.set_ylim(bottom=0)
    ax.set_title("ddb check on a correct register's histories")
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.checker", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="histories up to 3,000 operations")
    parser.add_argument("--plot", type=Path, default=FIGURE, help="(default: %(default)s)")
    args = parser.parse_args(argv)
    sizes = SIZES[:2] if args.quick else SIZES
    rows = []
    for clients in CLIENTS:
        for size in sizes:
            print(f"bench: checker, {size} operations, {clients} clients", file=sys.stderr)
            rows.append(measure(size, clients))
    print(table(rows))
    plot(rows, args.plot)
    print(f"\nplot: {args.plot}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
