"""Golden transcripts as readable text, etcd's ``testdata/*.txt`` style.

A script is blocks separated by blank lines; each block is optional ``#`` comments, one
command, ``----``, and what the command printed. :func:`run_script` runs the commands
on a :class:`~.cluster.Cluster` and returns the script with the output it got, so a test
compares the whole text, and ``DDB_REWRITE_GOLDEN=1`` rewrites the files after a change.

Commands: ``cluster n1 n2 ...``; ``restart n1 term=7 log=1,1,4`` (a node restored from a
disk holding entries of those terms); ``campaign n1`` and ``tick n1`` (time reaches its
deadline); ``propose n1 x``; ``deliver`` (one round of messages); ``settle`` (until
quiet); ``isolate n1``, ``cut n1 n2``, ``heal``; ``status``; ``applied n1``.
"""

from __future__ import annotations

from stages.v2_1_election.core import HardState
from stages.v3_replicated_log.messages import Entry
from tests.v3_replicated_log.cluster import Cluster

SEPARATOR = "----"


def run_script(text: str) -> str:
    """Run every block's command; the script again, with the output each one printed."""
    cluster: Cluster | None = None
    blocks = []
    for block in text.strip().split("\n\n"):
        lines = block.splitlines()
        at = lines.index(SEPARATOR) if SEPARATOR in lines else len(lines)
        comments, command = lines[: at - 1], lines[at - 1]
        words = command.split()
        if words[0] == "cluster":
            cluster = Cluster(words[1:])
            output: list[str] = []
        else:
            assert cluster is not None, "a script starts with: cluster n1 n2 ..."
            output = _run(cluster, words)
        blocks.append("\n".join([*comments, command, SEPARATOR, *output]))
    return "\n\n".join(blocks) + "\n"


def _run(cluster: Cluster, words: list[str]) -> list[str]:
    verb, args = words[0], words[1:]
    cluster.out = []
    match verb:
        case "restart":
            options = dict(arg.split("=", 1) for arg in args[1:])
            terms = [int(t) for t in options.get("log", "").split(",") if t]
            entries = [Entry(i, t, f"e{i}") for i, t in enumerate(terms, start=1)]
            cluster.restart(args[0], HardState(int(options["term"])), entries)
            return [line for line in cluster.status() if line.startswith(f"{args[0]} ")]
        case "campaign" | "tick":
            cluster.tick(args[0])
        case "propose":
            cluster.propose(args[0], args[1])
        case "deliver":
            cluster.deliver()
        case "settle":
            cluster.settle()
        case "isolate":
            cluster.isolate(args[0])
        case "cut":
            cluster.cut.add(frozenset(args))
        case "heal":
            cluster.cut.clear()
        case "status":
            return cluster.status()
        case "applied":
            node = cluster.nodes[args[0]]
            return [f"{e.index}/{e.term} {e.data or '(no-op)'}" for e in node.applied]
        case _:
            raise ValueError(f"unknown command {verb!r}")
    return cluster.out
