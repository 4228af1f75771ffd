"""A node that sleeps when idle: it ticks when its core's deadline comes, not every 10 ms.

The rule of when to tick is one pure function, shared by the node and the simulator
(``core.next_tick``); the node's loop sleeps until then, until a message moves the
deadline sooner, or for one heartbeat interval at most (so that it still notices a stall).
"""

from __future__ import annotations

import random
import time

import pytest

from stages.v2_1_election.algorithms import ALGORITHMS
from stages.v2_1_election.bully import BullyElector, ElectionConfig
from stages.v2_1_election.core import HardState, Send, next_tick
from stages.v2_1_election.node import DRIVER, create_election_app
from stages.v2_registry.node import NodeConfig
from stages.v2_registry.server import RegistryConfig, create_registry_app
from workbench.harness import wait_until

pytestmark = pytest.mark.timeout(30)


def test_the_next_tick_is_the_first_grid_point_after_now_and_at_or_after_the_deadline() -> None:
    assert next_tick(now=0.0, due=0.0, epoch=0.0, every=0.01) == pytest.approx(0.01)
    assert next_tick(now=0.0, due=0.503, epoch=0.0, every=0.01) == pytest.approx(0.51)
    assert next_tick(now=0.0, due=0.5, epoch=0.002, every=0.01) == pytest.approx(0.502)
    assert next_tick(now=0.7, due=0.5, epoch=0.0, every=0.01) == pytest.approx(0.71)  # overdue
    for seed in range(1000):  # never before the deadline, never more than one step after it
        rng = random.Random(seed)
        now, every = rng.uniform(1, 100), rng.choice([0.01, 0.005])
        epoch = now - rng.uniform(0, 1)  # the grid began when the process did
        due = now + rng.uniform(-0.5, 3)  # due, or overdue
        at = next_tick(now, due, epoch, every)
        assert now < at and due <= at < max(due, now) + every + 1e-9


class CountingBully(BullyElector):
    """Bully, counting how often the node ticks it."""

    ticks = 0

    def tick(self, now: float) -> list[Send]:
        type(self).ticks += 1
        return super().tick(now)


async def test_a_lone_leader_at_rest_ticks_about_once_per_heartbeat_not_every_10_ms(
    aiohttp_server, aiohttp_client
) -> None:
    registry = await aiohttp_server(create_registry_app(RegistryConfig(ttl=1.0)))
    settings = ALGORITHMS["bully"].settings(None)
    assert isinstance(settings, ElectionConfig)

    def new_core(name: str, rng: random.Random, now: float, _: HardState) -> CountingBully:
        return CountingBully(name, settings, rng, now)

    url = str(registry.make_url("")).rstrip("/")
    app = create_election_app(NodeConfig("n1", url, 9001, heartbeat_interval=0.2), new_core)
    client = await aiohttp_client(app)

    async def leads() -> bool:
        return (await (await client.get("/cluster/status")).json())["role"] == "leader"

    await wait_until(leads, timeout=10, what="n1 to lead")
    before, start = CountingBully.ticks, time.monotonic()
    await wait_until(lambda: time.monotonic() - start >= 1.0, timeout=5, what="a second")
    ticks = CountingBully.ticks - before
    interval = app[DRIVER].elector.timings.heartbeat_interval
    # It wakes for each heartbeat it owes (every interval); the old loop ticked 100 times a
    # second. Allow a few more for the wait's own rounding and a busy machine.
    assert 1.0 / interval - 2 <= ticks <= 1.0 / interval + 5, ticks
