"""The words of ``docs/benchmarks.md`` around the measured tables.

What is said here holds whatever a run measures (what each cost is made of, and what
would change it); every figure quoted in the sentences is read from the results.
"""

from __future__ import annotations

import statistics
from typing import Any

PROFILE_ROWS = [
    (
        "reading the body, `_read_value`",
        "56 µs",
        "an async iterator over 64 KiB chunks asked the stream twice (for the body, then to "
        "learn that it had ended), and the `413` error, an f-string, was built every time",
    ),
    ("the JSON reply, `web.json_response`", "32 µs", "the same in the bare app"),
    (
        "the key: `_key`, and `validate_key` twice (the handler's check and the store's)",
        "20 µs",
        "`unicodedata.category` on every character of the key, twice",
    ),
    (
        "the middlewares, `json_errors` and `json_ends_with_newline`",
        "7 µs",
        "a coroutine each around every handler; the newline costs one copy of a JSON body",
    ),
]
PROFILE_TABLE = "\n".join(
    ["| per PUT, before the fixes | time | what it was |", "|---|---|---|"]
    + [f"| {a} | {b} | {c} |" for a, b, c in PROFILE_ROWS]
)
PROFILE = f"""\
Profiling the v1 server under `wrk` PUT load with cProfile (the commands below), on this
machine, showed where a PUT spent its time in our code, per request (a profiler slows
everything alike, so compare the rows, do not quote them):

{PROFILE_TABLE}

The fixes (in `stages/v1_kv`, every check as it was): the body is complete once the
`Content-Length` bytes are in, so one read does; the error is built only when raised; one
regular expression finds the 65 control characters (`validate_key("bench")` went from
1.45 to 0.83 µs, and a 46-character key from 8.1 to 0.95 µs); the percent-escape check runs
only when the key has a `%`. What is left against the bare app is the two middlewares around
every request and the validation itself, what the v1 server is for: the CPU ratio above says
what they cost, and it is more than the 0.9x target allows. Most of a request, in both
servers, is aiohttp: parsing, routing, the response, the writes.
"""


def ratio(results: dict[str, Any], name: str) -> str:
    value = results["parts"].get("kv", {}).get("ratios", {}).get(name)
    return "-" if value is None else f"{value:.2f}x"


def cpu(results: dict[str, Any], name: str) -> str:
    value = results["parts"].get("kv", {}).get("cpu_ratios", {}).get(name)
    return "-" if value is None else f"{value:.2f}x"


def _failover_median(results: dict[str, Any], system: str, timing: str, sig: str) -> str:
    trials = results["parts"].get("failover", {}).get("trials", []) + results["parts"].get(
        "etcd", {}
    ).get("trials", [])
    for t in trials:
        if (t["system"], t["timing"], t["signal"]) == (system, timing, sig) and t["times"]:
            return f"{statistics.median(t['times']):.2f} s"
    return "(not measured in this run)"


def render(results: dict[str, Any], s: dict[str, str]) -> str:
    r = results
    bully_kill = _failover_median(r, "bully", "defaults", "SIGKILL")
    bully_term = _failover_median(r, "bully", "defaults", "SIGTERM")
    return f"""# Benchmarks

What does it cost, this teaching database? What HTTP and Python cost against the bare
framework, how long a failover takes against a production system, how each election
algorithm grows with the cluster, and what the replicated log costs against etcd. The
machine these figures come from is small and shared, so every figure is a ratio against a
baseline measured in the same run, or a distribution over many trials; none is a promise
about another machine.

This page is written by the benchmark itself (`bench/`), tables and plots included:

```console
$ make bench
$ make bench QUICK=1
```

`make bench` installs what it needs (`wrk` and Debian's `etcd-server` with `apt-get` when they
are missing, matplotlib from the `bench` extra), runs every part (under 15 minutes on two cores)
and writes this page, its plots in `docs/benchmarks/`, and every raw figure in
`docs/benchmarks/results.json`. `make bench QUICK=1` does a short version (about three minutes:
fewer rounds and trials, the default timings only). A test runs the harness in a tiny mode
(`tests/test_bench.py`), so that it cannot rot.

## The machine, and how noisy it was

{s["machine"]}

The machine is shared: other work runs beside the benchmark, and the "busy" lines above count
all of it. So each server under load is pinned to core 0 with `taskset` and its load to core
1; every server and operation is measured once per round, in an order that rotates from round
to round, and a ratio is taken between two runs of the same round. The range over rounds in the
first table says how much a single run can be trusted.

## 1. Key/value throughput and latency

`wrk` sends GET and PUT requests of one 100-byte value over 64 connections to three servers:
the v1 server, a v2.1 node's `/kv` (it runs the election and heartbeats to its registry
meanwhile) and a bare aiohttp app with the same routes and the same response bodies, but no
validation, no size limit of its own, no middleware and no JSON errors:

```python
--8<-- "bench/bare.py:bare_handlers"
```

{s["kv"]}

The targets: the v1 server at 0.9x of the bare app or better, and the v2.1 node at 0.95x of
the v1 server or better (the election must not tax the data path). This run: v1 against bare
{ratio(r, "v1/bare GET")} on GET and {ratio(r, "v1/bare PUT")} on PUT; the v2.1 node against
v1 {ratio(r, "v2.1/v1 GET")} and {ratio(r, "v2.1/v1 PUT")}. Read them with the "rounds"
column: on a machine this busy, one round's ratio can land far from the next, and a median
of a few rounds moves by more than the 0.05 between a target met and missed. The CPU each
server spent per request (read from `/proc`, so time spent waiting for the core is left out)
moves much less: it says what the validation and middlewares cost, {cpu(r, "v1/bare GET")} and
{cpu(r, "v1/bare PUT")} of the bare app's CPU on GET and PUT. Where the server's core is the
bottleneck, as here, its requests per second against the bare app tend to the inverse of that.

The v2.1 node serves `/kv` with the v1 server's own code: the same handlers and middlewares,
and no token check here, since it runs without one. What it spends beyond them is the rest of
its process, on the same core as the requests: its election loop, which sleeps until its
core's next deadline, and its renewals with the registry (alone in its cluster, it has no peers
to send heartbeats to). That is less than part 6 measures for a node at rest, about a percent
of a core, and spread over a few thousand requests a second it comes to the
{cpu(r, "v2.1/v1 GET")} and {cpu(r, "v2.1/v1 PUT")} of the v1 server's CPU per request above.

### Where the time goes

Before this page existed, the v1 server did 0.91x on GET and 0.84x on PUT, measured by hand.
{PROFILE}
The body, as the v1 server reads it now (a fix to an earlier stage, in the changelog):

```python
--8<-- "stages/v1_kv/server.py:read_value"
```

To profile it yourself, run the server under cProfile, load it with `wrk` from another
terminal, and stop it with Ctrl-C (it then writes the profile):

```text
python -m cProfile -o v1.prof -m stages.v1_kv --port 9200
WRK_METHOD=PUT wrk -t2 -c64 -d5s -s bench/kv.lua http://127.0.0.1:9200/kv/bench
python -c "import pstats; pstats.Stats('v1.prof').sort_stats('tottime').print_stats(20)"
```

## 2. The project's client

`KVClient` (`stages/v1_kv/client.py`) is written to be read, not to be fast: a request builds a
URL, checks the status and decodes errors. Here it loads the v1 server from a process of its
own on core 1, with one task (each request waits for the last) and with 64 tasks sharing its
one session, against `wrk` on the same server:

```python
--8<-- "bench/load.py:client_load"
```

{s["client"]}

One task measures a round trip, not the server: the client and the server take turns. With 64
tasks the Python client, not the server, is the bottleneck: building a request, parsing the
response and checking it in Python costs the client's core at least as much as serving it
costs the server's, so one client process reaches a fraction of what `wrk` (written in C)
gets out of the same server.

## 3. Registry at scale

A load process keeps many nodes registered, each renewing once a second (the nodes' default
heartbeat), evenly spread over the second, and meanwhile asks for the whole list
(`GET /nodes`) four times a second. Then every node falls silent at once, and the load
watches the names disappear from the list (polled every 50 ms).

{s["registry"]}

A renewal is one small JSON request; at a thousand a second, the registry (one Python process)
spends the CPU shown above on HTTP, JSON and validation. (The load writes its requests by
hand on 32 keep-alive connections: aiohttp's client, in one Python process, could not send a
thousand a second on a shared core, and measured its own queue instead of the registry. The
"lateness" row says whether it kept to its schedule.) The
list grows with the nodes: `GET /nodes` encodes every entry, so its latency grows linearly
with the registry. A node leaves the list as soon as its last heartbeat is a TTL old: the
list leaves out entries past their TTL, even before the sweep (every TTL / 5 seconds) deletes
them, so what the table shows past the TTL is the load's 50 ms polling and the time a
listing of a thousand entries takes, not the sweep.

## 4. Failover

Real processes on loopback: a registry and 5 v2.1 nodes. Each trial kills the leader with
`kill -9` (or stops it with SIGTERM), and times until every survivor names the same new
leader at a newer term; then the stopped node starts again on its old port, and the next
trial waits until all five agree. The same trial runs against a 3-member etcd cluster on
loopback (Debian's `etcd-server`), the production reference, with etcd's heartbeat interval
and election timeout set to the same timings: etcd's defaults, 100 ms and 1,000 ms, and a
fast 50 ms and 250 ms. Our timings at those settings: Bully `--heartbeat-interval` and
`--leader-timeout`, majority vote `--heartbeat-interval` and `--election-timeout`.

{s["failover"]}

Bully after a `kill -9` at its defaults: median {bully_kill}; with a graceful hand-off
(SIGTERM: the leader sends Resign before it goes): {bully_term}. A failover after a crash is
dominated by the wait to notice it: a follower waits out its leader timeout (Bully) or its
randomised election timeout (majority vote, and etcd, in [T, 2T)), and only then does the
election itself take a few messages and, in Bully, an answer timeout. So failover time scales
with the timeout, as the rows at 100/1000 and 50/250 ms show, for us and for etcd alike; a
shorter timeout buys a faster failover at the price of false elections when a leader is only
slow (a paused process, a loaded machine). A hand-off skips the wait altogether.

## 5. Election scaling

The real election cores in the deterministic simulator (`ddb simulate`), with crashes drawn
from each seed: the time from a leaderless cluster to an agreed leader, and the messages sent
meanwhile, averaged over every election of every run:

{s["scaling"]}

Bully's messages grow with the square of the cluster: every node that notices the silence
challenges every higher node, each of those answers and challenges in turn, and the winner
announces itself to all. Majority vote grows little faster than the cluster: a candidate asks
every peer once (with PreVote, twice), and one randomised timeout usually leaves a single
candidate; the more nodes, the likelier two time out together and split a round. The time to a
leader stays near each algorithm's timeouts at every size; the simulator's network has no
queues, so it does not show what a real network adds when a hundred messages leave at once.

## 6. Idle cost

A registry and 3 nodes at rest, for each algorithm, after they have agreed on a leader:

{s["idle"]}

At rest a node's election loop sleeps until its core's next deadline, for one heartbeat
interval at most (so that waking up late still means the process was stopped); what is left
is messages. Every heartbeat interval (100 ms at the defaults) the leader sends a heartbeat
to each follower, and under majority vote each follower acknowledges it; each is a frame on
a WebSocket kept open to that peer, not an HTTP request of its own. Every node renews its
entry with the registry once a second (a request, and the list with it), and keeps one
blocking query open at the registry, which answers only when a node joins or leaves. Each
message still wakes a sleeping Python process, and the wake-up costs more than the work:
measured by hand on a two-core machine like this one, an asyncio process spends about 0.15
ms of CPU each time it wakes up for nothing at all; a bare aiohttp server answering one small
POST every 100 ms spends about 0.5% of a core, and one reading a WebSocket frame every 100 ms
about 0.25%. With a request per message and the list fetched four times a second, as until
2026-12-06, a node at rest cost 1.1% (Bully) and 1.4% (majority vote) of a core here, and
the registry 0.6 to 0.7%. What is left is mostly the ten heartbeats a second, in Python: a
longer heartbeat interval would cut it, at the price of failover time. The memory is the
interpreter, aiohttp and its dependencies, almost none of it ours.

## 7. The replicated log (v3.0) against etcd

Stage v3.0's nodes (`ddb v3 node`) and etcd, 3 members each on loopback, both running in
the same run, their data in one temporary directory (the same disk, both syncing every
batch), with etcd's default timings on both (heartbeat 100 ms, election timeout 1 s). The
members of both clusters run on core 0, the load on core 1; each round measures every figure
on both, the one measured first alternating. etcd is driven through its HTTP/JSON gateway
(`POST /v3/kv/put` and `/v3/kv/range`, key and value in base64), so that both answer
HTTP/1.1 to the same load generator; every request goes to the leader.

{s["v3"]}

## 8. What dominates each cost, and what would change it

- **Serving a key**: aiohttp's HTTP parsing, routing and writing, in Python, are most of a
  request's time, in the bare app as in ours; our share is validation and two middlewares.
  What would change it: more processes behind one port (one per core), or a faster HTTP
  stack; not smaller handlers.
- **The client**: one Python client process gets a fraction of what `wrk` gets from the same
  server; a benchmark of a Python server needs a load generator written in C.
- **The registry**: one JSON request per node per second, and the list with it (a v2.1
  node's blocking query adds nothing at rest); its CPU grows linearly with the nodes, and
  `GET /nodes` with the size of the list. Longer heartbeat intervals (and a TTL to match),
  or a renewal that does not fetch the list, would change it.
- **Failover**: the timeout to notice a silent leader, for every system measured here; the
  election after it is a small part. A graceful hand-off removes it for planned stops.
- **Election messages**: the square of the cluster for Bully, about linear for majority vote.
- **Idle**: the heartbeats, a WebSocket frame each, and the registry heartbeat, each waking
  a sleeping Python process (the loop itself sleeps until its next deadline). A longer
  heartbeat interval would use less, at the price of failover time.
- **The replicated log**: one put alone waits for two fsyncs in a row; many at once are
  bound by the leader's CPU, a fifth of it the kernel's loopback TCP (mostly the
  AppendEntries frames to the followers) and a third aiohttp and asyncio. Fewer, fuller
  frames to the followers would change it, then the JSON; the Raft core is a few percent.

## The exact commands

{s["commands"]}
"""
