"""The page's v3.0 section: the replicated log side by side with etcd, and its start-up.

The tables are read from the ``v3`` part's results (:mod:`bench.replicated`); the profile
below them was taken by hand (the commands are on the page), as part 1's was.
"""

from __future__ import annotations

import statistics
from typing import Any

from bench.kv import SCRIPT, wrk_command
from bench.procs import shown as command_line
from bench.replicated import FIGURES, Etcd, Ours

OURS, ETCD = "v3.0", "etcd"

PROFILE_ROWS = [
    ("socket writes to the followers (AppendEntries, a WebSocket frame each)", "16%"),
    ("socket writes to the clients (the responses)", "4%"),
    ("aiohttp: parsing, routing and responding; framing the messages to the followers", "18%"),
    ("asyncio: tasks, futures, callbacks, handing each save to the thread", "12%"),
    ("waiting in `epoll` (the core is shared with the followers)", "10%"),
    ("JSON: the messages to the followers, the log's commands, error bodies", "11%"),
    ("our handlers, middlewares and driver", "12%"),
    ("the write-ahead log's thread: encoding a record, `write`, `fsync`", "12%"),
    ("the Raft core and the key/value state machine", "2%"),
    ("the interpreter's own (building objects, weak references)", "3%"),
]
PROFILE = "\n".join(
    ["| where a sample of the leader was | share |", "|---|---|"]
    + [f"| {what} | {share} |" for what, share in PROFILE_ROWS]
)


def runs_of(part: dict[str, Any], system: str, figure: str) -> list[dict[str, Any]]:
    return [r for r in part["runs"] if r["system"] == system and r["figure"] == figure]


def median(part: dict[str, Any], system: str, figure: str, key: str) -> float | None:
    runs = runs_of(part, system, figure)
    return statistics.median(r[key] for r in runs) if runs else None


def ratio(part: dict[str, Any], figure: str, key: str) -> str:
    """Ours over etcd's, the median of the ratios within each round."""
    ours = {r["round"]: r[key] for r in runs_of(part, OURS, figure)}
    theirs = {r["round"]: r[key] for r in runs_of(part, ETCD, figure)}
    each = [ours[n] / theirs[n] for n in ours if theirs.get(n)]
    return f"{statistics.median(each):.2f}x" if each else "-"


def shown(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "ms":
        return f"{value * 1000:.1f} ms"
    if unit == "µs":
        return f"{value:,.0f} µs"
    return f"{value:,.0f}"


def kills(part: dict[str, Any], system: str, key: str) -> str:
    trials = part["kills"].get(system, [])
    if not trials:
        return "-"
    times = [t[key] for t in trials]
    text = f"{statistics.median(times):.2f} s ({min(times):.2f} to {max(times):.2f}, {len(times)})"
    if key == "restart":
        text += f", at index {statistics.median(t['log'] for t in trials):,.0f}"
    return text


def restart(part: dict[str, Any], system: str) -> str:
    trials = part["kills"].get(system, [])
    return f"{statistics.median(t['restart'] for t in trials):.2f} s" if trials else "-"


def kill_ratio(part: dict[str, Any], key: str) -> str:
    ours, theirs = part["kills"].get(OURS, []), part["kills"].get(ETCD, [])
    if not ours or not theirs:
        return "-"
    mine, etcd = (statistics.median(t[key] for t in trials) for trials in (ours, theirs))
    return f"{mine / etcd:.2f}x"


ROWS = [  # label, figure, key, unit
    ("put latency, 1 connection: median", "put 1", "p50", "ms"),
    ("put latency, 1 connection: p99", "put 1", "p99", "ms"),
    ("puts a second, 64 connections", "put 64", "rps", ""),
    ("linearizable reads a second, 64 connections", "read 64", "rps", ""),
    ("stale (etcd: serializable) reads a second, 64 connections", "stale 64", "rps", ""),
    ("CPU per put at 64 connections: the leader", "put 64", "leader_cpu_us", "µs"),
    ("CPU per put at 64 connections: all 3 members", "put 64", "cluster_cpu_us", "µs"),
    ("CPU per linearizable read: the leader", "read 64", "leader_cpu_us", "µs"),
]


def side_by_side(part: dict[str, Any]) -> str:
    lines = ["| | v3.0 | etcd | v3.0 / etcd |", "|---|---|---|---|"]
    for label, figure, key, unit in ROWS:
        ours, theirs = median(part, OURS, figure, key), median(part, ETCD, figure, key)
        lines.append(
            f"| {label} | {shown(ours, unit)} | {shown(theirs, unit)} | "
            f"{ratio(part, figure, key)} |"
        )
    for label, key in (
        ("`kill -9` of the leader to the first acknowledged write", "failover"),
        ("the killed member's restart to serving that write", "restart"),
    ):
        lines.append(
            f"| {label} | {kills(part, OURS, key)} | {kills(part, ETCD, key)} | "
            f"{kill_ratio(part, key)} |"
        )
    return "\n".join(lines)


def recovery_table(part: dict[str, Any]) -> str:
    """Ours against the log's length; etcd's beside it when it was measured."""
    rows = part["recovery"]
    empty = min(rows[0]["times"])
    theirs = all("etcd" in row for row in rows)
    lines = [
        "| entries in the log | log file | start-up to serving the last key | beyond an empty "
        "log | per 1,000 entries |" + (" etcd's start-up |" if theirs else ""),
        "|---|---|---|---|---|" + ("---|" if theirs else ""),
    ]
    for row in rows:
        took = min(row["times"])
        extra = took - empty
        each = f"{extra / row['entries'] * 1e6:.0f} ms" if row["entries"] and extra > 0 else "-"
        line = (
            f"| {row['entries']:,} | {row['bytes'] / 2**20:.1f} MiB | {took:.2f} s | "
            f"{extra:+.2f} s | {each} |"
        )
        if theirs:
            line += f" {min(row['etcd']['times']):.2f} s |"
        lines.append(line)
    return "\n".join(lines)


def load_commands(part: dict[str, Any]) -> str:
    """The loads as wrk runs them, against each system's leader (its client URL)."""
    if part["tool"] != "wrk":
        return ""
    seconds = part["runs"][0]["seconds"]
    lines = []
    for system in (Ours, Etcd):
        for op, connections in FIGURES:
            method, path, body = system.ops[op]
            argv = wrk_command(f"{system.__name__.upper()}_LEADER", seconds, connections, path)
            wrk = command_line(argv).replace(str(SCRIPT), "bench/kv.lua")
            lines.append(f"WRK_METHOD={method} " + (f"WRK_BODY='{body}' " if body else "") + wrk)
    return "The loads, as `wrk` ran them:\n\n```text\n" + "\n".join(lines) + "\n```\n"


def errors(part: dict[str, Any]) -> int:
    return sum(r.get("errors", 0) + r.get("non2xx", 0) for r in part["runs"])


def section(part: dict[str, Any]) -> str:
    skipped = part["etcd_skipped"]
    etcd_note = f"\n\netcd was not measured: {skipped}." if skipped else ""
    rounds = len({r["round"] for r in part["runs"]})
    bound, cpu = "", median(part, OURS, "put 64", "cluster_cpu_us")
    puts = median(part, OURS, "put 64", "rps")
    if cpu and puts:
        bound = (
            f" Our three members spent {cpu:,.0f} µs of CPU per put between them: one core "
            f"has room for {1e6 / cpu:,.0f} such puts a second, and they committed {puts:,.0f}."
        )
    odd = ""
    stale, read = (median(part, ETCD, figure, "rps") for figure in ("stale 64", "read 64"))
    if stale is not None and read is not None and stale < 0.9 * read:  # beyond the noise
        odd = (
            "\n\netcd's serializable range measured slower than its linearizable one here; "
            "etcd's own benchmarks met the same against one member (etcd-io/etcd issues 5463 "
            "and 6954). We did not look further."
        )
    etcd_restart = ""
    if part["kills"].get(ETCD):
        etcd_restart = f" etcd, one Go binary, served again in {restart(part, ETCD)}."
    starts = len(part["recovery"][0]["times"])
    empty = min(part["recovery"][0]["times"])
    etcd_replay = ""
    if all("etcd" in row for row in part["recovery"]):
        etcd_replay = """

etcd's column: one member alone sent as many 100-byte puts over the same keys (each
one entry of its log), stopped, and started again on its data until a serializable range
returns the last key. etcd keeps the applied key/value state on disk (bbolt) beside its
write-ahead log, so a restart replays only the entries after the last state it saved, and
it snapshots every 100,000 entries (`--snapshot-count`): its start-up does not grow with the
log, and varies more from one start to the next than from one length to the next. Much of
it is an election: a member serves once it has published itself through its own log, which
needs a leader, even alone (its election timeout is 1 s). Ours rebuilds the whole state from
the whole log on every start; snapshots are what would cap it (the v3.0 node page, "What
still goes wrong")."""
    return f"""\
Load with `{part["tool"]}`, {rounds} round(s) of every figure on both systems; each ratio is
the median over rounds of the ratio within a round; the kill rows give the median, the range
and the number of trials. {errors(part)} requests failed.

{side_by_side(part)}{etcd_note}{odd}

{load_commands(part)}
What each figure means:

- **put latency, 1 connection**: one client, each put sent when the last was answered, to
  the leader. A put is answered once a majority has it on disk and the leader applied it.
  Ours persists, then sends: the leader's fsync, then a follower's, one after the other,
  and an HTTP round trip between. etcd's leader sends its entries while it syncs them (the
  Raft thesis, 10.2.1), so one fsync's wait less. So it measures the disk and the path
  through the code, not throughput.
- **puts a second, 64 connections**: how many puts the cluster commits when many arrive at
  once; the leader saves them in batches (one record and one fsync per batch, and one
  AppendEntries to each follower per batch), so the disk is no longer the limit, the CPU is.
- **linearizable reads**: ours by ReadIndex (the leader confirms it still leads with a round
  of heartbeats, then answers from its state once applied that far); etcd's default range
  does the same (etcd's ReadIndex). **stale reads** skip the confirmation: ours
  `?consistency=stale`, etcd's `serializable` range: each member's own applied state.
- **CPU per put**: the CPU time, from `/proc`, that the leader (and the three members
  together) spent per request in that run: what a put costs, less sensitive than the wall
  clock to the neighbours on this shared machine.
- **`kill -9` of the leader to the first acknowledged write**: from the `SIGKILL` to the first
  put that a survivor answers with success (a follower sends ours to the leader with a 307;
  etcd forwards it). The client sends a new attempt to each survivor every 10 ms, without
  waiting for the earlier ones: an etcd member without a leader drops the proposal and holds
  the request until the client gives up (after 1 s here); ours answers at once (a 307 to
  the dead leader, refused, or a 503 while there is none). It is
  dominated by the election timeout (1 s for both here, randomised up to 2 s), as part 4's
  failover is.
- **restart to serving that write**: the killed member started again on its data, until a
  stale read from it returns the write made while it was down: its start-up, the replay of
  its log, rejoining and catching up from the new leader. The index is the log's length.

### Recovery against the log's length

A node started on a log of N entries, written beforehand by the stage's own write-ahead log
as a leader writes it (100-byte puts, 64 entries and one fsync per record), timed until it
serves the last key; an empty log gives the start-up every size pays (Python and aiohttp
being imported, the node joining). Each row is the fastest of {starts} start-up(s), the one the
neighbours on this machine disturbed least.

{recovery_table(part)}{etcd_replay}

What a longer log adds is its replay: reading the file, checking each record's CRC,
decoding its JSON, and applying the committed puts to the key/value state; it grows with the
entries, as the last column says. Our restart after a `kill -9` above (median
{restart(part, OURS)}) is mostly the start-up an empty log pays, {empty:.2f} s here: Python
and aiohttp being imported.{etcd_restart}

### Where the leader's CPU goes

On this machine the members of both clusters share one core, so under 64 connections a put
is bound by CPU, not by the disk (the batches amortise the fsync) nor by the algorithm (a
put is one proposal, one AppendEntries per follower per batch, one commit).{bound} A profile of the
v3.0 leader under the 64-connection put load, sampled with `py-spy` for 15 s (about 2,800
samples, the commands below), put its time here:

{PROFILE}

So a fifth of the leader's CPU is the kernel's loopback TCP, inside `send`, and most of that
is the AppendEntries to the followers, each a frame on the WebSocket kept open to that
follower: the leader writes more to its followers than it answers its clients. (Until
2026-12-06 each AppendEntries was an HTTP request of its own, with its headers and a JSON
reply, and `send` took a third of the CPU; the CPU a put cost the three members went from
502 to 422 µs with the stream.) aiohttp and asyncio in Python are another third, JSON a
tenth. The algorithm (the Raft core, the state machine) and the fsync are small: the disk
waits happen in a thread, off the event loop. etcd does the same work in Go, with the same
design (one long-lived stream of messages per follower, its `rafthttp`); what would close
more of the gap for us is fewer, fuller frames to the followers (more entries in each),
then the JSON, not the log or the election.

```text
py-spy record --pid PID --duration 15 --rate 250 --format raw --threads --nonblocking -o v3.txt
WRK_METHOD=PUT wrk -t2 -c64 -d16s -s bench/kv.lua http://LEADER/kv/bench
```
"""
