"""``python -m tests.v3_replicated_log.labcheck URL...``: how far each v3 node has come.

The lab test runs it on the lab's client host (``ip netns exec``), the one host that
reaches every node. It prints one JSON object: whether the cluster has caught up (one
leader, all of whose entries are committed and applied everywhere: ``ddb nemesis``'s
rule), each node's ``/cluster/log``, and a digest of each node's own copy of the data
(every key read with ``?consistency=stale``).
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import aiohttp

from workbench.nemesis.stages import ReplicatedLog, get_json


async def look(urls: list[str]) -> dict[str, object]:
    stage = ReplicatedLog(names=(), data=Path())  # its reads only: no node is started here
    named = {f"n{i}": url for i, url in enumerate(urls, start=1)}
    timeout = aiohttp.ClientTimeout(total=2.0)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        return {
            "caught_up": await stage.caught_up(session, named),
            "logs": {
                name: await get_json(session, f"{url}/cluster/log") for name, url in named.items()
            },
            "digests": {name: await stage.digest(session, url) for name, url in named.items()},
        }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(look(sys.argv[1:]))))
