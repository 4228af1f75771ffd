"""The lab's plan: every name, address and ``ip`` command, and nothing that runs them.

A lab called ``demo`` with three nodes is these things, all named ``ddbl-demo-...``:

* one network namespace per host (``ddbl-demo-reg``, ``ddbl-demo-n1``, ...): its own
  network stack, with ``lo`` and an ``eth0`` that has the host's address, 10.77.0.x/24;
* one veth pair per host: ``eth0`` inside the namespace, and its other end, named like
  the namespace, outside, plugged into a bridge;
* two bridges, ``ddbl-demo-a`` and ``ddbl-demo-b``. Every host starts on bridge ``a``.
  A partition moves the hosts of the second side to bridge ``b``; heal moves them back.

Nothing here gets an address in the root namespace, and no namespace gets a default
route, so the only addresses anything in the lab can reach are the lab's own.

This module only *describes*: ``lab.py`` runs the commands, ``netns.py`` reads the
system. So the plan is tested without root, and its commands are what the docs show.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# --8<-- [start:names]
PREFIX = "ddbl-"  # every namespace, link and bridge the lab makes, and nothing else
SUBNET = "10.77.0"  # a /24 inside each lab; two labs never share a bridge, so never clash
MASK = 24
REGISTRY_PORT = 8080
NODE_PORT = 8050
MAX_NODES = 9  # n1 to n9: the names sort as they rank
LAB_NAME = re.compile(r"[a-z0-9]{1,6}")  # PREFIX + lab + "-" + host fits in 15 characters
HOST_NAME = re.compile(r"reg|cl|[nx][1-9]")  # the registry, the client, nodes, extra hosts
CLIENT = "cl"  # a host with a leg on each bridge, to run a workload against both sides
CLIENT_MAC = "02:dd:b0:00:00:64"  # both legs: a node's cached address for it stays right
IFNAME_MAX = 15  # Linux's limit on a link's name (IFNAMSIZ - 1)
# --8<-- [end:names]

Command = list[str]


class LabError(Exception):
    """A lab that cannot be planned or changed as asked; the message says why."""


@dataclass(frozen=True)
class Host:
    """One host of the lab: a namespace, an address, and the veth end outside it."""

    name: str  # reg, n1, n2, ..., or x1, ... for extra hosts
    address: str
    namespace: str
    veth: str  # the end outside the namespace, on a bridge; inside it is eth0

    @property
    def is_node(self) -> bool:
        return self.name.startswith("n")


def check_lab_name(lab: str) -> str:
    if not LAB_NAME.fullmatch(lab):
        raise LabError(f"{lab!r}: a lab's name is 1 to 6 lowercase letters or digits")
    return lab


def prefix_of(lab: str) -> str:
    """The start of every name in ``lab`` (and of no name in another lab)."""
    return f"{PREFIX}{lab}-"


def bridge_a_of(lab: str) -> str:
    """Bridge a: the first thing a lab makes, and the one whose alias names its owner."""
    return f"{prefix_of(lab)}a"


# --8<-- [start:host]
def host(lab: str, name: str) -> Host:
    """Where a host lives: the registry at .2, node n<i> at .1<i>, the client at .100, extra
    host x<i> at .10<i>."""
    if not HOST_NAME.fullmatch(name):
        raise LabError(f"{name!r}: a host is reg, cl, n1 to n9, or x1 to x9")
    number = {"reg": 2, CLIENT: 100}.get(name) or {"n": 10, "x": 100}[name[0]] + int(name[1:])
    full = f"{prefix_of(check_lab_name(lab))}{name}"
    assert len(full) <= IFNAME_MAX, full
    return Host(name, f"{SUBNET}.{number}", namespace=full, veth=full)


# --8<-- [end:host]


@dataclass(frozen=True)
class Plan:
    """A lab's hosts and bridges."""

    lab: str
    registry: Host
    nodes: tuple[Host, ...]

    @property
    def prefix(self) -> str:
        """The start of every name in this lab (and of no name in another lab)."""
        return prefix_of(self.lab)

    @property
    def bridge_a(self) -> str:
        return bridge_a_of(self.lab)

    @property
    def bridge_b(self) -> str:
        return f"{self.prefix}b"

    @property
    def hosts(self) -> tuple[Host, ...]:
        return (self.registry, *self.nodes)

    @property
    def registry_url(self) -> str:
        return f"http://{self.registry.address}:{REGISTRY_PORT}"

    def node(self, name: str) -> Host:
        for node in self.nodes:
            if node.name == name:
                return node
        known = ", ".join(node.name for node in self.nodes)
        raise LabError(f"{name!r} is not a node of lab {self.lab} (its nodes: {known})")


def plan(lab: str, nodes: int) -> Plan:
    if not 1 <= nodes <= MAX_NODES:
        raise LabError(f"a lab has 1 to {MAX_NODES} nodes, not {nodes}")
    return Plan(lab, host(lab, "reg"), tuple(host(lab, f"n{i}") for i in range(1, nodes + 1)))


def node_url(node: Host) -> str:
    return f"http://{node.address}:{NODE_PORT}"


def lab_of(name: str) -> str | None:
    """The lab a namespace or link belongs to, from its name alone; None: not the lab's."""
    match = re.fullmatch(rf"{PREFIX}({LAB_NAME.pattern})-[a-z0-9]+", name)
    return match.group(1) if match else None


# -- the commands ------------------------------------------------------------------------


# --8<-- [start:commands]
def claim_commands(plan: Plan, owner: str) -> list[Command]:
    """Bridge a, with the process that owns the lab in its alias. Only one run can add a
    link of that name, so making it is the lab's lock; and a later run tells a live lab
    from the leftovers of a crashed one by whether that process still runs."""
    return [
        ["ip", "link", "add", plan.bridge_a, "type", "bridge"],
        ["ip", "link", "set", plan.bridge_a, "alias", owner],
    ]


def bridge_commands(plan: Plan, owner: str) -> list[Command]:
    """After the claim: bridge b, named the same way, and both bridges up without an
    address (``addrgenmode none``: not even IPv6's link-local)."""
    return [
        ["ip", "link", "add", plan.bridge_b, "type", "bridge"],
        ["ip", "link", "set", plan.bridge_b, "alias", owner],
        *(
            command
            for bridge in (plan.bridge_a, plan.bridge_b)
            for command in (
                ["ip", "link", "set", bridge, "addrgenmode", "none"],
                ["ip", "link", "set", bridge, "up"],
            )
        ),
    ]


def host_commands(plan: Plan, host: Host) -> list[Command]:
    """A namespace, a veth pair from it to bridge a, and the host's address on eth0.
    No route but the one to 10.77.0.0/24 that the address itself brings."""
    ns = host.namespace
    return [
        ["ip", "netns", "add", ns],
        ["ip", "link", "add", host.veth, "type", "veth", "peer", "name", "eth0", "netns", ns],
        ["ip", "link", "set", host.veth, "addrgenmode", "none"],
        ["ip", "link", "set", host.veth, "master", plan.bridge_a],
        ["ip", "link", "set", host.veth, "up"],
        ["ip", "-n", ns, "link", "set", "lo", "up"],
        ["ip", "-n", ns, "addr", "add", f"{host.address}/{MASK}", "dev", "eth0"],
        ["ip", "-n", ns, "link", "set", "eth0", "up"],
    ]


def partition_commands(plan: Plan, side_a: list[str], side_b: list[str]) -> list[Command]:
    """Every host of the second side onto bridge b, every other host onto bridge a."""
    check_partition(plan, side_a, side_b)
    bridge = {h.name: plan.bridge_b if h.name in side_b else plan.bridge_a for h in plan.hosts}
    return [["ip", "link", "set", h.veth, "master", bridge[h.name]] for h in plan.hosts]


def heal_commands(plan: Plan) -> list[Command]:
    return [["ip", "link", "set", h.veth, "master", plan.bridge_a] for h in plan.hosts]


# --8<-- [start:client]
def client_commands(plan: Plan) -> list[Command]:
    """The client host: eth0 on bridge a (a host like the others), and eth1 on bridge b,
    with the same MAC address, so a node answers it on whichever bridge the node is.
    It forwards nothing (a new namespace never does): it does not heal a partition."""
    client = host(plan.lab, CLIENT)
    ns, leg_b = client.namespace, f"{client.veth}b"
    return [
        *host_commands(plan, client),
        ["ip", "link", "add", leg_b, "type", "veth", "peer", "name", "eth1", "netns", ns],
        ["ip", "link", "set", leg_b, "addrgenmode", "none"],
        ["ip", "link", "set", leg_b, "master", plan.bridge_b],
        ["ip", "link", "set", leg_b, "up"],
        *(["ip", "-n", ns, "link", "set", eth, "address", CLIENT_MAC] for eth in ("eth0", "eth1")),
        ["ip", "-n", ns, "link", "set", "eth1", "up"],
    ]


def client_routes(plan: Plan, side_b: list[str]) -> list[Command]:
    """The client reaches each node of side b through eth1, every other node through eth0."""
    client = host(plan.lab, CLIENT)
    return [
        ["ip", "-n", client.namespace, "route", "replace", f"{node.address}/32", "dev",
         "eth1" if node.name in side_b else "eth0", "src", client.address]
        for node in plan.nodes
    ]  # fmt: skip


# --8<-- [end:client]


# --8<-- [end:commands]


def check_partition(plan: Plan, side_a: list[str], side_b: list[str]) -> None:
    """Every node on exactly one side, and both sides with a node (the registry: on a)."""
    for name in (*side_a, *side_b):
        plan.node(name)  # raises for a name the lab does not have
    if not side_a or not side_b:
        raise LabError("a partition has two sides, each with at least one node")
    twice = sorted(set(side_a) & set(side_b)) or sorted(
        n for n in {*side_a, *side_b} if [*side_a, *side_b].count(n) > 1
    )
    if twice:
        raise LabError(f"{', '.join(twice)}: a node is on one side only")
    missing = [node.name for node in plan.nodes if node.name not in {*side_a, *side_b}]
    if missing:
        raise LabError(f"{', '.join(missing)}: every node must be on one side")


def parse_side(text: str) -> list[str]:
    """``n1,n2`` -> ``["n1", "n2"]`` (an argparse type)."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise LabError(f"{text!r}: a side is a comma-separated list of nodes, like n1,n2")
    return names


# -- the processes -----------------------------------------------------------------------


# --8<-- [start:processes]
def registry_command(plan: Plan) -> Command:
    """The registry listens on its own address only; the nodes find it there."""
    return ["v2", "registry", "--host", plan.registry.address, "--port", str(REGISTRY_PORT)]


def node_command(plan: Plan, node: Host, election: list[str], stage: str = "v2.1") -> Command:
    """A v2.1 (or v3) node on its own address, which it also advertises: the others reach
    it there."""
    return [
        stage, "node", "-ra", plan.registry_url, "--name", node.name,
        "--host", node.address, "--advertise-host", node.address, "--port", str(NODE_PORT),
        *election,
    ]  # fmt: skip


# --8<-- [end:processes]
