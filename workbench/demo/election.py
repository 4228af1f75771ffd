"""Stage v2's dashboard, shown the election: each node's own ``/cluster/status``.

Stage v2 offers the hook (:class:`~workbench.demo.dashboard.Stage`): how to look at
one node, and which watch turns looks into events. This stage asks each running node
for its role, term and leader, and watches with
:class:`~stages.v2_1_election.watch.ElectionWatch`.
"""

from __future__ import annotations

import aiohttp

from stages.v1_kv.client import ClientError
from stages.v2_1_election.client import ElectionClient
from stages.v2_1_election.watch import ElectionSeen, ElectionWatch
from stages.v2_registry.models import InvalidMessage
from workbench.demo.dashboard import ASK_TIMEOUT, Stage
from workbench.demo.supervisor import RUNNING, Child


# --8<-- [start:look_at_election]
async def look_at_election(
    session: aiohttp.ClientSession, child: Child, age: float | None
) -> ElectionSeen:
    """A node's process, its heartbeat's age, and its own view of the election."""
    process = child.state()
    seen = ElectionSeen(child.name, child.url, child.pid, process, age)
    if process != RUNNING:
        return seen  # a paused process cannot answer, and a dead one will not
    try:
        status = await ElectionClient(child.url, timeout=ASK_TIMEOUT, session=session).status()
    except (ClientError, InvalidMessage):
        return seen  # starting, stopping, or too busy to answer in time
    return ElectionSeen(
        child.name,
        child.url,
        child.pid,
        process,
        age,
        status.role,
        status.term,
        status.leader,
        status.voter,
    )


# --8<-- [end:look_at_election]

ELECTION_STAGE = Stage("v2.1", ElectionWatch, look_at_election)
