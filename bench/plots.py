"""The page's plots, drawn with matplotlib (the ``bench`` extra) into PNG files."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

SERVERS = ("bare", "v1", "v2.1")
OPS = ("GET", "PUT")


def available() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 9, "figure.dpi": 110, "svg.hashsalt": "ddb"})
    return plt


def kv_plot(kv: dict[str, Any], path: Path) -> None:
    """Requests per second of each server, GET and PUT: median bar, every round a dot."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 3.2))
    width = 0.26
    for i, server in enumerate(SERVERS):
        for j, op in enumerate(OPS):
            values = [r["rps"] for r in kv["runs"] if r["server"] == server and r["op"] == op]
            x = j + (i - 1) * width
            bar = ax.bar(x, statistics.median(values), width * 0.9, color=f"C{i}")
            if j == 0:
                bar.set_label(server)
            ax.plot([x] * len(values), values, "k.", markersize=4)
    ax.set_xticks(range(len(OPS)), [f"{op} /kv/bench" for op in OPS])
    ax.set_ylabel("requests / s")
    ax.set_title(f"{kv['tool']}, 64 connections, 100-byte values (dots: each round)")
    ax.legend(loc="upper right")
    fig.tight_layout()
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)


def failover_plot(trials: list[dict[str, Any]], path: Path) -> None:
    """Every trial's failover time, one row per system, timing and signal."""
    plt = _pyplot()
    rows = [t for t in trials if t["times"]]
    fig, ax = plt.subplots(figsize=(6.4, 0.42 * len(rows) + 1.0))
    labels = [f"{t['system']}, {t['timing']}, {t['signal']}" for t in rows]
    ax.boxplot([t["times"] for t in rows], vert=False, whis=(5, 95), showfliers=True, widths=0.6)
    for y, t in enumerate(rows, start=1):
        ax.plot(t["times"], [y] * len(t["times"]), "k.", markersize=3, alpha=0.5)
    ax.set_yticks(range(1, len(rows) + 1), labels)
    ax.invert_yaxis()
    ax.set_xlabel("seconds until every survivor names the same new leader")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)


def scaling_plot(rows: list[dict[str, Any]], path: Path) -> None:
    """Time to a leader and messages per election against the cluster's size."""
    plt = _pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(6.4, 2.8))
    for i, algorithm in enumerate(("bully", "quorum")):
        mine = [r for r in rows if r["algorithm"] == algorithm and r["seconds"] is not None]
        sizes = [r["nodes"] for r in mine]
        left.plot(sizes, [r["seconds"] for r in mine], "o-", color=f"C{i}", label=algorithm)
        right.plot(sizes, [r["messages"] for r in mine], "o-", color=f"C{i}", label=algorithm)
    for ax in (left, right):
        ax.set_xscale("log", base=2)
        sizes = sorted({r["nodes"] for r in rows})
        ax.set_xticks(sizes, [str(s) for s in sizes])
        ax.set_xlabel("nodes")
        ax.grid(alpha=0.3)
    right.set_yscale("log")
    left.set_ylabel("virtual seconds to a leader")
    right.set_ylabel("messages per election")
    left.legend()
    fig.tight_layout()
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)


def registry_plot(registry: dict[str, Any], path: Path) -> None:
    """Renewal latency percentiles, and last heartbeat to removal against the TTL."""
    plt = _pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(6.4, 2.8))
    quantiles = registry["latency_quantiles"]
    left.plot(range(len(quantiles)), [q * 1000 for q in quantiles], color="C0")
    left.set_xlabel("percentile")
    left.set_ylabel("renewal latency (ms)")
    left.set_yscale("log")
    left.grid(alpha=0.3)
    right.hist(registry["expiry"], bins=30, color="C1")
    right.axvline(registry["ttl"], color="k", linestyle="--", label="TTL")
    right.axvline(registry["ttl"] * 1.2, color="k", linestyle=":", label="TTL x 1.2")
    right.set_xlabel("last heartbeat to removal (s)")
    right.set_ylabel("nodes")
    right.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)
