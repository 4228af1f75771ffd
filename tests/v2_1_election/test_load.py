"""64 clients keep reading and writing while the leader is stopped and restarted, again and again.

Real processes: a registry and three v2.1 nodes. Each client owns a few keys and
sends a mix of PUT, GET and DELETE to a node chosen at random, each request with
a timeout, for about 20 seconds. Meanwhile the test stops the leader (SIGKILL and
SIGTERM in turn), waits for the survivors to agree on a new one, and restarts the
stopped node on its port. In v2.1 every node has its own store and a restarted
node starts empty, so the model keeps one store per node and empties it when the
node restarts.

What must hold: no 5xx, no request that outlives its timeout, every GET answers
what the model says that node holds, and at the end each node holds exactly the
writes it acknowledged (a write whose answer was lost, by a timeout or a
connection closed under it, may or may not have happened: the next GET of that
key on that node tells, and such keys are left out of the final comparison until
then).
"""

from __future__ import annotations

import asyncio
import random
import signal
import time
from collections import Counter
from dataclasses import dataclass, field

import aiohttp
import pytest

from workbench.cluster import Cluster
from workbench.failover import NAMES, restart, stop_leader_and_time_failover
from workbench.harness import Processes

pytestmark = [pytest.mark.timeout(120), pytest.mark.slow]

CLIENTS = 64
KEYS_PER_CLIENT = 4
LOAD_SECONDS = 20.0  # at least; and at least MIN_FAILOVERS leader changes
MIN_FAILOVERS = 3
REQUEST_TIMEOUT = 3.0  # each request's own timeout (aiohttp's)
HANG_AFTER = REQUEST_TIMEOUT + 2.0  # a request still running by then hangs: counted, and failed
SEED = 9


@dataclass
class Model:
    """What each node should hold: the writes it acknowledged since it last started."""

    stores: dict[str, dict[str, bytes]] = field(default_factory=lambda: {n: {} for n in NAMES})
    unknown: dict[str, set[str]] = field(default_factory=lambda: {n: set() for n in NAMES})
    generation: Counter[str] = field(default_factory=Counter)
    stopping: set[str] = field(default_factory=set)  # signalled, not yet exited
    counts: Counter[str] = field(default_factory=Counter)
    wrong_reads: list[str] = field(default_factory=list)

    def stopping_now(self, node: str) -> None:
        """The signal is about to go. The old process may go on answering for a while (after
        SIGTERM it finishes what it has), even requests sent from now on, from a store the
        model no longer follows (answers on their way are dropped): none of it is checked."""
        self.generation[node] += 1
        self.stopping.add(node)

    def restarted(self, node: str) -> None:
        """A new process, with an empty store; answers from the old one no longer count."""
        self.generation[node] += 1
        self.stopping.discard(node)
        self.stores[node], self.unknown[node] = {}, set()

    def read(self, node: str, key: str, value: bytes | None) -> None:
        if key in self.unknown[node]:  # an answer lost earlier: now we know
            self.unknown[node].discard(key)
        elif self.stores[node].get(key) != value:
            self.wrong_reads.append(
                f"{node} {key}: {value!r}, model {self.stores[node].get(key)!r}"
            )
        self.write(node, key, value)

    def write(self, node: str, key: str, value: bytes | None) -> None:
        self.unknown[node].discard(key)
        if value is None:
            self.stores[node].pop(key, None)
        else:
            self.stores[node][key] = value


async def one_request(
    session: aiohttp.ClientSession,
    model: Model,
    urls: dict[str, str],
    rng: random.Random,
    client: int,
    seq: int,
) -> None:
    node, key = rng.choice(NAMES), f"c{client:02d}/k{rng.randrange(KEYS_PER_CLIENT)}"
    method = rng.choices(["PUT", "GET", "DELETE"], weights=[5, 3, 2])[0]
    value = f"{client}-{seq}".encode()
    generation = model.generation[node]
    try:
        async with session.request(
            method, f"{urls[node]}/kv/{key}", data=value if method == "PUT" else None
        ) as resp:
            body = await resp.read()
            status = resp.status
    except aiohttp.ClientConnectorError:
        model.counts["refused (node down)"] += 1
        return False  # never reached a server: nothing happened
    except (aiohttp.ClientError, TimeoutError) as exc:
        model.counts[f"no answer ({type(exc).__name__})"] += 1
        if method != "GET" and generation == model.generation[node]:
            model.unknown[node].add(key)
        return True
    model.counts[f"HTTP {status}"] += 1
    if generation != model.generation[node] or node in model.stopping:
        return True  # answered by a process that has since been stopped, or replaced
    if (
        status >= 500
        or status not in {"PUT": {200, 201}, "GET": {200, 404}, "DELETE": {204, 404}}[method]
    ):
        model.counts["unexpected"] += 1
    elif method == "PUT":
        model.write(node, key, value)
    elif method == "GET":
        model.read(node, key, body if status == 200 else None)
    elif status == 404:
        model.read(node, key, None)
    else:
        model.write(node, key, None)
    return True


async def client_loop(
    session: aiohttp.ClientSession,
    model: Model,
    urls: dict[str, str],
    client: int,
    done: asyncio.Event,
) -> None:
    rng = random.Random(SEED * 1000 + client)
    seq = 0
    while not done.is_set():
        seq += 1
        try:
            reached = await asyncio.wait_for(
                one_request(session, model, urls, rng, client, seq), timeout=HANG_AFTER
            )
        except TimeoutError:
            model.counts["hung past the timeout"] += 1
            continue
        if not reached:
            await asyncio.sleep(0.01)  # a node that is down refuses at once: do not spin


async def contents(session: aiohttp.ClientSession, url: str) -> dict[str, bytes]:
    async with session.get(f"{url}/kv") as resp:
        keys = (await resp.json())["keys"]
    found = {}
    for key in keys:
        async with session.get(f"{url}/kv/{key}") as resp:
            found[key] = await resp.read()
    return found


async def test_64_clients_through_repeated_leader_failovers_lose_nothing_acknowledged(
    processes: Processes,
) -> None:
    cluster = Cluster(processes)
    await cluster.start_registry()
    await cluster.start_nodes(NAMES)
    await cluster.wait_for_agreement(timeout=15)
    urls = {name: cluster.nodes[name].url for name in NAMES}  # restarts keep the port
    model = Model()
    failovers: list[str] = []
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
    connector = aiohttp.TCPConnector(limit=2 * CLIENTS)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        end = time.monotonic() + LOAD_SECONDS
        done = asyncio.Event()
        clients = [
            asyncio.create_task(client_loop(session, model, urls, c, done)) for c in range(CLIENTS)
        ]
        try:
            signals = [signal.SIGKILL, signal.SIGTERM]
            while time.monotonic() < end - 3 or len(failovers) < MIN_FAILOVERS:
                sig = signals[len(failovers) % 2]
                old, new, seconds = await stop_leader_and_time_failover(
                    cluster, sig, before_stop=model.stopping_now
                )
                failovers.append(f"{old}->{new} ({sig.name}, {seconds:.2f}s)")
                await asyncio.to_thread(cluster.nodes[old].proc.wait, 10)
                model.restarted(old)  # from now on, answers come from the new process
                await restart(cluster, old)
            await asyncio.sleep(max(0.0, end - time.monotonic()))  # the load goes on to the end
            done.set()
            await asyncio.gather(*clients)
        finally:
            for task in clients:
                task.cancel()
        await cluster.wait_for_agreement(timeout=15)
        finals = {name: await contents(session, urls[name]) for name in NAMES}
    served = sum(n for what, n in model.counts.items() if what.startswith("HTTP"))
    report = (
        f"{served} requests served, {len(failovers)} failovers ({', '.join(failovers)}); "
        f"answers: {dict(sorted(model.counts.items()))}"
    )
    print(report)
    assert not [what for what in model.counts if what.startswith("HTTP 5")], report
    assert model.counts["hung past the timeout"] == 0, report
    assert model.counts["unexpected"] == 0, report
    assert model.wrong_reads == [], f"{model.wrong_reads[:5]}; {report}"
    for name in NAMES:
        unknown = model.unknown[name]
        held = {k: v for k, v in finals[name].items() if k not in unknown}
        expected = {k: v for k, v in model.stores[name].items() if k not in unknown}
        assert held == expected, f"{name} holds what it did not acknowledge; {report}"
