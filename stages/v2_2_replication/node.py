"""The v2.2 node: the v2.1 node whose leader copies every write to its followers.

It extends v2.1 through its seams only: v1's backend (:class:`ReplicatedKV`, where the
handlers' writes go), a subclass of v2.1's driver (:class:`ReplicationDriver`: one more
message type, ``replicate``, and one more task, the catch-up), its own routes, and an
``on_response_prepare`` signal that labels every ``/kv`` answer.

Routes added to the v2.1 node::

    POST /cluster/replicate    a write from the leader (a Replicate message); 202, or 409
    GET  /cluster/snapshot     the leader's whole store (409 on a node that does not lead)
    GET  /cluster/replication  {"name", "role", "term", "leader", "keys", "digest", "copied"}
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Coroutine
from typing import Any

import aiohttp
from aiohttp import web

from stages.v1_kv.errors import ApiError, json_error
from stages.v1_kv.server import BACKEND
from stages.v1_kv.store import KVStore
from stages.v2_1_election.core import Elector, ElectorFactory, Role, Storage
from stages.v2_1_election.messages import Message
from stages.v2_1_election.node import DRIVER, ElectionDriver, create_election_app
from stages.v2_2_replication.backend import RETRY_AFTER, Cluster, ReplicatedKV
from stages.v2_2_replication.messages import Replicate, Snapshot
from stages.v2_2_replication.replication import digest, refusal
from stages.v2_registry.auth import Secret
from stages.v2_registry.models import InvalidMessage
from stages.v2_registry.node import NODE_CONFIG, SESSION, NodeConfig, kv_request

log = logging.getLogger(__name__)

MAX_SNAPSHOT_BYTES = 256 * 1024 * 1024  # the largest snapshot a node reads


class ReplicationDriver(ElectionDriver):
    """v2.1's driver, plus the ``replicate`` message and a one-time catch-up."""

    def __init__(
        self,
        app: web.Application,
        config: NodeConfig,
        elector: Elector,
        storage: Storage | None,
        max_message_bytes: int,
    ) -> None:
        super().__init__(app, config, elector, storage, max_message_bytes)
        self.config = config
        self.copied: str | None = None  # how this node caught up, once it has

    @property
    def backend(self) -> ReplicatedKV:
        backend = self.app[BACKEND]
        assert isinstance(backend, ReplicatedKV)
        return backend

    @property
    def messages(self) -> tuple[type[Message], ...]:
        return (*self.elector.messages, Replicate)

    # --8<-- [start:on_replicate]
    async def on_message(self, message: Message) -> None:
        if not isinstance(message, Replicate):
            return await super().on_message(message)
        elector = self.elector
        why = refusal(message, elector.name, believed_leader(elector), elector.term)
        if why is not None:
            log.warning("%s refused a write from %s at term %d: %s",
                        elector.name, message.sender, message.term, why)  # fmt: skip
            raise ApiError(409, "not_leader", why)
        self.lanes.heard_from(message.sender)
        self.backend.store.apply(message.command())
        log.debug("%s applied %s from %s", elector.name, message.key, message.sender)

    # --8<-- [end:on_replicate]

    def tasks(self) -> list[Coroutine[Any, Any, None]]:
        return [*super().tasks(), self.catch_up(self.elector.timings.heartbeat_interval)]

    # --8<-- [start:catch_up]
    async def catch_up(self, every: float) -> None:
        """Once: as soon as a leader other than this node is known, copy its whole store."""
        elector = self.elector
        while True:
            await asyncio.sleep(every)
            leader = elector.leader
            if leader == elector.name and elector.role == Role.LEADER:  # the first node
                self.copied = "not needed: it led first"
                log.info("%s leads at term %d: no copy to take", elector.name, elector.term)
                return
            url = None if leader is None else self.peers.url(leader)
            if url is None:
                continue
            try:
                snapshot = await self.fetch_snapshot(url)
            except (TimeoutError, aiohttp.ClientError, ValueError, InvalidMessage) as exc:
                log.info("%s could not copy %s's store yet: %s", elector.name, leader, exc)
                continue
            store = self.backend.store
            for key in store.keys(""):  # what the leader does not have goes
                store.delete(key)
            for key, value in snapshot.items.items():  # writes that came meanwhile: lost
                store.put(key, value)
            self.copied = (
                f"{len(snapshot.items)} keys from {snapshot.leader} at term {snapshot.term}"
            )
            log.info("%s copied %s", elector.name, self.copied)
            return

    async def fetch_snapshot(self, url: str) -> Snapshot:
        timeout = aiohttp.ClientTimeout(total=10 * self.elector.timings.message_timeout)
        headers = snapshot_headers(self.config)
        async with self.app[SESSION].get(
            f"{url}/cluster/snapshot", timeout=timeout, headers=headers
        ) as response:
            if response.status != 200:
                raise ValueError(f"HTTP {response.status}: {(await response.text())[:200]}")
            if (response.content_length or 0) > MAX_SNAPSHOT_BYTES:
                raise ValueError(f"a snapshot is at most {MAX_SNAPSHOT_BYTES} bytes")
            body = await response.content.read(MAX_SNAPSHOT_BYTES + 1)
            if len(body) > MAX_SNAPSHOT_BYTES:
                raise ValueError(f"a snapshot is at most {MAX_SNAPSHOT_BYTES} bytes")
            return Snapshot.from_json(json.loads(body))

    # --8<-- [end:catch_up]


def snapshot_token(config: NodeConfig) -> Secret | None:
    """A snapshot holds the whole store: it needs the cluster token, else the kv token."""
    return config.cluster_token if config.cluster_token is not None else config.kv_token


def snapshot_headers(config: NodeConfig) -> dict[str, str] | None:
    token = snapshot_token(config)
    return None if token is None else {"Authorization": f"Bearer {token.reveal()}"}


def contents(store: KVStore) -> dict[str, bytes]:
    """Every key and its value (a copy: the store changes while a snapshot is sent)."""
    return {key: store.get(key) or b"" for key in store.keys("")}


# --8<-- [start:snapshot]
async def get_snapshot(request: web.Request) -> web.Response:
    """``GET /cluster/snapshot``: the leader's whole store, for a node that joins."""
    token = snapshot_token(request.app[NODE_CONFIG])
    if token is not None and not token.allows(request.headers.get("Authorization")):
        return json_error(401, "unauthorized", "a snapshot needs the cluster token")
    elector, store = request.app[DRIVER].elector, request.app[BACKEND]
    if elector.leader != elector.name:
        raise ApiError(409, "not_leader", f"{elector.name} does not lead; ask {elector.leader}")
    assert isinstance(store, ReplicatedKV)
    items = contents(store.store)
    return web.json_response(Snapshot(elector.name, elector.term, items).to_json())


# --8<-- [end:snapshot]


async def get_replication(request: web.Request) -> web.Response:
    """``GET /cluster/replication``: this node's store in short, to compare replicas."""
    driver = request.app[DRIVER]
    assert isinstance(driver, ReplicationDriver)
    elector, store = driver.elector, driver.backend.store
    items = contents(store)
    body = {
        "name": elector.name,
        "role": elector.role.value,
        "term": elector.term,
        "leader": elector.leader,
        "keys": len(items),
        "digest": digest(items),
        "copied": driver.copied,
    }
    return web.json_response(body)


# --8<-- [start:label]
async def label_response(request: web.Request, response: web.StreamResponse) -> None:
    """Every ``/kv`` answer says which node gave it and whether that node leads; a ``503``
    says when to try again."""
    if not kv_request(request):
        return
    elector = request.app[DRIVER].elector
    response.headers["X-DDB-Node"] = elector.name
    response.headers["X-DDB-Role"] = elector.role.value
    if response.status == 503:
        response.headers.setdefault("Retry-After", str(RETRY_AFTER))


# --8<-- [end:label]


def believed_leader(elector: Elector) -> str | None:
    """Who leads, as this node believes; itself only while it is the leader."""
    if elector.leader == elector.name and elector.role != Role.LEADER:
        return None
    return elector.leader


# --8<-- [start:create_replication_app]
def create_replication_app(
    config: NodeConfig,
    new_elector: ElectorFactory,
    storage: Storage | None = None,
    rng: random.Random | None = None,
    *,
    replication_timeout: float = 1.0,
) -> web.Application:
    """The v2.1 node with v2.2's backend, driver and routes. A replicated write carries its
    value in base64, so a message may be 4/3 of ``max_value_bytes``, and a little more."""
    backend = ReplicatedKV(replication_timeout)
    max_message_bytes = config.max_value_bytes * 4 // 3 + 64 * 1024
    app = create_election_app(
        config, new_elector, storage, rng, driver=ReplicationDriver,
        max_message_bytes=max_message_bytes, backend=backend,
    )  # fmt: skip
    driver = app[DRIVER]
    backend.attach(
        Cluster(
            name=config.name,
            session=lambda: app[SESSION],
            leader=lambda: believed_leader(driver.elector),
            term=lambda: driver.elector.term,
            followers=lambda: sorted(driver.elector.peers),
            url_of=driver.peers.url,
        )
    )
    app.router.add_get("/cluster/snapshot", get_snapshot)
    app.router.add_get("/cluster/replication", get_replication)
    app.on_response_prepare.append(label_response)
    return app


# --8<-- [end:create_replication_app]
