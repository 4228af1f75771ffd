"""Where a v3.0 node's key/value requests go: :class:`RaftKV`, v1's backend seam, on the log.

v1's handlers call ``write`` for every PUT and DELETE and ``read`` for every GET. Here a
write becomes a :class:`~.kv.Command` (with the request's client id and sequence number,
and ``If-Match``'s version for compare-and-set), is proposed to the log, and returns once
it is applied, with its result; a read is linearizable (ReadIndex, on the leader), or
*stale* (``?consistency=stale``: any node's applied state). A node that does not lead
answers as v2.2's followers do: ``307`` to the leader, ``503`` when it knows none.

What v1's API lacks, a request's extra headers and the answer's, travels in a
:class:`~.headers.KVRequest` that the middleware (:mod:`~.headers`) makes for each
request.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable

from aiohttp import web

from stages.v1_kv.commands import Command as V1Command
from stages.v1_kv.commands import Put, WriteResult
from stages.v1_kv.errors import ApiError
from stages.v2_2_replication.backend import RETRY_AFTER
from stages.v3_replicated_log.driver import OutcomeUnknown, RaftDriver
from stages.v3_replicated_log.headers import KVRequest, PreconditionFailed, current
from stages.v3_replicated_log.kv import Command
from stages.v3_replicated_log.machine import Applied, encode
from stages.v3_replicated_log.raft import NotLeader


class RaftKV:
    """v1's :class:`~stages.v1_kv.backend.KVBackend` on a replicated log; see the module."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout  # the longest a client waits for its write or read
        self._driver: Callable[[], RaftDriver] | None = None
        self.anonymous = f"anonymous/{uuid.uuid4().hex[:12]}"  # writes without a client id
        self.anonymous_seq = 0

    def attach(self, driver: Callable[[], RaftDriver]) -> None:
        self._driver = driver

    @property
    def driver(self) -> RaftDriver:
        assert self._driver is not None, "the backend is not attached to a node"
        return self._driver()

    # --8<-- [start:write]
    async def write(self, command: V1Command) -> WriteResult:
        request = current()
        self.refuse_stale(request)
        proposed = self.command(command, request)
        try:
            answer = self.driver.propose(proposed)
        except NotLeader as exc:
            raise self.not_here(exc.leader, request) from None
        except ValueError as exc:  # longer than one log entry may be
            raise ApiError(413, "command_too_large", str(exc)) from None
        try:
            async with asyncio.timeout(self.timeout):
                result = await asyncio.shield(answer)  # the proposal lives on after a timeout
        except TimeoutError:
            raise OutcomeUnknown(f"not applied within {self.timeout} s") from None
        assert isinstance(result, Applied)
        request.answer["X-Raft-Index"] = str(result.index)
        if result.version:
            request.answer["ETag"] = f'"{result.version}"'
        if proposed.op == "cas" and not result.ok:
            raise PreconditionFailed(result.version)
        return WriteResult(existed=result.existed)

    def refuse_stale(self, request: KVRequest) -> None:
        """A client numbers its requests in order, one at a time (the state machine keeps
        only its last): a number below its last one applied is a mistake, ``409``."""
        if request.client is None:
            return
        client, seq = request.client
        seen = self.driver.machine.sessions.get(client)
        if seen is not None and seq < seen[0]:
            raise ApiError(
                409, "stale_sequence", f"X-Client-Seq {seq} is older than {client}'s last "
                f"request, {seen[0]}: a client numbers its requests in order, one at a time",
            )  # fmt: skip

    def command(self, command: V1Command, request: KVRequest) -> Command:
        """v1's Put or Delete as the log's command, identified by the request's client and
        sequence number, or by this node's own (a request without them is not retried)."""
        if request.client is not None:
            client, seq = request.client
        else:
            self.anonymous_seq += 1
            client, seq = self.anonymous, self.anonymous_seq
        if not isinstance(command, Put):
            return Command("delete", command.key, client, seq)
        value = encode(command.value)
        if request.if_match is None:
            return Command("put", command.key, client, seq, value)
        return Command("cas", command.key, client, seq, value, expected=request.if_match)

    # --8<-- [end:write]

    # --8<-- [start:read]
    async def read(self, key: str) -> bytes | None:
        request, driver = current(), self.driver
        if not request.stale:
            try:
                async with asyncio.timeout(self.timeout):
                    index = await driver.read_index()
            except NotLeader as exc:
                raise self.not_here(exc.leader, request) from None
            except TimeoutError:
                raise ApiError(
                    503, "read_unconfirmed", f"no majority confirmed the leader within "
                    f"{self.timeout} s; try again, or read with ?consistency=stale",
                ) from None  # fmt: skip
            request.answer["X-Raft-Index"] = str(index)
        request.answer["X-Raft-Applied"] = str(driver.machine.applied)
        found = driver.machine.value(key)
        if found is None:
            return None
        request.answer["ETag"] = f'"{found[1]}"'
        return found[0]

    # --8<-- [end:read]

    async def keys(self, prefix: str = "") -> list[str]:
        """This node's applied state (like a stale read)."""
        return self.driver.machine.keys(prefix)

    async def count(self) -> int:
        return len(self.driver.machine.data)

    # --8<-- [start:not_here]
    def not_here(self, leader: str | None, request: KVRequest) -> Exception:
        """As v2.2's followers answer: ``307`` to the same path on the leader, or ``503``."""
        driver = self.driver
        url = None if leader is None else driver.peers.url(leader)
        if leader is None or url is None:
            return ApiError(  # the Retry-After header is added on the way out (v2.2's label)
                503,
                "no_leader",
                f"{driver.core.name} knows no leader yet (an election may be under way); "
                f"try again in {RETRY_AFTER} s",
            )
        location = url + request.path_qs
        body = {"leader": leader, "leader_url": url, "location": location}
        return web.HTTPTemporaryRedirect(
            location, text=json.dumps(body) + "\n", content_type="application/json"
        )

    # --8<-- [end:not_here]
