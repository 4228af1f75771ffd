"""A real partition: five nodes, each on its own host (a network namespace), cut in two.

Real processes, a real network, a cluster token in force throughout. As root only (CI
runs as root); elsewhere each test skips and says why. Every lab is removed when its test
ends, whatever happened. Each test prints what it saw (``pytest -s`` shows it).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest

from stages.v2_1_election.quorum import QuorumConfig
from stages.v2_registry.membership import DEFAULT_HEARTBEAT_INTERVAL
from tests.v2_1_election.labrun import (
    LabRun,
    agreed,
    leaders,
    remove_crashed_test_labs,
    skip_unless_root,
    summary,
)
from workbench.cluster import FAILOVER
from workbench.harness import DDB, LOADED, SETUP, wait_until
from workbench.lab import netns
from workbench.lab.lab import build, check_free, claim
from workbench.lab.plan import LabError, node_command
from workbench.lab.probe import TIMEOUT as PROBE

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

NODES = ["n1", "n2", "n3", "n4", "n5"]
QUORUM = QuorumConfig(voters=tuple(NODES)).timings()  # the defaults: T = 0.5 s, heartbeats 0.1 s
# Timing bounds are checked on the hosts' log lines, against the time of the cut or the heal.
# Waiting for them costs more: each poll asks every node from its own namespace (a probe
# process each, and a node that cannot answer costs PROBE), so every wait allows POLL more.
POLL = PROBE + LOADED
# After a heal, a node the registry forgot registers again within its back-off (1.5 heartbeat
# intervals), and its peers see it at their next read of the registry (another interval).
REJOIN = 2.5 * DEFAULT_HEARTBEAT_INTERVAL


@pytest.fixture
def make_lab(tmp_path: Path) -> Iterator[Callable[[int], LabRun]]:
    skip_unless_root()
    remove_crashed_test_labs()
    made: list[LabRun] = []

    def make(nodes: int) -> LabRun:
        made.append(LabRun(nodes, tmp_path))
        return made[-1]

    try:
        yield make
    finally:
        for lab in made:
            lab.down()
            for name in ("reg", *NODES, "x1"):
                if log := lab.log(name):
                    print(f"--- log of {name} ---\n{log}")


def stepped_down(statuses: dict, names: list[str]) -> bool:
    """Every node named answers, and none leads (one that does not answer might)."""
    return all(statuses.get(n) for n in names) and not leaders(statuses, names)


def following(statuses: dict, names: list[str], leader: str) -> bool:
    return (agreed(statuses, names) or ("", 0))[0] == leader


async def test_bully_elects_a_leader_on_each_side_of_a_partition_and_one_after_healing(
    make_lab: Callable[[int], LabRun],
) -> None:
    lab = make_lab(5)
    lab.up("--election", "bully")
    await lab.wait_for("all five to follow n5", SETUP, lambda s: following(s, NODES, "n5"))

    cut = datetime.now()
    lab.partition(["n1", "n2"], ["n3", "n4", "n5"])
    split = await lab.wait_for(
        "a leader on each side",
        FAILOVER + LOADED + POLL,
        lambda s: following(s, ["n1", "n2"], "n2") and following(s, ["n3", "n4", "n5"], "n5"),
    )
    assert leaders(split, NODES) == ["n2", "n5"], summary(split)  # split brain
    took = lab.seconds_to("n2", "n2 became leader", since=cut)
    assert took <= FAILOVER + LOADED, took
    print(f"split brain: n2 led {took:.2f}s after the cut (bound: {FAILOVER:.1f}s + {LOADED}s), "
          f"n5 still leads: {summary(split)}")  # fmt: skip

    lab.heal()
    after = await lab.wait_for(
        "one leader", REJOIN + FAILOVER + LOADED + POLL, lambda s: agreed(s, NODES)
    )
    print(f"healed, one leader: {summary(after)}")


async def test_majority_vote_steps_a_cut_off_leader_down_and_keeps_the_term_after_healing(
    make_lab: Callable[[int], LabRun],
) -> None:
    lab = make_lab(5)
    lab.up("--election", "quorum", "--voters", ",".join(NODES))
    first = await lab.wait_for("all five to agree", SETUP, lambda s: agreed(s, NODES))
    old_leader, old_term = agreed(first, NODES) or ("", 0)
    minority = [old_leader, next(n for n in NODES if n != old_leader)]
    majority = [n for n in NODES if n not in minority]

    cut = datetime.now()
    lab.partition(minority, majority)
    during = await lab.wait_for(
        "the majority to elect a leader and the old one to step down",
        QUORUM.liveness_bound + LOADED + POLL,
        lambda s: agreed(s, majority) and stepped_down(s, minority),
    )
    new_leader, new_term = agreed(during, majority) or ("", 0)
    assert new_term > old_term
    step_down = lab.seconds_to(old_leader, "has not heard from a majority", since=cut)
    assert step_down <= QUORUM.stale_leader_bound + LOADED, step_down  # CheckQuorum
    elected = lab.seconds_to(new_leader, f"became leader at term {new_term}", since=cut)
    assert elected <= QUORUM.liveness_bound + LOADED, elected
    print(f"{old_leader} stepped down {step_down:.2f}s after the cut (bound: "
          f"{QUORUM.stale_leader_bound}s + {LOADED}s); the majority elected {new_leader} at "
          f"term {new_term}, {elected:.2f}s after the cut")  # fmt: skip

    until = time.monotonic() + 2 * QUORUM.leader_timeout  # a minority elects nobody ...
    while time.monotonic() < until:
        seen = await lab.statuses()
        assert not leaders(seen, minority), summary(seen)
        assert all(seen[n] is None or seen[n]["term"] == old_term for n in minority), (
            summary(seen)  # ... and, with PreVote, never raises its term
        )

    lab.heal()
    after = await lab.wait_for(
        "every node to follow the majority's leader",
        REJOIN + QUORUM.liveness_bound + LOADED + POLL,
        lambda s: following(s, NODES, new_leader),
    )
    assert agreed(after, NODES) == (new_leader, new_term), summary(after)  # no term raised
    print(f"healed: {summary(after)}")


async def test_a_node_on_the_lab_network_without_the_token_cannot_join(
    make_lab: Callable[[int], LabRun],
) -> None:
    lab = make_lab(3)
    lab.up("--election", "bully")
    names = ["n1", "n2", "n3"]
    before = await lab.wait_for("n3 to lead", SETUP, lambda s: following(s, names, "n3"))
    stranger = lab.add_host("x1")  # on the same bridge; "x1" would outrank every "n" in Bully
    env = {k: v for k, v in lab.env.items() if k != "DDB_CLUSTER_TOKEN"}
    lab.start(stranger, node_command(lab.plan, stranger, ["--election", "bully"]), env)

    await wait_until(
        lambda: "401" in lab.log("x1") or "unauthorized" in lab.log("x1"),
        timeout=SETUP,
        what="x1 to be refused by the registry",
    )
    assert await lab.registry_lists() == names
    after = await lab.statuses()
    assert agreed(after, names) == agreed(before, names), summary(after)
    assert all("x1" not in (s or {}).get("peers", []) for s in after.values()), after


async def test_ddb_lab_commands_partition_heal_and_remove_everything_on_ctrl_c(
    make_lab: Callable[[int], LabRun],
) -> None:
    name = make_lab(3).plan.lab  # a fresh name; the fixture removes the lab if this fails
    up = subprocess.Popen(
        [*DDB, "lab", "up", "--lab", name, "--nodes", "3"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        status: list[str] = []

        def ddb_lab(*args: str) -> str:
            done = subprocess.run(
                [*DDB, "lab", *args, "--lab", name], capture_output=True, text=True, timeout=60
            )
            assert done.returncode == 0, done.stderr
            return done.stdout

        def n3_leads() -> bool:  # "not up" (exit status 1) while the lab is being built
            done = subprocess.run([*DDB, "lab", "status", "--lab", name], capture_output=True,
                                  text=True, timeout=60)  # fmt: skip
            status[:] = done.stdout.splitlines()
            leaders = [line.split()[0] for line in status if " leader " in line]
            return done.returncode == 0 and len(status) == 5 and leaders == ["n3"]

        await wait_until(n3_leads, timeout=SETUP, what="ddb lab status to show n3 leading")
        assert status[1].split()[:4] == ["reg", "10.77.0.2", "a", "registry"], status
        assert ": n1, reg | n2, n3" in ddb_lab("partition", "n1", "n2,n3")
        status = ddb_lab("status").splitlines()
        assert [line.split()[2] for line in status[1:]] == ["a", "a", "b", "b"], status
        assert "healed" in ddb_lab("heal")
    finally:
        up.send_signal(signal.SIGINT)  # Ctrl-C
        out, _ = up.communicate(timeout=30)
    print(out)
    assert up.returncode == 0, out
    assert f"lab {name} removed" in out
    assert not [n for n in [*netns.namespaces(), *netns.links()] if n.startswith(f"ddbl-{name}-")]


async def test_a_crashed_runs_leftovers_are_found_by_name_and_removed(
    make_lab: Callable[[int], LabRun],
) -> None:
    lab = make_lab(1)
    claim(lab.plan)
    build(lab.plan, say=print)
    gone = subprocess.Popen(["true"])
    gone.wait()  # a pid that no longer runs: the owner of a crashed run
    for bridge in (lab.plan.bridge_a, lab.plan.bridge_b):
        netns.run(["ip", "link", "set", bridge, "alias", f"{netns.OWNER}{gone.pid}"])
    assert lab.plan.lab in netns.labs() and netns.owner(lab.plan.lab) is None
    said: list[str] = []
    check_free(lab.plan.lab, say=said.append)
    assert "left behind" in said[0], said
    assert lab.plan.lab not in netns.labs()


def lab_names(lab: str) -> list[str]:
    return [n for n in [*netns.namespaces(), *netns.links()] if n.startswith(f"ddbl-{lab}-")]


def test_a_second_up_of_a_lab_being_built_stops_and_removes_nothing(
    make_lab: Callable[[int], LabRun],
) -> None:
    """Two ``ddb lab up --lab demo`` at once: making bridge a is the lock. Whoever comes
    second, before or after the first has named itself in the bridge's alias, stops."""
    lab = make_lab(1)
    netns.run(["ip", "link", "add", lab.plan.bridge_a, "type", "bridge"])  # claimed, unnamed yet
    up = [*DDB, "lab", "up", "--lab", lab.plan.lab, "--nodes", "1"]
    early = subprocess.run(up, capture_output=True, text=True, timeout=60)
    assert early.returncode == 1 and "is being built by another" in early.stderr, early.stderr
    assert lab_names(lab.plan.lab) == [lab.plan.bridge_a]  # left as it was

    netns.run(["ip", "link", "del", lab.plan.bridge_a])
    claim(lab.plan)  # as a run does: the bridge, then our pid in its alias
    assert netns.owner(lab.plan.lab) is not None
    late = subprocess.run(up, capture_output=True, text=True, timeout=60)
    assert late.returncode == 1 and "is up already" in late.stderr, late.stderr
    assert lab_names(lab.plan.lab) == [lab.plan.bridge_a]
    # ... and claim() itself, between another run's check and its bridge: nothing made
    with pytest.raises(LabError, match="is up already, or another run is building it"):
        claim(lab.plan)


def test_ctrl_c_while_the_lab_starts_removes_it_at_once(
    make_lab: Callable[[int], LabRun],
) -> None:
    """The start-up waits up to SETUP for the registry and for the first node; Ctrl-C must
    not wait for them."""
    name = make_lab(3).plan.lab
    up = subprocess.Popen(
        [*DDB, "lab", "up", "--lab", name, "--nodes", "3"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        assert up.stdout is not None
        seen = ""
        while "hosts on" not in seen and up.poll() is None:  # each read waits for a line
            seen += up.stdout.readline()  # "lab tXXXX: 4 hosts on ddbl-tXXXX-a, ..."
        interrupted = time.monotonic()
    finally:  # Ctrl-C, while it waits for the registry or n3: to its whole process group,
        os.killpg(up.pid, signal.SIGINT)  # as a terminal sends it (probes and `ip` included)
        out, _ = up.communicate(timeout=30)
    took = time.monotonic() - interrupted
    print(seen + out, f"ended {took:.2f}s after Ctrl-C")
    assert up.returncode == 130, seen + out  # not 0: it never printed "is up"
    assert f"lab {name}: stopped while starting" in out and f"lab {name} removed" in out
    assert "Traceback" not in out, out  # nor from a probe that got the Ctrl-C too
    bound = netns.STOP_GRACE + LOADED  # SIGTERM, then SIGKILL after the grace; a busy machine
    assert took <= bound, f"ended {took:.1f}s after Ctrl-C; bound: grace + LOADED = {bound}s"
    assert not lab_names(name)
