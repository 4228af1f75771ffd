"""The node's seams, in-process: its driver (persist, then send), a message type a driver
subclass adds, and the bound on what ``POST /cluster/{type}`` reads."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from stages.v2_1_election.algorithms import ALGORITHMS
from stages.v2_1_election.core import Elector, HardState, Send, Storage
from stages.v2_1_election.messages import Message, Vote
from stages.v2_1_election.node import (
    DRIVER,
    MAX_MESSAGE_BYTES,
    ElectionDriver,
    create_election_app,
)
from stages.v2_1_election.votefile import VoteFile
from stages.v2_registry.node import NodeConfig
from stages.v2_registry.server import RegistryConfig, create_registry_app
from workbench.harness import wait_until

pytestmark = pytest.mark.timeout(30)

Event = tuple[str, object]


class RecordingStorage:
    """The vote file, writing down each save in a list it shares with the driver."""

    def __init__(self, file: VoteFile, events: list[Event]) -> None:
        self.file, self.events = file, events

    def load(self) -> HardState:
        return self.file.load()

    def save(self, state: HardState) -> None:
        self.file.save(state)
        self.events.append(("save", state))


class RecordingDriver(ElectionDriver):
    """Writes down each message as it leaves, with what the vote file says at that moment."""

    def __init__(
        self,
        app: web.Application,
        config: NodeConfig,
        elector: Elector,
        storage: Storage | None,
        max_message_bytes: int,
        *,
        events: list[Event],
        file: VoteFile,
    ) -> None:
        super().__init__(app, config, elector, storage, max_message_bytes)
        self.events, self.file = events, file

    def send(self, messages: list[Send]) -> None:
        for send in messages:
            self.events.append(("send", (send.to, send.message, self.file.load())))
        super().send(messages)


@pytest.fixture
async def registry(aiohttp_server) -> TestServer:
    return await aiohttp_server(create_registry_app(RegistryConfig(ttl=1.0)))


def node_config(registry: TestServer, name: str = "n2") -> NodeConfig:
    return NodeConfig(name, str(registry.make_url("")).rstrip("/"), 9002, heartbeat_interval=0.2)


async def registered(client: TestClient) -> TestClient:
    async def listed() -> bool:
        return (await (await client.get("/cluster/peers")).json())["registered"]

    await wait_until(listed, timeout=5, what="the node to register")
    return client


async def test_the_driver_keeps_the_vote_on_disk_before_the_vote_leaves(
    registry: TestServer, aiohttp_client, tmp_path: Path
) -> None:
    events: list[Event] = []
    file = VoteFile(tmp_path)
    quorum = ALGORITHMS["quorum"]
    app = create_election_app(
        node_config(registry),
        quorum.factory(quorum.settings(["n1", "n2", "n3"])),
        RecordingStorage(file, events),
        driver=functools.partial(RecordingDriver, events=events, file=file),
    )
    client = await registered(await aiohttp_client(app))
    ask = {"type": "request_vote", "sender": "n1", "term": 1}
    assert (await client.post("/cluster/request_vote", json=ask)).status == 202
    votes = [e for e in events if e[0] == "save" or isinstance(e[1][1], Vote)]
    assert votes == [
        ("save", HardState(1, "n1")),
        ("send", ("n1", Vote("n2", 1, granted=True), HardState(1, "n1"))),  # on disk as it left
    ]
    assert app[DRIVER].elector.term == 1 and file.load() == (1, "n1")


@dataclass(frozen=True)
class Replicate(Message):
    """What a later stage's leader might send its followers: a write to apply."""

    kind: ClassVar[str] = "replicate"
    key: str = "k"


class ReplicatingDriver(ElectionDriver):
    """A later stage's driver: one message type of its own, beside the core's."""

    received: ClassVar[list[Message]] = []

    @property
    def messages(self) -> tuple[type[Message], ...]:
        return (*super().messages, Replicate)

    async def on_message(self, message: Message) -> None:
        if isinstance(message, Replicate):
            self.received.append(message)
            return
        await super().on_message(message)


async def test_a_driver_subclass_takes_a_message_type_of_its_own_and_passes_the_rest_on(
    registry: TestServer, aiohttp_client
) -> None:
    bully = ALGORITHMS["bully"]
    app = create_election_app(
        node_config(registry), bully.factory(bully.settings()), driver=ReplicatingDriver
    )
    client = await registered(await aiohttp_client(app))
    ReplicatingDriver.received.clear()
    write = {"type": "replicate", "sender": "n3", "term": 2, "key": "colour"}
    assert (await client.post("/cluster/replicate", json=write)).status == 202
    assert ReplicatingDriver.received == [Replicate("n3", 2, "colour")]
    assert app[DRIVER].elector.term == 0  # the core never saw it
    beat = {"type": "heartbeat", "sender": "n3", "term": 2}
    assert (await client.post("/cluster/heartbeat", json=beat)).status == 202
    assert (app[DRIVER].elector.term, app[DRIVER].elector.leader) == (2, "n3")
    plain = create_election_app(node_config(registry, "n4"), bully.factory(bully.settings()))
    other = await registered(await aiohttp_client(plain))
    assert (await other.post("/cluster/replicate", json=write)).status == 404


def padded_heartbeat(size: int) -> bytes:
    """A valid heartbeat of exactly ``size`` bytes: JSON allows any amount of space."""
    body = b'{"type": "heartbeat", "sender": "n3", "term": 1}'
    return body[:-1] + b" " * (size - len(body)) + b"}"


@pytest.fixture
async def bully_node(registry: TestServer, aiohttp_client) -> TestClient:
    bully = ALGORITHMS["bully"]
    app = create_election_app(node_config(registry), bully.factory(bully.settings()))
    return await registered(await aiohttp_client(app))


async def test_a_message_over_the_limit_is_refused_with_413_and_a_json_error(
    bully_node: TestClient,
) -> None:
    headers = {"Content-Type": "application/json"}
    fits = padded_heartbeat(MAX_MESSAGE_BYTES)
    assert (await bully_node.post("/cluster/heartbeat", data=fits, headers=headers)).status == 202
    resp = await bully_node.post(
        "/cluster/heartbeat", data=padded_heartbeat(MAX_MESSAGE_BYTES + 1), headers=headers
    )
    assert resp.status == 413
    error = (await resp.json())["error"]
    assert error["code"] == "payload_too_large"
    assert f"at most {MAX_MESSAGE_BYTES} bytes" in error["message"]


async def test_a_chunked_message_over_the_limit_is_refused_too(bully_node: TestClient) -> None:
    async def chunks():  # no Content-Length: the limit applies as the body is read
        body = padded_heartbeat(MAX_MESSAGE_BYTES * 2)
        for start in range(0, len(body), 4096):
            yield body[start : start + 4096]

    headers = {"Content-Type": "application/json"}
    resp = await bully_node.post("/cluster/heartbeat", data=chunks(), headers=headers)
    assert resp.status == 413
    assert (await resp.json())["error"]["code"] == "payload_too_large"
    status = await (await bully_node.get("/cluster/status")).json()
    assert status["term"] == 0  # nothing reached the election


async def test_a_later_stage_raises_the_limit_past_aiohttps_own_megabyte(
    registry: TestServer, aiohttp_client
) -> None:
    bully = ALGORITHMS["bully"]
    app = create_election_app(
        node_config(registry), bully.factory(bully.settings()), max_message_bytes=2 * 2**20
    )
    client = await registered(await aiohttp_client(app))
    body = padded_heartbeat(3 * 2**19)  # 1.5 MiB: more than the app takes anywhere else
    headers = {"Content-Type": "application/json"}
    assert (await client.post("/cluster/heartbeat", data=body, headers=headers)).status == 202
    assert app[DRIVER].elector.term == 1
