"""The driver's order, persist, then send, then apply, over real HTTP with a slow disk; and
how a batch of readies becomes one save."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Sequence

import pytest
from aiohttp.test_utils import TestServer

from stages.v2_1_election.core import HardState, Send
from stages.v2_1_election.messages import Vote
from stages.v2_registry.server import RegistryConfig, create_registry_app
from stages.v3_replicated_log.driver import merged
from stages.v3_replicated_log.messages import AppendEntries, AppendEntriesReply, Entry
from stages.v3_replicated_log.readindex import ReadReady
from stages.v3_replicated_log.storage import MemoryStorage
from tests.v3_replicated_log.nodes import Nodes, nodes_of

pytestmark = pytest.mark.timeout(60)


class SlowDisk(MemoryStorage):
    """A MemoryStorage that takes a while to sync, as a disk does."""

    def save(
        self, entries: Sequence[Entry], hard_state: HardState | None, commit: int | None
    ) -> None:
        time.sleep(0.01)  # the sync, in the driver's thread: the event loop goes on
        super().save(entries, hard_state, commit)


def unkept(send: Send, disk: MemoryStorage) -> str | None:
    """What ``send`` claims that ``disk`` does not hold yet, if anything."""
    message, kept = send.message, len(disk.persisted.entries)
    match message:
        case AppendEntries(entries=entries) if entries and entries[-1].index > kept:
            return f"{message.sender} sent entries up to {entries[-1].index}, kept {kept}"
        case AppendEntriesReply(success=True, match_index=index) if index > kept:
            return f"{message.sender} acknowledged {index}, kept {kept}"
        case Vote(granted=True, pre_vote=False) if disk.persisted.hard_state != (
            message.term,
            send.to,
        ):
            return f"{message.sender} voted for {send.to} before keeping it"
    return None


def checked(
    send: Callable[[list[Send]], None], disk: MemoryStorage, broken: list[str]
) -> Callable[[list[Send]], None]:
    """``send``, noting in ``broken`` each message that claims what the disk lacks."""

    def check(messages: list[Send]) -> None:
        broken.extend(why for each in messages if (why := unkept(each, disk)) is not None)
        send(messages)

    return check


@pytest.fixture
async def slow(aiohttp_server, unused_tcp_port_factory) -> AsyncIterator[tuple[Nodes, list[str]]]:
    registry: TestServer = await aiohttp_server(create_registry_app(RegistryConfig(ttl=1.0)))
    broken: list[str] = []
    async with nodes_of(registry, unused_tcp_port_factory) as nodes:
        for name in ("n1", "n2", "n3"):
            disk = SlowDisk()
            await nodes.start(name, disk)
            driver = nodes.driver(name)
            driver.send = checked(driver.send, disk, broken)  # type: ignore[method-assign,assignment]
        yield nodes, broken


async def test_no_message_claims_an_entry_or_a_vote_before_the_disk_has_it(
    slow: tuple[Nodes, list[str]],
) -> None:
    nodes, broken = slow
    leader = await nodes.agree()
    for i in range(10):
        resp = await nodes.clients[leader].put(f"/kv/k{i}", data=b"v")
        assert resp.status == 201
    assert broken == []
    saves = sum(disk.saves for disk in nodes.disks.values() if isinstance(disk, MemoryStorage))
    assert saves > 0


def ready(
    entries: tuple[Entry, ...] = (),
    hard_state: HardState | None = None,
    committed: tuple[Entry, ...] = (),
) -> ReadReady:
    return ReadReady(hard_state, [], entries, committed)


def test_a_batch_of_readies_is_saved_as_one_with_the_later_entries_winning() -> None:
    e = [Entry(i, 1, f"e{i}") for i in range(1, 5)]
    replaced = Entry(3, 2, "new")
    batch = [
        ready((e[0], e[1], e[2]), HardState(1, "n1"), committed=(e[0],)),
        ready((replaced,), None, committed=(e[1],)),
        ready((), HardState(2, None)),
    ]
    assert merged(batch) == ([e[0], e[1], replaced], HardState(2, None))
    assert merged([ready(), ready()]) == ([], None)
