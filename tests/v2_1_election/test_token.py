"""A cluster started with a token shrugs off the three attacks that used to take it over.

Real processes: a registry and three v2.1 nodes with ``--cluster-token``. The
attacks are the ones the security issue measured: a forged Victory at a huge term,
a phantom node registered to win elections, and a real node's name taken over by
deleting its entry and registering it elsewhere. Each gets a 401 and changes nothing.
"""

from __future__ import annotations

import aiohttp
import pytest

from workbench.cluster import Cluster
from workbench.harness import Processes

pytestmark = [pytest.mark.timeout(60), pytest.mark.slow]

TOKEN = "s3cret"


async def post(session: aiohttp.ClientSession, method: str, url: str, body: object) -> int:
    async with session.request(method, url, json=body) as resp:
        await resp.read()
        return resp.status


async def test_with_a_token_forged_messages_and_registrations_get_401_and_change_nothing(
    processes: Processes,
) -> None:
    cluster = Cluster(processes)
    await cluster.start_registry("--cluster-token", TOKEN)
    await cluster.start_nodes(["n1", "n2", "n3"], "--cluster-token", TOKEN)
    # The nodes send the token, so they elect a leader: n3, or n2 if n3 started late and
    # found n2 leading already (a node follows the leader it finds). Either will do here.
    before = await cluster.wait_for_agreement(timeout=15)
    n1 = cluster.nodes["n1"].url
    timeout = aiohttp.ClientTimeout(total=5)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        victory = {"type": "victory", "sender": "zzz", "term": 2**62}
        phantom = {"name": "zzz", "port": 1, "host": "127.0.0.1"}
        hijack = {"name": "n2", "port": 1, "host": "127.0.0.1"}
        answers = {
            "forged Victory": await post(session, "POST", f"{n1}/cluster/victory", victory),
            "phantom registration": await post(
                session, "POST", f"{cluster.registry}/nodes", phantom
            ),
            "DELETE n2": await post(session, "DELETE", f"{cluster.registry}/nodes/n2", None),
            "n2 re-registered elsewhere": await post(
                session, "POST", f"{cluster.registry}/nodes", hijack
            ),
        }
        async with session.get(f"{cluster.registry}/nodes") as resp:
            listed = [(n["name"], n["port"]) for n in (await resp.json())["nodes"]]
    assert set(answers.values()) == {401}, answers
    assert sorted(name for name, _ in listed) == ["n1", "n2", "n3"], listed
    assert ("n2", 1) not in listed
    assert await cluster.agreement() == before, await cluster.statuses()
