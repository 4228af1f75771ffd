"""The lab's operations: build it, start its processes, cut and heal it, read it, remove it.

Each operation takes a :class:`~workbench.lab.plan.Plan`, which ``ddb lab up``
makes from its flags and every later command finds again from the names on the system
(:func:`found_plan`). The ``ip`` commands themselves are in the plan; this module runs them.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

from stages.v2_registry.listing import format_table
from workbench.lab import netns
from workbench.lab.plan import (
    CLIENT,
    HOST_NAME,
    Host,
    LabError,
    Plan,
    bridge_commands,
    claim_commands,
    client_commands,
    client_routes,
    heal_commands,
    host,
    host_commands,
    node_command,
    node_url,
    partition_commands,
    plan,
    prefix_of,
    registry_command,
)


def check_free(lab: str, say: Callable[[str], None] = print) -> None:
    """Refuse a lab that is up; remove the leftovers of one whose owner has died."""
    if lab not in netns.labs():
        return
    pid = netns.owner(lab)
    if pid is not None:
        raise LabError(f"lab {lab} is up already (pid {pid}); 'ddb lab down --lab {lab}' ends it")
    if netns.bridge_alias(lab) == "":  # made a moment ago: its builder names itself next
        raise LabError(
            f"lab {lab} is being built by another 'ddb lab up' (if none is running, one "
            f"stopped halfway: 'ddb lab down --lab {lab}' removes what it made)"
        )
    say(f"lab {lab}: removing what an earlier run left behind (its owner is gone)")
    netns.remove(lab, say)


# --8<-- [start:build]
def claim(plan: Plan) -> None:
    """Make bridge a, named for our pid: the lock. Of two runs that build the same lab at
    once, only one can add it; the other stops here, having made nothing."""
    make_bridge_a, name_owner = claim_commands(plan, netns.my_alias())
    try:
        netns.run(make_bridge_a)
    except LabError as exc:
        if "exists" not in str(exc):
            raise
        raise LabError(f"lab {plan.lab} is up already, or another run is building it") from None
    try:
        netns.run(name_owner)
    except BaseException:  # a bridge without its owner's name would read "being built"
        with contextlib.suppress(LabError):
            netns.run(["ip", "link", "del", plan.bridge_a])
        raise


def build(plan: Plan, say: Callable[[str], None] = print) -> None:
    """After :func:`claim`: bridge b and every host; if any step fails, remove what was
    made."""
    try:
        netns.run_all(bridge_commands(plan, netns.my_alias()))
        for each in plan.hosts:
            netns.run_all(host_commands(plan, each))
    except BaseException:
        netns.remove(plan.lab, say)
        raise
    say(f"lab {plan.lab}: {len(plan.hosts)} hosts on {plan.bridge_a}, {plan.registry.address} "
        f"to {plan.nodes[-1].address}")  # fmt: skip


def add_host(plan: Plan, name: str) -> Host:
    """One more host on bridge a (a stranger on the lab's network, say)."""
    extra = host(plan.lab, name)
    netns.run_all(host_commands(plan, extra))
    return extra


def start(
    where: Host, command: list[str], env: dict[str, str], log: IO[Any] | None = None
) -> subprocess.Popen[bytes]:
    """``ddb COMMAND`` inside the host's namespace; its log to ``log`` (default: ours).

    Its own session, so Ctrl-C reaches only ``ddb lab up``, which then ends everything."""
    return subprocess.Popen(
        netns.in_namespace(where.namespace, [sys.executable, "-m", "stages", *command]),
        env={**env, "PYTHONUNBUFFERED": "1"},
        stdout=log,
        stderr=subprocess.STDOUT if log is not None else None,
        start_new_session=True,
    )


# --8<-- [end:build]


def add_client(plan: Plan) -> Host:
    """The client host, on both bridges: a workload there reaches each side of a cut."""
    netns.run_all(client_commands(plan))
    return host(plan.lab, CLIENT)


def has_client(plan: Plan) -> bool:
    return host(plan.lab, CLIENT).namespace in netns.namespaces()


def workload(plan: Plan, options: list[str]) -> int:
    """``ddb workload`` with every node's URL and ``options``, run on the client host."""
    if not has_client(plan):
        raise LabError(f"lab {plan.lab} has no client host ('ddb lab up --stage v3' makes one)")
    urls = [node_url(node) for node in plan.nodes]
    command = [sys.executable, "-m", "stages", "workload", *urls, *options]
    where = host(plan.lab, CLIENT).namespace
    return subprocess.run(netns.in_namespace(where, command), check=False).returncode


def partition(plan: Plan, side_a: list[str], side_b: list[str]) -> None:
    routes = client_routes(plan, side_b) if has_client(plan) else []
    netns.run_all([*partition_commands(plan, side_a, side_b), *routes])


def heal(plan: Plan) -> None:
    netns.run_all([*heal_commands(plan), *(client_routes(plan, []) if has_client(plan) else [])])


def found_plan(lab: str) -> Plan:
    """The plan of a lab that is up, from the names of its namespaces."""
    prefix = prefix_of(lab)
    names = [ns.removeprefix(prefix) for ns in netns.namespaces() if ns.startswith(prefix)]
    count = sum(1 for name in names if HOST_NAME.fullmatch(name) and name.startswith("n"))
    if "reg" not in names or count == 0:
        raise LabError(f"lab {lab} is not up ('ddb lab up --lab {lab}' starts it)")
    return plan(lab, count)


# -- what each host sees -----------------------------------------------------------------


@dataclass(frozen=True)
class View:
    """One host's answer, asked from inside its own namespace."""

    host: Host
    side: str  # the bridge it is on: a, or b during a partition
    body: dict[str, Any] | None  # None: no answer
    error: str = ""


def ask(where: Host, urls: list[str]) -> subprocess.Popen[str]:
    probe = [sys.executable, "-m", "workbench.lab.probe", *urls]
    return subprocess.Popen(  # its own session: Ctrl-C is for us, not for a probe
        netns.in_namespace(where.namespace, probe),
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def views(plan: Plan) -> list[View]:
    """Each node's ``/cluster/status`` and the registry's ``/nodes``, all asked at once."""
    links = netns.links()
    asked = {plan.registry: ask(plan.registry, [f"{plan.registry_url}/nodes"])}
    asked.update({node: ask(node, [f"{node_url(node)}/cluster/status"]) for node in plan.nodes})
    found = []
    for each, proc in asked.items():
        out, _ = proc.communicate(timeout=30)
        answer = json.loads(out.splitlines()[0]) if out.strip() else {"error": "no probe"}
        side = "b" if links.get(each.veth, {}).get("master") == plan.bridge_b else "a"
        body = answer.get("body")
        found.append(
            View(each, side, body if isinstance(body, dict) else None, answer.get("error", ""))
        )
    return found


def format_views(found: list[View]) -> str:
    rows = [["HOST", "ADDRESS", "SIDE", "ROLE", "TERM", "LEADER", "PEERS"]]
    for view in found:
        body = view.body or {}
        if view.body is None:
            row = ["-", "-", "-", f"(no answer: {view.error})"]
        elif view.host.is_node:
            peers = ", ".join(body["peers"]) or "-"
            row = [body["role"], str(body["term"]), body["leader"] or "-", peers]
        else:
            listed = ", ".join(sorted(node["name"] for node in body["nodes"])) or "nobody"
            row = ["registry", "-", "-", f"lists {listed}"]
        rows.append([view.host.name, view.host.address, view.side, *row])
    return format_table(rows)


def wait_answers(
    where: Host, url: str, timeout: float, until: Callable[[Any], bool] = lambda body: True
) -> None:
    """Poll ``url`` from inside ``where`` until its answer satisfies ``until``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out, _ = ask(where, [url]).communicate(timeout=30)
        answer = json.loads(out.splitlines()[0]) if out.strip() else {}
        if "body" in answer and until(answer["body"]):
            return
        time.sleep(0.2)
    raise LabError(f"{url} did not answer as expected within {timeout:.0f}s")


# --8<-- [start:start_cluster]
def start_cluster(
    plan: Plan,
    election: list[str],
    env: dict[str, str],
    timeout: float,
    log: Callable[[Host], IO[Any] | None] = lambda host: None,
    stage: str = "v2.1",
    node_flags: Callable[[str], tuple[str, ...]] = lambda name: (),
) -> dict[str, subprocess.Popen[bytes]]:
    """The registry; then the highest node alone, until it leads (Bully) or answers; then
    the others. So Bully's leader is the highest node on every run, however busy the machine:
    a node that joins a cluster with a leader follows it (leadership is sticky).

    ``stage`` is ``v2.1`` or ``v3``; ``node_flags(name)``: one node's own flags (a v3 node's
    ``--data-dir``)."""
    started = {"reg": start(plan.registry, registry_command(plan), env, log(plan.registry))}
    wait_answers(plan.registry, f"{plan.registry_url}/health", timeout)
    bully = "bully" in election
    for node in sorted(plan.nodes, key=lambda node: node.name, reverse=True):
        command = node_command(plan, node, [*election, *node_flags(node.name)], stage)
        started[node.name] = start(node, command, env, log(node))
        if len(started) == 2:
            wait_answers(node, f"{node_url(node)}/cluster/status", timeout,
                         lambda body: not bully or body["role"] == "leader")  # fmt: skip
    return started


# --8<-- [end:start_cluster]
