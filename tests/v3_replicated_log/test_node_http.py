"""v3.0 nodes in-process, over real loopback HTTP: writes through the log, versions and
compare-and-set, retries applied once, linearizable and stale reads, and honest failures."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

import pytest
from aiohttp.test_utils import TestServer

from stages.v1_kv.client import KVClient
from stages.v2_1_election.core import HardState
from stages.v2_registry.server import RegistryConfig, create_registry_app
from stages.v3_replicated_log.messages import Entry
from stages.v3_replicated_log.node import LAST_ENTRIES, SHOWN_KEY
from stages.v3_replicated_log.storage import MemoryStorage
from tests.v3_replicated_log.nodes import Nodes, nodes_of
from workbench.harness import wait_until

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
async def registry(aiohttp_server) -> TestServer:
    return await aiohttp_server(create_registry_app(RegistryConfig(ttl=1.0)))


@pytest.fixture
async def three(registry: TestServer, unused_tcp_port_factory) -> AsyncIterator[Nodes]:
    async with nodes_of(registry, unused_tcp_port_factory) as nodes:
        for name in ("n1", "n2", "n3"):
            await nodes.start(name)
        await nodes.agree()
        yield nodes


async def test_a_write_is_answered_once_applied_with_its_log_index_and_the_keys_version(
    three: Nodes,
) -> None:
    leader = await three.agree()
    client = three.clients[leader]
    resp = await client.put("/kv/k", data=b"v1")
    assert resp.status == 201
    index = int(resp.headers["X-Raft-Index"])
    assert resp.headers["ETag"] == f'"{index}"'  # a version is the index of the key's last write
    assert three.driver(leader).machine.applied >= index
    again = await client.put("/kv/k", data=b"v2")
    assert again.status == 200 and int(again.headers["X-Raft-Index"]) > index
    read = await client.get("/kv/k")
    assert (read.status, await read.read()) == (200, b"v2")
    assert read.headers["ETag"] == again.headers["ETag"]
    assert int(read.headers["X-Raft-Index"]) >= int(again.headers["X-Raft-Index"])


async def test_a_write_through_a_follower_is_a_307_that_a_client_follows_to_the_leader(
    three: Nodes,
) -> None:
    leader = await three.agree()
    follower = three.follower(leader)
    resp = await three.clients[follower].put("/kv/a%20b", data=b"v", allow_redirects=False)
    assert resp.status == 307
    assert resp.headers["Location"] == f"{three.url(leader)}/kv/a%20b"
    assert (resp.headers["X-DDB-Node"], resp.headers["X-DDB-Role"]) == (follower, "follower")
    async with KVClient(three.url(follower)) as kv:
        assert await kv.put("greeting", b"hello") is True
        await kv.delete("greeting")


async def test_put_with_if_match_is_compare_and_set_and_a_mismatch_is_412_with_the_version(
    three: Nodes,
) -> None:
    client = three.clients[await three.agree()]
    created = await client.put("/kv/k", data=b"a", headers={"If-Match": '"0"'})  # only if absent
    assert created.status == 201
    version = created.headers["ETag"]
    refused = await client.put("/kv/k", data=b"b", headers={"If-Match": '"0"'})
    assert refused.status == 412
    body = await refused.json()
    assert body["error"]["code"] == "version_mismatch" and f'"{body["version"]}"' == version
    swapped = await client.put("/kv/k", data=b"c", headers={"If-Match": version})
    assert swapped.status == 200 and swapped.headers["ETag"] != version
    assert await (await client.get("/kv/k")).read() == b"c"


async def test_a_retried_write_with_the_same_client_and_seq_is_applied_once(
    three: Nodes,
) -> None:
    client = three.clients[await three.agree()]
    who = {"X-Client-Id": "c1", "X-Client-Seq": "1"}
    first = await client.put("/kv/k", data=b"a", headers=who)
    await client.put("/kv/k", data=b"b", headers={"X-Client-Id": "c2", "X-Client-Seq": "1"})
    retry = await client.put("/kv/k", data=b"a", headers=who)  # its answer was lost, say
    assert retry.headers["X-Raft-Index"] == first.headers["X-Raft-Index"]  # the first answer
    assert await (await client.get("/kv/k")).read() == b"b"  # not written a second time
    await client.put("/kv/k", data=b"c", headers={"X-Client-Id": "c1", "X-Client-Seq": "2"})
    older = await client.put("/kv/k", data=b"a", headers=who)  # after a newer one: a mistake
    assert older.status == 409 and (await older.json())["error"]["code"] == "stale_sequence"


async def test_cluster_log_shows_the_last_entries_with_their_terms_and_commands(
    three: Nodes,
) -> None:
    leader = await three.agree()
    client = three.clients[leader]
    short = await (await client.get("/cluster/log")).json()
    indexes = [entry["index"] for entry in short["entries"]]
    assert indexes == list(range(1, short["last_index"] + 1))  # fewer than LAST_ENTRIES: all
    assert short["entries"][-1] == {"index": indexes[-1], "term": short["term"], "command": "no-op"}

    long_key = "k" * (SHOWN_KEY + 10)
    for i in range(LAST_ENTRIES):
        await client.put(f"/kv/k{i}", data=b"v")
    await client.delete("/kv/k0")
    await client.put(f"/kv/{long_key}", data=b"v")
    body = await (await client.get("/cluster/log")).json()
    last = body["last_index"]
    indexes = [entry["index"] for entry in body["entries"]]
    assert indexes == list(range(last - LAST_ENTRIES + 1, last + 1))  # the last LAST_ENTRIES
    assert {entry["term"] for entry in body["entries"]} == {body["term"]}
    shown = [entry["command"] for entry in body["entries"][-3:]]
    assert shown == ["put k7", "delete k0", f"put {long_key[: SHOWN_KEY - 1]}…"]

    follower = three.follower(leader)

    async def same_entries() -> bool:
        theirs = await (await three.clients[follower].get("/cluster/log")).json()
        return theirs["entries"] == body["entries"] and theirs["commit"] == last

    await wait_until(same_entries, timeout=5, what=f"{follower} to hold the leader's entries")


async def test_delete_is_204_then_404(three: Nodes) -> None:
    client = three.clients[await three.agree()]
    await client.put("/kv/k", data=b"a")
    assert (await client.delete("/kv/k")).status == 204
    gone = await client.delete("/kv/k")
    assert gone.status == 404 and (await gone.json())["error"]["code"] == "key_not_found"


@pytest.mark.parametrize(
    "headers",
    [
        {"If-Match": "seven"},
        {"If-Match": '"-1"'},
        {"X-Client-Id": "c1"},
        {"X-Client-Seq": "1"},
        {"X-Client-Id": "c1", "X-Client-Seq": "0"},
        {"X-Client-Id": "c1", "X-Client-Seq": "9" * 20},
        {"X-Client-Id": "a/b", "X-Client-Seq": "1"},
        {"X-Client-Id": "c" * 65, "X-Client-Seq": "1"},
    ],
)
async def test_a_bad_header_is_a_400_with_a_json_error(
    three: Nodes, headers: dict[str, str]
) -> None:
    client = three.clients[await three.agree()]
    resp = await client.put("/kv/k", data=b"v", headers=headers)
    assert resp.status == 400
    assert (await resp.json())["error"]["code"] == "invalid_header"


async def test_if_match_on_delete_and_an_unknown_consistency_are_400(three: Nodes) -> None:
    client = three.clients[await three.agree()]
    assert (await client.delete("/kv/k", headers={"If-Match": '"1"'})).status == 400
    resp = await client.get("/kv/k?consistency=eventual")
    assert resp.status == 400 and (await resp.json())["error"]["code"] == "invalid_query"


async def test_a_follower_redirects_a_linearizable_read_and_answers_a_stale_one_itself(
    three: Nodes,
) -> None:
    leader = await three.agree()
    written = await three.clients[leader].put("/kv/k", data=b"v")
    index = int(written.headers["X-Raft-Index"])
    follower = three.follower(leader)
    resp = await three.clients[follower].get("/kv/k", allow_redirects=False)
    assert resp.status == 307 and resp.headers["Location"] == f"{three.url(leader)}/kv/k"

    async def caught_up() -> bool:
        stale = await three.clients[follower].get("/kv/k?consistency=stale")
        return int(stale.headers["X-Raft-Applied"]) >= index

    await wait_until(caught_up, timeout=5, what=f"{follower} to apply {index}")
    stale = await three.clients[follower].get("/kv/k?consistency=stale")
    assert (stale.status, await stale.read()) == (200, b"v")
    assert stale.headers["ETag"] == written.headers["ETag"]
    missing = await three.clients[follower].get("/kv/nothing?consistency=stale")
    assert missing.status == 404 and "X-Raft-Applied" in missing.headers


async def test_a_write_pending_when_the_leader_is_cut_off_answers_outcome_unknown(
    three: Nodes,
) -> None:
    leader = await three.agree()
    for name in [name for name in three.clients if name != leader]:
        await three.stop(name)  # no majority: the write cannot commit
    resp = await three.clients[leader].put("/kv/k", data=b"v")
    assert resp.status == 503
    body = await resp.json()
    assert body["outcome"] == "unknown" and body["error"]["code"] == "outcome_unknown"
    assert "Retry-After" in resp.headers


async def test_a_leader_cut_off_from_its_majority_refuses_a_linearizable_read(
    three: Nodes,
) -> None:
    leader = await three.agree()
    assert (await three.clients[leader].put("/kv/k", data=b"v")).status == 201
    for name in [name for name in three.clients if name != leader]:
        await three.stop(name)  # a majority may have elected another leader, for all it knows
    resp = await three.clients[leader].get("/kv/k")
    assert resp.status == 503 and (await resp.json())["error"]["code"] == "leadership_lost"
    stale = await three.clients[leader].get("/kv/k?consistency=stale")  # asked for: served
    assert (stale.status, await stale.read()) == (200, b"v")


async def test_a_write_that_times_out_answers_outcome_unknown(
    registry: TestServer, unused_tcp_port_factory
) -> None:
    async with nodes_of(registry, unused_tcp_port_factory, timeout=0.2) as nodes:
        for name in ("n1", "n2", "n3"):
            await nodes.start(name)
        leader = await nodes.agree()
        for name in [name for name in nodes.clients if name != leader]:
            await nodes.stop(name)
        resp = await nodes.clients[leader].put("/kv/k", data=b"v")
        assert resp.status == 503 and (await resp.json())["outcome"] == "unknown"
        assert "not applied within 0.2 s" in (await resp.json())["error"]["message"]


async def test_with_no_leader_a_write_is_a_503_with_retry_after(
    registry: TestServer, unused_tcp_port_factory
) -> None:
    async with nodes_of(registry, unused_tcp_port_factory) as nodes:
        client = await nodes.start("n1")  # one of three voters: it can never win alone
        resp = await client.put("/kv/k", data=b"v")
        assert resp.status == 503 and resp.headers["Retry-After"] == "1"
        assert (await resp.json())["error"]["code"] == "no_leader"


class FailingDisk(MemoryStorage):
    """A MemoryStorage whose disk refuses every save once ``broken``."""

    broken = False

    def save(self, entries: Sequence[Entry], hard_state: HardState | None, commit: int | None):
        if self.broken:
            raise OSError(5, "Input/output error")
        super().save(entries, hard_state, commit)


async def test_after_a_failed_save_the_node_acknowledges_no_write(
    registry: TestServer, unused_tcp_port_factory, caplog: pytest.LogCaptureFixture
) -> None:
    async with nodes_of(registry, unused_tcp_port_factory, voters=("n1",)) as nodes:
        disk = FailingDisk()
        client = await nodes.start("n1", disk)
        await nodes.agree()
        assert (await client.put("/kv/k", data=b"a")).status == 201
        disk.broken = True
        pending = await client.put("/kv/k", data=b"b")
        assert pending.status == 503
        body = await pending.json()
        assert body["error"]["code"] == "disk_failed" and body["outcome"] == "unknown"
        refused = await client.put("/kv/k", data=b"c")
        assert refused.status == 503 and "outcome" not in await refused.json()
        errors = [r for r in caplog.records if r.levelname == "ERROR" and "disk" in r.message]
        assert len(errors) == 1


async def test_a_restarted_node_replays_its_committed_entries_before_it_hears_a_leader(
    registry: TestServer, unused_tcp_port_factory
) -> None:
    async with nodes_of(registry, unused_tcp_port_factory, voters=("n1",)) as nodes:
        client = await nodes.start("n1")
        await nodes.agree()
        for i in range(3):
            assert (await client.put(f"/kv/k{i}", data=b"%d" % i)).status == 201
        await nodes.stop("n1")
        disk = nodes.disks["n1"]
        assert isinstance(disk, MemoryStorage) and disk.persisted.commit >= 4  # no-op + 3
        nodes.voters = ("n1", "n2", "n3")  # now it cannot lead alone: no leader will come
        client = await nodes.start("n1")
        stale = await client.get("/kv/k2?consistency=stale")
        assert (stale.status, await stale.read()) == (200, b"2")
