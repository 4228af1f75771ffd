"""``docs/benchmarks.md`` from the results: tables, plots, the machine, the commands.

The prose that explains the figures lives in :mod:`bench.analysis`; this module only lays
out what was measured, so that the page always says what the last run found.
"""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

from bench import analysis, plots, replicated_page
from bench.kv import ratios
from bench.load import percentile

OPS = ("GET", "PUT")
PLOTS = ("kv", "registry", "failover", "scaling")  # the plots this page draws


def ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.1f} ms"


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def image(figures: Path, name: str, alt: str) -> str:
    if not (figures / name).exists():
        return f"(no plot of the {alt}: matplotlib, the `bench` extra, is not installed)"
    return f"![{alt}]({figures.name}/{name})"


def commands(part: dict[str, Any]) -> str:
    return "```text\n" + "\n".join(part.get("commands", [])) + "\n```"


def machine_section(results: dict[str, Any]) -> str:
    m = results["machine"]
    rows = [
        ["date", m["date"]],
        ["mode", f"`{results['mode']}` ({results['wall']:.0f} s in all)"],
        ["machine", f"{m['cores']} cores, {m['cpu']}, {m['os']}"],
        ["Python, aiohttp", f"{m['python']}, {m['aiohttp']}"],
        ["wrk, etcd", f"{m['wrk'] or 'not installed'}; {m['etcd'] or 'not installed'}"],
        ["busy before the run", f"{m['background'] * 100:.0f}% of all cores (other tenants)"],
    ]
    for name, part in results["parts"].items():
        load = ", ".join(f"{x:.2f}" for x in part["load"])
        when = f" (measured again {part['date']})" if part.get("again") else ""
        took = f"{part['busy'] * 100:.0f}% busy, load {load}, {part['wall']:.0f} s{when}"
        rows.append([f"during `{name}`", took])
    return table(["", ""], rows)


def kv_section(kv: dict[str, Any], figures: Path) -> str:
    rows = []
    for op in OPS:
        for server in plots.SERVERS:
            runs = [r for r in kv["runs"] if r["server"] == server and r["op"] == op]
            rps = [r["rps"] for r in runs]
            rows.append(
                [
                    op,
                    server,
                    f"{statistics.median(rps):,.0f}",
                    f"{min(rps):,.0f} to {max(rps):,.0f}",
                    ms(statistics.median(r["p50"] for r in runs)),
                    ms(statistics.median(r["p99"] for r in runs)),
                    f"{statistics.median(r['cpu_us'] for r in runs):.0f} µs",
                    str(sum(r.get("errors", 0) + r.get("non2xx", 0) for r in runs)),
                ]
            )
    head = ["op", "server", "req/s (median)", "range over rounds", "p50", "p99", "CPU / req"]
    head.append("errors")
    targets = {"v1/bare": 0.9, "v2.1/bare": 0.9, "v2.1/v1": 0.95}
    ratio_rows = []
    for name, value in kv["ratios"].items():
        pair, op = name.split(" ")
        target = targets[pair]
        verdict = "met" if value >= target else "**short**"
        cpu = kv["cpu_ratios"][name]
        server, base = pair.split("/")
        each = ratios(kv["runs"], server, base, op)
        spread = f"{min(each):.2f} to {max(each):.2f}"
        row = [pair, op, f"{value:.2f}x", spread, f"{target:.2f}x", verdict, f"{cpu:.2f}x"]
        ratio_rows.append(row)
    return "\n\n".join(
        [
            table(head, rows),
            "Ratios, each the median over rounds of the ratio within a round:",
            table(
                ["servers", "op", "req/s ratio", "rounds", "target", "", "CPU per request"],
                ratio_rows,
            ),
            image(figures, "kv.png", "requests per second of each server"),
        ]
    )


def client_section(kv: dict[str, Any]) -> str:
    rows = []
    wrk = {r["op"]: r["rps"] for r in kv["clients"] if r["client"].startswith("wrk")}
    for r in kv["clients"]:
        share = f"{r['rps'] / wrk[r['op']]:.2f}x" if r["op"] in wrk else "-"
        rows.append([r["op"], r["client"], f"{r['rps']:,.0f}", ms(r["p50"]), ms(r["p99"]), share])
    return table(["op", "client", "req/s", "p50", "p99", "against wrk"], rows)


def registry_section(reg: dict[str, Any], figures: Path) -> str:
    rows = [
        ["nodes, renewing once a second", f"{reg['nodes']:,} for {reg['seconds']:g} s"],
        ["renewals answered (failed)", f"{reg['renewals']:,} ({reg['failures']})"],
        ["renewal latency p50 / p99", f"{ms(reg['renew_p50'])} / {ms(reg['renew_p99'])}"],
        [
            "the load's lateness, p50 / p99 (it kept up if small)",
            f"{ms(reg.get('lag_p50'))} / {ms(reg.get('lag_p99'))}",
        ],
        ["registry CPU", f"{reg['registry_cpu'] * 100:.0f}% of one core"],
        [
            f"`GET /nodes` at {reg['nodes']:,} entries, p50 / p99",
            f"{ms(reg['list_p50'])} / {ms(reg['list_p99'])} ({reg['list_samples']} requests)",
        ],
        [
            "last heartbeat to removal: min / median / max",
            f"{reg['expiry_min']:.2f} / {reg['expiry_median']:.2f} / {reg['expiry_max']:.2f} s "
            f"(TTL {reg['ttl']:g} s; {reg['expired']:,} nodes)",
        ],
    ]
    return table(["", ""], rows) + "\n\n" + image(figures, "registry.png", "registry at scale")


def failover_rows(trials: list[dict[str, Any]]) -> list[list[str]]:
    rows = []
    for t in trials:
        times = t["times"]
        if not times:
            continue
        rows.append(
            [
                t["system"],
                t["timing"],
                t["signal"],
                str(len(times)),
                f"{min(times):.3f}",
                f"{statistics.median(times):.3f}",
                f"{percentile(times, 95):.3f}",
                f"{max(times):.3f}",
            ]
        )
    return rows


def failover_section(results: dict[str, Any], figures: Path) -> str:
    parts = results["parts"]
    trials = parts.get("failover", {}).get("trials", []) + parts.get("etcd", {}).get("trials", [])
    head = ["system", "timing", "signal", "trials", "min s", "median s", "p95 s", "max s"]
    text = [table(head, failover_rows(trials))]
    skipped = parts.get("etcd", {}).get("skipped")
    if skipped:
        text.append(f"etcd was not measured: {skipped}.")
    if any(t["times"] for t in trials):
        text.append(image(figures, "failover.png", "failover times"))
    return "\n\n".join(text)


def scaling_section(sim: dict[str, Any], figures: Path) -> str:
    rows = [
        [
            str(r["nodes"]),
            r["algorithm"],
            str(r["elections"]),
            "-" if r["seconds"] is None else f"{r['seconds']:.3f}",
            "-" if r["messages"] is None else f"{r['messages']:,.0f}",
        ]
        for r in sim["rows"]
    ]
    speed = table(
        ["algorithm", "runs", "wall s", "runs / s"],
        [
            [s["algorithm"], str(s["trials"]), f"{s['wall']:.2f}", f"{s['per_second']:.1f}"]
            for s in sim["speed"]
        ],
    )
    head = ["nodes", "algorithm", "elections", "virtual s to a leader", "messages each"]
    return "\n\n".join(
        [
            table(head, rows),
            image(figures, "scaling.png", "election cost against cluster size"),
            "The simulator's own speed: 5 nodes, crashes, pauses and partitions:",
            speed,
        ]
    )


def idle_section(idle: dict[str, Any]) -> str:
    rows = []
    for r in idle["rows"]:
        cpu = statistics.mean(r["cpu"]) * 100
        rss = statistics.mean(r["rss"]) / 2**20
        rows.append(
            [
                r["algorithm"],
                f"{cpu:.1f}% ({', '.join(f'{c * 100:.1f}' for c in r['cpu'])})",
                f"{rss:.0f} MiB",
                f"{r['registry_cpu'] * 100:.1f}%, {r['registry_rss'] / 2**20:.0f} MiB",
                f"{r['seconds']:.0f} s",
            ]
        )
    head = ["algorithm", "CPU per node (each)", "memory per node", "registry", "measured over"]
    return table(head, rows)


def write_page(results: dict[str, Any], out: Path, figures: Path) -> None:
    parts = results["parts"]
    figures.mkdir(parents=True, exist_ok=True)
    for name in PLOTS:  # a plot from an earlier run must not pass for this one
        (figures / f"{name}.png").unlink(missing_ok=True)  # (checker.png is bench.checker's)
    if plots.available():
        if "kv" in parts:
            plots.kv_plot(parts["kv"], figures / "kv.png")
        if "registry" in parts:
            plots.registry_plot(parts["registry"], figures / "registry.png")
        trials = parts.get("failover", {}).get("trials", []) + parts.get("etcd", {}).get(
            "trials", []
        )
        if any(t["times"] for t in trials):
            plots.failover_plot(trials, figures / "failover.png")
        if "scaling" in parts:
            plots.scaling_plot(parts["scaling"]["rows"], figures / "scaling.png")
    sections = {
        "kv": ("kv", lambda: kv_section(parts["kv"], figures)),
        "client": ("kv", lambda: client_section(parts["kv"])),  # measured with the kv part
        "registry": ("registry", lambda: registry_section(parts["registry"], figures)),
        "failover": ("failover", lambda: failover_section(results, figures)),
        "scaling": ("scaling", lambda: scaling_section(parts["scaling"], figures)),
        "idle": ("idle", lambda: idle_section(parts["idle"])),
        "v3": ("v3", lambda: replicated_page.section(parts["v3"])),
    }
    filled = {"machine": machine_section(results)}
    for name, (part, render) in sections.items():
        filled[name] = render() if part in parts else "(not measured)"
    filled["commands"] = "\n\n".join(
        f"`{name}`:\n\n{commands(part)}" for name, part in parts.items()
    )
    out.write_text(analysis.render(results, filled), encoding="utf-8")
