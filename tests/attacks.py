"""Unfriendly clients, for the robustness tests and for trying them by hand.

Each attack is what the issue that asked for robustness measured against the
cluster. Run one against a cluster started with ``make run``::

    python -m tests.attacks flood --registry http://127.0.0.1:8080 --names 5000 --seconds 10
    python -m tests.attacks joins --node http://127.0.0.1:8051 --count 3000 --seconds 10

They only ever talk to the addresses they are given (loopback, in our use).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time

import aiohttp


async def flood_registrations(
    registry: str, names: int, seconds: float, renew_every: float = 1.0
) -> dict[str, int]:
    """Keep ``names`` made-up nodes (at 127.0.0.1:1) registered for ``seconds``.

    Returns how the registry answered, by status code, e.g. ``{"201": 1000, "409": 40000}``.
    """
    answers: dict[str, int] = {}
    connector = aiohttp.TCPConnector(limit=64)
    timeout = aiohttp.ClientTimeout(total=5)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def register(i: int) -> None:
            body = {"name": f"fake{i:05d}", "port": 1, "host": "127.0.0.1"}
            try:
                async with session.post(f"{registry}/nodes", json=body) as resp:
                    await resp.read()
                    key = str(resp.status)
            except (aiohttp.ClientError, TimeoutError):
                key = "error"
            answers[key] = answers.get(key, 0) + 1

        end = time.monotonic() + seconds
        while time.monotonic() < end:
            started = time.monotonic()
            await asyncio.gather(*(register(i) for i in range(names)))
            await asyncio.sleep(max(0.0, renew_every - (time.monotonic() - started)))
    return answers


async def forged_joins(node: str, count: int, seconds: float) -> dict[str, int]:
    """Send ``count`` Join messages from made-up names to ``node``, spread over ``seconds``."""
    answers: dict[str, int] = {}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
        start = time.monotonic()
        for i in range(count):
            body = {"type": "join", "sender": f"zz-forged-{i:05d}", "term": 0}
            try:
                async with session.post(f"{node}/cluster/join", json=body) as resp:
                    await resp.read()
                    key = str(resp.status)
            except (aiohttp.ClientError, TimeoutError):
                key = "error"
            answers[key] = answers.get(key, 0) + 1
            await asyncio.sleep(max(0.0, start + seconds * (i + 1) / count - time.monotonic()))
    return answers


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.attacks", description=__doc__)
    sub = parser.add_subparsers(dest="attack", required=True)
    flood = sub.add_parser("flood", help="keep many made-up names registered")
    flood.add_argument("--registry", default="http://127.0.0.1:8080")
    flood.add_argument("--names", type=int, default=5000)
    flood.add_argument("--seconds", type=float, default=10.0)
    joins = sub.add_parser("joins", help="send Join messages from made-up names to a node")
    joins.add_argument("--node", default="http://127.0.0.1:8051")
    joins.add_argument("--count", type=int, default=3000)
    joins.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    if args.attack == "flood":
        answers = asyncio.run(flood_registrations(args.registry, args.names, args.seconds))
    else:
        answers = asyncio.run(forged_joins(args.node, args.count, args.seconds))
    print(json.dumps(answers))  # how the server answered, by HTTP status


async def attack(*args: str, timeout: float = 60) -> dict[str, int]:
    """Run an attack in a process of its own (so it does not slow the test's own loop)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.attacks", *args, stdout=asyncio.subprocess.PIPE
    )
    try:
        stdout, _ = await asyncio.wait_for(proc.communicate(), timeout=timeout)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, f"python -m tests.attacks {' '.join(args)} failed"
    return dict(json.loads(stdout))


if __name__ == "__main__":
    main()
