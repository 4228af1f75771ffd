"""``ddb status`` (one node's view of the election) and ``ddb nodes`` with roles (the
registry's table, with each v2.1 node's role, term and leader as more columns)."""

from __future__ import annotations

import argparse
import asyncio
import json

from stages.v1_kv.cli import fail
from stages.v1_kv.client import ClientError
from stages.v2_1_election.client import ClusterStatus, ElectionClient, nodes_with_status
from stages.v2_registry.listing import NODE_COLUMNS, format_table, node_row, nodes_table


async def _status(url: str, timeout: float) -> ClusterStatus:
    async with ElectionClient(url, timeout=timeout) as client:
        return await client.status()


def format_status(status: ClusterStatus) -> str:
    leader = status.leader or "(none known)"
    if status.leader_url:
        leader += f" ({status.leader_url})"
    rows = [
        ["name", status.name],
        ["role", status.role],
        ["term", str(status.term)],
        ["leader", leader],
        ["peers", ", ".join(status.peers) or "(none)"],
        ["algorithm", status.algorithm],
    ]
    return format_table(rows)


def run_status(args: argparse.Namespace) -> int:
    try:
        status = asyncio.run(_status(args.url, args.timeout))
    except ClientError as exc:
        return fail(str(exc))
    print(json.dumps(status.to_json(), indent=2) if args.json else format_status(status))
    return 0


# -- ddb nodes, with roles -------------------------------------------------------------


async def _nodes_table_with_roles(registry_url: str, timeout: float, as_json: bool) -> str:
    """The registry's table; with ROLE, TERM and LEADER columns when the nodes are v2.1 nodes.
    ``as_json``: the same as a JSON array, each node with its election view (or null)."""
    found = await nodes_with_status(registry_url, timeout)
    nodes = [view.node for view in found]
    pids = [view.pid for view in found]
    statuses = [view.status for view in found]
    if as_json:
        entries = [
            {**v.node.to_json(), "pid": v.pid, "election": v.status and v.status.to_json()}
            for v in found
        ]
        return json.dumps(entries, indent=2)
    if not nodes:
        return "no nodes are registered"
    if all(status is None for status in statuses):
        return nodes_table(nodes, pids)  # v2 nodes: nothing to add
    rows = [[*NODE_COLUMNS, "ROLE", "TERM", "LEADER"]]
    for node, pid, status in zip(nodes, pids, statuses, strict=True):
        extra = ["-", "-", "-"]
        if status is not None:
            extra = [status.role, str(status.term), status.leader or "-"]
        rows.append([*node_row(node, pid), *extra])
    return format_table(rows)


def run_nodes_with_roles(args: argparse.Namespace) -> int:
    try:
        print(asyncio.run(_nodes_table_with_roles(args.registry, args.timeout, args.json)))
    except ClientError as exc:
        return fail(str(exc))
    return 0
