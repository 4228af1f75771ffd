"""``ddb nodes``: the registry's table of live nodes, each with the pid it reports.

The table's shape (:func:`format_table`, :data:`NODE_COLUMNS`, :func:`node_row`) is what a
later stage extends: v2.1 adds each node's role, term and leader as columns.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Callable

import aiohttp

from stages.v1_kv.cli import fail
from stages.v1_kv.client import ClientError
from stages.v1_kv.runner import http_url, positive_float
from stages.v2_registry.client import RegistryClient, pid_of
from stages.v2_registry.models import NodeInfo

DEFAULT_REGISTRY = "http://127.0.0.1:8080"


def format_table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


NODE_COLUMNS = ["NAME", "PID", "URL", "LAST SEEN"]


def node_row(node: NodeInfo, pid: int | None) -> list[str]:
    """A node's first columns; PID is ``-`` when the node did not say (not answering)."""
    return [node.name, str(pid or "-"), node.url, f"{node.last_seen_seconds_ago:.1f}s ago"]


def nodes_table(nodes: list[NodeInfo], pids: list[int | None]) -> str:
    rows = [NODE_COLUMNS] + [node_row(n, pid) for n, pid in zip(nodes, pids, strict=True)]
    return format_table(rows)


async def _fetch_nodes(url: str, timeout: float) -> tuple[list[NodeInfo], list[int | None]]:
    async with aiohttp.ClientSession() as session:  # one session for every call
        nodes = await RegistryClient(url, timeout=timeout, session=session).nodes()
        pids = await asyncio.gather(*(pid_of(node.url, session, timeout) for node in nodes))
    return nodes, list(pids)


def nodes_json(nodes: list[NodeInfo], pids: list[int | None]) -> str:
    """``ddb nodes --json``: the registry's entries, each with the pid its node reported."""
    entries = [{**n.to_json(), "pid": pid} for n, pid in zip(nodes, pids, strict=True)]
    return json.dumps(entries, indent=2)


def run_nodes(args: argparse.Namespace) -> int:
    try:
        nodes, pids = asyncio.run(_fetch_nodes(args.registry, args.timeout))
    except ClientError as exc:
        return fail(str(exc))
    if args.json:
        print(nodes_json(nodes, pids))
    else:
        print(nodes_table(nodes, pids) if nodes else "no nodes are registered")
    return 0


def add_nodes_parser(
    parser: argparse.ArgumentParser, run: Callable[[argparse.Namespace], int] = run_nodes
) -> None:
    parser.add_argument(
        "--registry",
        "-ra",
        type=http_url,
        default=DEFAULT_REGISTRY,
        metavar="URL",
        help="the registry's address (default: %(default)s)",
    )
    parser.add_argument(
        "--timeout",
        type=positive_float,
        default=5.0,
        help="seconds to wait for the registry (default: %(default)s)",
    )
    parser.add_argument(
        "--json", action="store_true", help="print a JSON array, for scripts, instead of a table"
    )
    parser.set_defaults(func=run)
