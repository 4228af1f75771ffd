"""``ddb workload``: concurrent clients against real nodes, recording a history to check.

Each client is a process in the history's sense: it calls one operation at a time (a read,
or a write of a value no other write uses), waits for the answer, and records both, with
the time and the node that answered, in the order they happened. Unique values make a
history checkable: a read names the one write it saw.

What an HTTP answer means for the history:

* ``2xx`` is ``ok``; for a read, ``404`` with the error ``key_not_found`` is ``ok`` with
  ``null`` (the key is missing);
* any other ``4xx`` is ``fail``: the server refused the request, so it did not happen;
  so is a refused connection (nothing was sent), and a ``503`` that says there is no leader
  (the node refused the request before doing anything with it);
* a timeout, a lost connection or any other ``5xx`` is ``info``: the write may or may not
  have taken effect. That client then never calls again; a fresh process number takes its
  place (Jepsen's rule, which the checker relies on).
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any

import aiohttp

ROUTES = ("random", "fixed", "leader")


@dataclass(frozen=True)
class WorkloadConfig:
    urls: tuple[str, ...]
    clients: int = 5
    keys: int = 3
    duration: float = 5.0  # seconds, unless ``operations`` is given
    operations: int | None = None
    timeout: float = 1.0  # per request: past it, the outcome is unknown (info)
    route: str = "random"
    reads: float = 0.5  # the share of reads; the rest are writes
    seed: int = 0
    key_prefix: str = ""  # keys are PREFIXk0, PREFIXk1, ...: fresh ones for each run


@dataclass
class Recorder:
    """The history, line by line, in the order the event loop saw things happen."""

    out: IO[str]
    started: int = field(default_factory=time.monotonic_ns)
    calls: int = 0
    operations: int = 0  # returned
    succeeded: int = 0
    unknown: int = 0
    failed: int = 0
    next_process: int = 0

    def new_process(self) -> int:
        self.next_process += 1
        return self.next_process - 1

    def record(
        self, process: int, kind: str, f: str, key: str, value: Any, node: str | None = None,
        role: str | None = None,
    ) -> None:  # fmt: skip
        event = {
            "process": process,
            "type": kind,
            "f": f,
            "key": key,
            "value": value,
            "time": time.monotonic_ns() - self.started,
        }
        if node is not None:
            event["node"] = node
        if role is not None:
            event["role"] = role  # not the checker's business; a report's (ddb nemesis)
        self.out.write(json.dumps(event) + "\n")
        if kind == "invoke":
            self.calls += 1
        else:
            self.operations += 1
            self.unknown += kind == "info"
            self.succeeded += kind == "ok"
            self.failed += kind == "fail"


# --8<-- [start:request]
@dataclass(frozen=True)
class Answer:
    """What the history records of an operation's return: its type, the value, and which
    node answered (its ``X-DDB-Node`` name, or else its address) in which ``X-DDB-Role``."""

    type: str
    value: Any
    node: str | None = None
    role: str | None = None


async def request(
    session: aiohttp.ClientSession, f: str, url: str, key: str, value: int | None,
    timeout: float, query: str = "",
) -> Answer:  # fmt: skip
    """Do one operation over HTTP (``query``: added to the URL, as ``?consistency=stale``),
    and say what it did, as the history says."""
    method = {"read": "GET", "write": "PUT"}[f]
    data = None if value is None else str(value).encode()
    try:
        async with session.request(
            method,
            f"{url}/kv/{key}{query}",
            data=data,
            timeout=aiohttp.ClientTimeout(total=timeout),
        ) as response:
            body = await response.read()
            node = response.headers.get("X-DDB-Node", f"{response.url.host}:{response.url.port}")
            role = response.headers.get("X-DDB-Role")
            if f == "read" and response.status == 404 and _error(body) == "key_not_found":
                return Answer("ok", None, node, role)  # the key is missing, as the server says
            if 200 <= response.status < 300:
                return Answer("ok", _number(body) if f == "read" else value, node, role)
            if 400 <= response.status < 500 or _error(body) == "no_leader":
                return Answer("fail", value, node, role)
            return Answer("info", value, node, role)  # a 5xx: it may have been done
    except aiohttp.ClientConnectorError:
        return Answer("fail", value)  # no connection, so no request: it did not happen
    except (TimeoutError, aiohttp.ClientError):
        return Answer("info", value)  # no answer: nobody knows whether it happened


# --8<-- [end:request]


def _error(body: bytes) -> object:
    """The error code of a JSON error body (``key_not_found``: the key is missing, not a
    wrong URL; ``no_leader``), or None."""
    try:
        error = json.loads(body).get("error", {})
    except (ValueError, AttributeError):
        return None
    return error.get("code") if isinstance(error, dict) else None


def _number(body: bytes) -> int | str:
    text = body.decode("utf-8", "replace")
    return int(text) if text.isascii() and text.isdigit() and len(text) < 30 else text


async def leader_url(session: aiohttp.ClientSession, urls: tuple[str, ...], timeout: float) -> str:
    """The leader's URL, as the first node that knows it says (``/cluster/status``)."""
    for url in urls:
        try:
            async with session.get(
                f"{url}/cluster/status", timeout=aiohttp.ClientTimeout(total=timeout)
            ) as response:
                leader = (
                    (await response.json()).get("leader_url") if response.status == 200 else None
                )
        except (TimeoutError, aiohttp.ClientError, ValueError):
            continue
        if isinstance(leader, str):
            return leader.rstrip("/")
    return urls[0]


async def client(
    config: WorkloadConfig,
    rng: random.Random,
    recorder: Recorder,
    session: aiohttp.ClientSession,
    values: list[int],
    done: Callable[[], bool],
    index: int,
) -> None:
    """One client: an operation at a time until ``done``; a new process after each info."""
    process = recorder.new_process()
    while True:
        if config.route == "fixed":
            url = config.urls[index % len(config.urls)]
        elif config.route == "leader":
            url = await leader_url(session, config.urls, config.timeout)
        else:
            url = rng.choice(config.urls)
        if done():
            return
        f = "read" if rng.random() < config.reads else "write"
        key = f"{config.key_prefix}k{rng.randrange(config.keys)}"
        value: int | None = None
        if f == "write":
            values[0] += 1
            value = values[0]
        recorder.record(process, "invoke", f, key, value)
        answer = await request(session, f, url, key, value, config.timeout)
        recorder.record(process, answer.type, f, key, answer.value, answer.node, answer.role)
        if answer.type == "info":
            process = recorder.new_process()


# --8<-- [start:run_workload]
async def run_workload(
    config: WorkloadConfig, out: IO[str], progress: Callable[[Recorder, float], None] | None = None
) -> Recorder:
    """Run ``config.clients`` clients at once until the time or the count is reached."""
    recorder = Recorder(out)
    rng = random.Random(config.seed)
    started = time.monotonic()
    values = [0]  # the last value written: every write writes a new one

    def done() -> bool:
        if config.operations is not None:
            return recorder.calls >= config.operations
        return time.monotonic() - started >= config.duration

    connector = aiohttp.TCPConnector(limit=0)  # every client its own connection, no queue
    async with aiohttp.ClientSession(connector=connector) as session:
        # aiohttp sends an idempotent request (a PUT) again, once, when a kept-alive connection
        # turns out to be closed. A write that took effect before the server closed would then
        # happen twice while the history says once: no retries behind the history's back.
        session._retry_connection = False
        clients = [
            asyncio.create_task(
                client(config, random.Random(rng.random()), recorder, session, values, done, i)
            )
            for i in range(config.clients)
        ]
        while not all(task.done() for task in clients):
            await asyncio.wait(clients, timeout=0.2)
            if progress is not None:
                progress(recorder, time.monotonic() - started)
        for task in clients:
            task.result()  # a bug in a client is not a history
    return recorder


# --8<-- [end:run_workload]


def show_progress(recorder: Recorder, elapsed: float) -> None:
    """``812 operations, 3 unknown, 0 failed, 4 s`` on stderr, rewritten in place."""
    sys.stderr.write(
        f"\r{recorder.operations} operations, {recorder.unknown} unknown, "
        f"{recorder.failed} failed, {elapsed:.0f} s\x1b[K"
    )
    sys.stderr.flush()
