"""Real processes, started with the same ``ddb`` commands a user types."""

from __future__ import annotations

import re
import signal
import time

import pytest

from stages.v2_registry.client import RegistryClient
from stages.v2_registry.membership import DEFAULT_HEARTBEAT_INTERVAL as INTERVAL
from stages.v2_registry.node import NodeConfig
from stages.v2_registry.registry import DEFAULT_TTL as TTL
from workbench.harness import LOADED, SETUP, DdbProcess, Processes, wait_until

pytestmark = pytest.mark.timeout(60)

# A node learns it is registered once a beat's two calls (register, then list the nodes) have
# both answered. If one of them timed out (a busy machine: each has REQUEST_TIMEOUT), the next
# beat comes at most 1.5 intervals later, and its answers tell it.
REQUEST_TIMEOUT = NodeConfig("n1", "http://127.0.0.1:1", 8051).registry_timeout  # the default
KNOWN = 2 * REQUEST_TIMEOUT + 1.5 * INTERVAL + LOADED


async def listed(registry_url: str) -> list[str]:
    async with RegistryClient(registry_url, timeout=2) as client:
        return [n.name for n in await client.nodes()]


async def start_registry(processes: Processes, *args: str) -> str:
    return await processes.start("v2", "registry", "--port", "0", *args).started()


def start_node(processes: Processes, registry_url: str, name: str, *args: str):
    return processes.start("v2", "node", "-ra", registry_url, "--name", name, "--port", "0", *args)


async def wait_listed(registry_url: str, names: list[str], timeout: float) -> float:
    async def all_listed() -> bool:
        try:
            return await listed(registry_url) == names
        except Exception:
            return False

    return await wait_until(all_listed, timeout=timeout, what=f"the registry to list {names}")


async def wait_registered(nodes: dict[str, DdbProcess]) -> None:
    """Wait until each node knows it is registered, not only until the registry lists it.

    A registry lists a node as soon as it stores the entry, before its answer reaches the
    node; a test that kills the registry, or the node, in between finds a node that never
    knew (it logs no "again" later, and has nothing to deregister).
    """
    for name, node in nodes.items():
        await node.wait_for_log(f"{name} registered with the registry", timeout=KNOWN)


async def test_three_nodes_are_listed_and_see_each_other(processes: Processes) -> None:
    registry = await start_registry(processes)
    nodes = [start_node(processes, registry, f"n{i}") for i in (1, 2, 3)]
    for node in nodes:
        await node.started()
    await wait_listed(registry, ["n1", "n2", "n3"], timeout=SETUP)
    await nodes[0].wait_for_log("n1 sees n3 join the cluster", timeout=INTERVAL + LOADED)
    registry_log = processes.started[0]
    for name, node in zip(["n1", "n2", "n3"], nodes, strict=True):
        host_port = node.url.removeprefix("http://")
        line = f"Registered node {name} at {host_port}"  # logged before it answered, but
        await registry_log.wait_for_log(re.escape(line), timeout=LOADED)  # read via a pipe


# Slow: waits out the default TTL (5 s). Expiry at exactly one TTL is the registry's own
# test (test_registry.py) and over HTTP test_registry_http.py; SIGTERM's deregistration
# and a registry restart below keep the real processes' membership in the quick run.
@pytest.mark.slow
async def test_a_killed_node_leaves_the_list_within_ttl_plus_one_second(
    processes: Processes,
) -> None:
    registry = await start_registry(processes)  # the default TTL: 5 s
    nodes = [start_node(processes, registry, f"n{i}") for i in (1, 2, 3)]
    await wait_listed(registry, ["n1", "n2", "n3"], timeout=SETUP)
    nodes[1].kill()
    killed_at = time.monotonic()
    # Its last heartbeat was at most an interval before the kill; the listing drops it at TTL.
    await wait_listed(registry, ["n1", "n3"], timeout=TTL + LOADED)
    took = time.monotonic() - killed_at
    assert took <= TTL + LOADED, f"listed {took:.1f}s after the kill (TTL {TTL}s + {LOADED}s load)"
    # The sweep, every TTL / 5, removes and logs it between TTL and TTL + TTL / 5 after.
    await processes.started[0].wait_for_log(
        r"Node n2 expired after \d+\.\ds without a heartbeat", timeout=TTL / 5 + LOADED
    )
    assert await listed(registry) == ["n1", "n3"]  # the others stay


async def test_sigterm_deregisters_the_node_at_once(processes: Processes) -> None:
    registry = await start_registry(processes)
    node = start_node(processes, registry, "n1")
    start_node(processes, registry, "n2")
    await wait_listed(registry, ["n1", "n2"], timeout=SETUP)
    await wait_registered({"n1": node})
    node.signal(signal.SIGTERM)
    took = await wait_listed(registry, ["n2"], timeout=LOADED)
    assert took < LOADED, f"gone {took:.1f}s after SIGTERM: at once, not after the {TTL}s TTL"
    assert node.wait(timeout=5) == 0
    assert node.find("n1 deregistered from the registry")
    await processes.started[0].wait_for_log("Deregistered node n1")


# Slow: three nodes, a registry killed and restarted. The backoff's cap is the membership
# core's test (test_membership.py), a node that learns the registry forgot it is its test of
# being created again, and that no leader changes, the simulator's registry restarts.
@pytest.mark.slow
async def test_after_a_registry_restart_every_node_is_listed_again_within_two_intervals(
    processes: Processes,
) -> None:
    first = processes.start("v2", "registry", "--port", "0")
    registry = await first.started()
    port = registry.rsplit(":", 1)[1]
    nodes = {f"n{i}": start_node(processes, registry, f"n{i}") for i in (1, 2, 3)}
    await wait_listed(registry, ["n1", "n2", "n3"], timeout=SETUP)
    await wait_registered(nodes)
    first.kill()
    await processes.start("v2", "registry", "--port", port).started()
    # A node's next attempt is never more than its backoff cap, 1.5 intervals, away.
    bound = 1.5 * INTERVAL + LOADED
    took = await wait_listed(registry, ["n1", "n2", "n3"], timeout=bound)
    assert took <= bound, f"{took:.1f}s to be listed again (1.5 intervals + {LOADED}s load)"
    # n1 knows it too, within KNOWN: it logs the new registry's 201, or its next beat's renewal.
    await nodes["n1"].wait_for_log(
        "n1 (registered with the registry again|reached the registry again)", timeout=KNOWN
    )


async def test_a_node_started_before_its_registry_registers_once_it_is_up(
    processes: Processes, unused_tcp_port: int
) -> None:
    registry = f"http://127.0.0.1:{unused_tcp_port}"
    node = start_node(processes, registry, "early")
    await node.wait_for_log("early's heartbeat to the registry failed")
    await processes.start("v2", "registry", "--port", str(unused_tcp_port)).started()
    await wait_listed(registry, ["early"], timeout=1.5 * INTERVAL + LOADED)
    assert node.proc.poll() is None  # it never gave up


async def test_ddb_nodes_prints_the_table(processes: Processes) -> None:
    from workbench.harness import run_ddb

    registry = await start_registry(processes)
    node = start_node(processes, registry, "n1")
    await wait_listed(registry, ["n1"], timeout=SETUP)
    out = run_ddb("nodes", "--registry", registry).stdout.decode().splitlines()
    assert out[0].split() == ["NAME", "PID", "URL", "LAST", "SEEN"]  # v2: no election columns
    assert out[1].split()[:2] == ["n1", str(node.proc.pid)]  # what `kill -9 PID` needs
    assert "http://127.0.0.1:" in out[1]
