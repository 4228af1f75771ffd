"""``ddb lab up|partition|heal|status|down``: a v2.1 or v3 cluster on a real network, as root.

``up`` stays in the foreground, like ``ddb v2.1 demo``: the hosts' logs interleave on its
terminal, and Ctrl-C removes the whole lab. The other commands work from any terminal,
and find the lab by its name.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import sys
import time
from datetime import datetime
from types import FrameType

from stages.v1_kv.cli import fail
from stages.v1_kv.runner import positive_float, positive_int
from stages.v2_1_election.algorithms import ALGORITHMS
from stages.v2_1_election.cli import TIMINGS, election_settings
from stages.v2_1_election.core import ConfigError
from stages.v2_1_election.majority import numbered_voters
from stages.v2_registry.auth import CLUSTER_TOKEN_ENV, Secret, token_from
from workbench.lab import netns
from workbench.lab.lab import (
    add_client,
    build,
    check_free,
    claim,
    format_views,
    found_plan,
    heal,
    partition,
    start_cluster,
    views,
    workload,
)
from workbench.lab.plan import (
    MAX_NODES,
    LabError,
    check_lab_name,
    parse_side,
    plan,
)
from workbench.nemesis.stages import ReplicatedLog

SETUP = 20.0  # seconds the registry, then the first node, get to start


def election_flags(args: argparse.Namespace) -> list[str]:
    """The nodes' election flags; ConfigError if the node would refuse them."""
    if args.stage == "v3":
        return v3_flags(args)
    args.election = args.election or "bully"
    voters = numbered_voters(args.nodes)  # every node of the lab, n1 ... nN
    args.voters = voters if args.election == "quorum" else None
    args.cluster_size, args.non_voter, args.data_dir, args.name = None, False, None, "n1"
    election_settings(args)  # the node's own check, before anything is built
    flags = ["--election", args.election]
    if args.voters is not None:
        flags += ["--voters", str(voters)]
    for setting in TIMINGS:
        if getattr(args, setting) is not None:
            flags += [f"--{setting.replace('_', '-')}", str(getattr(args, setting))]
    return flags


def v3_flags(args: argparse.Namespace) -> list[str]:
    """A v3 node's timings (its voters and data folder: :class:`ReplicatedLog`'s flags)."""
    for setting in ("election", "leader_timeout", "answer_timeout", "victory_timeout"):
        if getattr(args, setting) is not None:
            flag = f"--{setting.replace('_', '-')}"
            raise ConfigError(f"{flag}: a v3 node always runs majority vote; its timings are "
                              "--heartbeat-interval and --election-timeout")  # fmt: skip
    flags = []
    for setting in ("heartbeat_interval", "election_timeout"):
        if getattr(args, setting) is not None:
            flags += [f"--{setting.replace('_', '-')}", str(getattr(args, setting))]
    return flags


def run_up(args: argparse.Namespace) -> int:
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # our lines, in order
    try:
        netns.check_can_run()
        lab = plan(args.lab, args.nodes)
        flags = election_flags(args)
        token = token_from(args.cluster_token, CLUSTER_TOKEN_ENV)
    except (LabError, ConfigError, ValueError) as exc:
        return fail(str(exc))
    fresh = token is None
    token = Secret(secrets.token_urlsafe(16)) if token is None else token
    env = {**os.environ, CLUSTER_TOKEN_ENV: token.reveal()}

    stopped_by: int | None = None
    starting = True  # until the lab is up, a signal cuts its start-up short

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopped_by, starting
        stopped_by = stopped_by or signum
        if starting:
            starting = False  # once: a second Ctrl-C must not cut the clean-up short
            raise KeyboardInterrupt

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        with netns.lock(lab.lab):  # one run at a time checks, removes leftovers and claims
            check_free(lab.lab)
            claim(lab)  # from here on the lab is ours, and removed however we end
        if fresh:
            print("cluster token: a fresh random one (choose it with DDB_CLUSTER_TOKEN)")
        build(lab)
        names = [node.name for node in lab.nodes]
        v3 = ReplicatedLog(tuple(names), netns.data_path(lab.lab))  # used for --stage v3 only
        if args.stage == "v3":
            shutil.rmtree(v3.data, ignore_errors=True)  # a crashed run's logs: start afresh
            client = add_client(lab)
            print(f"  {client.name:<4} {client.address:<11} namespace {client.namespace:<14} "
                  "on both bridges: 'ddb lab workload' runs there")  # fmt: skip
        node_flags = v3.flags if args.stage == "v3" else lambda name: ()
        children = start_cluster(lab, flags, env, SETUP, stage=args.stage, node_flags=node_flags)
        starting = False
        for each in lab.hosts:
            pid = children[each.name].pid
            print(f"  {each.name:<4} {each.address:<11} namespace {each.namespace:<14} pid {pid}")
        print(f"lab {lab.lab} is up: 'ddb lab status' shows each node's view; Ctrl-C removes it")
        reported: set[str] = set()
        while stopped_by is None and len(reported) < len(children):
            for name, child in children.items():
                if child.poll() is not None and name not in reported:
                    reported.add(name)
                    print(f"*** {name} exited with status {child.returncode}")
            time.sleep(0.2)  # a signal ends the wait early
    except LabError as exc:
        return fail(str(exc))
    except KeyboardInterrupt:
        print(f"lab {lab.lab}: stopped while starting")
        return 128 + (stopped_by or signal.SIGINT)  # 130 for Ctrl-C, 143 for SIGTERM
    finally:
        starting = False
        if netns.owner(lab.lab) == os.getpid():  # ours: not a lab some other run claimed
            netns.remove(lab.lab)  # processes first: they are ended by SIGTERM, then SIGKILL
            print(f"lab {lab.lab} removed")
    return 0


def now() -> str:
    """The time as the hosts' log lines show it (``06:01:02,345``), to match them up."""
    stamp = datetime.now()
    return f"{stamp:%H:%M:%S},{stamp.microsecond // 1000:03d}"


def with_lab(args: argparse.Namespace, action: str) -> int:
    """``partition``, ``heal`` and ``status``: find the lab by its name, then act."""
    try:
        netns.check_can_run()
        lab = found_plan(args.lab)
        if action == "partition":
            partition(lab, args.side_a, args.side_b)
            side_a = ", ".join([*args.side_a, "reg"])
            print(f"lab {lab.lab} partitioned at {now()}: {side_a} | {', '.join(args.side_b)}")
        elif action == "workload":
            return workload(lab, args.options[1:] if args.options[:1] == ["--"] else args.options)
        elif action == "heal":
            heal(lab)
            print(f"lab {lab.lab} healed at {now()}: every host on {lab.bridge_a}")
        else:
            print(format_views(views(lab)))
    except LabError as exc:
        return fail(str(exc))
    return 0


def run_down(args: argparse.Namespace) -> int:
    try:
        netns.check_can_run()
        gone = netns.remove(None if args.all else args.lab)
    except LabError as exc:
        return fail(str(exc))
    if not gone:
        print("nothing to remove" if args.all else f"lab {args.lab} is not up: nothing to remove")
    return 0


def lab_name(text: str) -> str:
    try:
        return check_lab_name(text)
    except LabError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def side(text: str) -> list[str]:
    try:
        return parse_side(text)
    except LabError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``lab`` to the ``ddb`` command."""
    lab = commands.add_parser(
        "lab",
        help="a v2.1 or v3 cluster on a real network of namespaces, to cut and heal (needs root)",
        description="Run a registry and v2.1 (or v3) nodes, each on its own host: a Linux network "
        "namespace with its own address on 10.77.0.0/24, joined by a bridge that nothing "
        "outside the lab can reach. Cut the network in two, heal it, and watch each side. "
        "Everything the lab makes is named ddbl-LAB-...; it needs root.",
    )
    sub = lab.add_subparsers(dest="lab_command", required=True, metavar="COMMAND")
    named = argparse.ArgumentParser(add_help=False)
    named.add_argument(
        "--lab", type=lab_name, default="demo", help="the lab's name (default: %(default)s)"
    )
    up = sub.add_parser(
        "up",
        parents=[named],
        help="build the hosts and start a registry and the nodes (Ctrl-C removes it all)",
        description="Build a namespace per host, start the registry and the nodes in them, "
        "and stay in the foreground with their logs. Ctrl-C, or 'ddb lab down' from another "
        "terminal, ends the processes and removes every namespace, link and bridge.",
    )
    up.add_argument(
        "--nodes",
        type=positive_int,
        default=5,
        help=f"how many nodes, n1 to n{MAX_NODES} (default: %(default)s)",
    )
    up.add_argument(
        "--stage",
        choices=("v2.1", "v3"),
        default="v2.1",
        help="the nodes: v2.1's elections, or v3's replicated log, with every node of the lab "
        "a voter, each node's log in a temporary folder that 'down' removes, and a client host "
        "on both sides of any partition, for 'ddb lab workload' (default: %(default)s)",
    )
    up.add_argument(
        "--election",
        choices=sorted(ALGORITHMS),
        help="v2.1: the nodes' election; with quorum, every node of the lab is a voter "
        "(default: bully)",
    )
    up.add_argument(
        "--cluster-token",
        metavar="TOKEN",
        help=f"the cluster token every host gets (in {CLUSTER_TOKEN_ENV}, which `ps` does not "
        "show; default: that variable, else a fresh random one)",
    )
    timing = up.add_argument_group("election timings, passed to every node (seconds)")
    for setting, help_text in TIMINGS.items():
        timing.add_argument(f"--{setting.replace('_', '-')}", type=positive_float, help=help_text)
    up.set_defaults(func=run_up)

    cut = sub.add_parser(
        "partition",
        parents=[named],
        help="cut the network in two: SIDE_A (with the registry) and SIDE_B",
        description="Move the hosts of SIDE_B to a second bridge: from then on the two sides "
        "cannot reach each other. The registry stays with SIDE_A. Every node on one side.",
    )
    cut.add_argument("side_a", type=side, metavar="SIDE_A", help="nodes, e.g. n1,n2")
    cut.add_argument("side_b", type=side, metavar="SIDE_B", help="nodes, e.g. n3,n4,n5")
    cut.set_defaults(func=lambda args: with_lab(args, "partition"))
    load = sub.add_parser(
        "workload",
        parents=[named],
        help="v3: run 'ddb workload' against every node, from the client host",
        description="Run 'ddb workload URL...' with every node's URL on the client host of a "
        "v3 lab, which reaches both sides of a partition; OPTIONS go to it as they are.",
    )
    load.add_argument("options", nargs=argparse.REMAINDER, metavar="-- OPTIONS",
                      help="ddb workload's options, such as -- --time 20 --check")  # fmt: skip
    load.set_defaults(func=lambda args: with_lab(args, "workload"))
    sub.add_parser(
        "heal", parents=[named], help="join the two sides again", description="End a partition."
    ).set_defaults(func=lambda args: with_lab(args, "heal"))
    sub.add_parser(
        "status",
        parents=[named],
        help="each node's view of the election, asked from inside its own namespace",
        description="Ask each node for its role, term, leader and peers, and the registry for "
        "the nodes it lists, each from inside its own host, as its neighbours would.",
    ).set_defaults(func=lambda args: with_lab(args, "status"))
    down = sub.add_parser(
        "down",
        parents=[named],
        help="end a lab's processes and remove its namespaces, links and bridges",
        description="End every process in the lab's namespaces (SIGTERM, then SIGKILL), and "
        "remove its namespaces, links and bridges: also what a crashed run left behind.",
    )
    down.add_argument(
        "--all", action="store_true", help="every lab on this machine (every name ddbl-...)"
    )
    down.set_defaults(func=run_down)
