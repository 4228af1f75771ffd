"""``ddb workload URL...``: record a history of concurrent clients; ``--check`` checks it."""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
import time
from pathlib import Path

from stages.v1_kv.runner import http_url
from workbench.history import cli as check_cli
from workbench.history.workload import ROUTES, WorkloadConfig, run_workload, show_progress
from workbench.sim.arguments import positive_float, positive_int

DESCRIPTION = (
    "Run concurrent clients against one or more nodes: each reads and writes a few keys (every "
    "write a value never written before), and every call and its answer are recorded, in "
    "order, as a history (JSON Lines). --check then asks whether it is linearizable."
)


def run(args: argparse.Namespace) -> int:
    config = WorkloadConfig(
        urls=tuple(url.rstrip("/") for url in args.urls),
        clients=args.clients,
        keys=args.keys,
        duration=args.time,
        operations=args.operations,
        timeout=args.timeout,
        route=args.route,
        reads=args.reads,
        seed=args.seed,
        key_prefix=f"w{secrets.token_hex(3)}-" if args.key_prefix is None else args.key_prefix,
    )
    progress = show_progress if sys.stderr.isatty() else None
    started = time.monotonic()
    try:
        with open(args.out, "w", encoding="utf-8") as out:
            recorder = asyncio.run(run_workload(config, out, progress))
    except OSError as exc:
        print(f"ddb: error: cannot write {args.out}: {exc.strerror}", file=sys.stderr)
        return check_cli.BAD_INPUT
    except KeyboardInterrupt:
        print(f"\nddb: interrupted; the history so far is in {args.out}", file=sys.stderr)
        return 130
    if progress is not None:
        sys.stderr.write("\r\x1b[K")
    if recorder.operations and not recorder.succeeded:
        print(
            f"ddb: error: none of {recorder.operations} operations succeeded: are the URLs "
            "key/value servers that take requests without a token?", file=sys.stderr,
        )  # fmt: skip
        return check_cli.BAD_INPUT
    print(
        f"recorded {recorder.operations} operations ({recorder.unknown} unknown, "
        f"{recorder.failed} failed) from {recorder.next_process} processes in "
        f"{time.monotonic() - started:.1f} s: {args.out}"
    )
    if not args.check:
        return 0
    return check_cli.run_check(
        argparse.Namespace(
            file=args.out,
            svg=args.svg,
            json=False,
            max_steps=args.max_steps,
            timeout=args.check_timeout,
        )
    )


def share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"{text} must be from 0 to 1")
    return value


def add_client_arguments(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """The clients' options, which ``ddb nemesis`` passes on to its workload too."""
    parser.add_argument(
        "--clients", type=positive_int, default=5, help="clients at once (default: %(default)s)"
    )
    parser.add_argument(
        "--keys",
        type=positive_int,
        default=3,
        help="keys k0, k1, ... to read and write (default: %(default)s)",
    )
    parser.add_argument(
        "--timeout",
        type=positive_float,
        default=1.0,
        metavar="SECONDS",
        help="per request; past it the outcome is unknown (default: %(default)s)",
    )
    parser.add_argument(
        "--route",
        choices=ROUTES,
        default="random",
        help="each operation to a random node, each client to one node "
        "(fixed), or to the leader /cluster/status names (default: random)",
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "urls",
        nargs="+",
        type=http_url,
        metavar="URL",
        help="the nodes' addresses, e.g. http://127.0.0.1:8051",
    )
    add_client_arguments(parser)
    length = parser.add_mutually_exclusive_group()
    length.add_argument(
        "--time",
        type=positive_float,
        default=5.0,
        metavar="SECONDS",
        help="run this long (default: %(default)s)",
    )
    length.add_argument(
        "--operations",
        type=positive_int,
        metavar="N",
        help="run N operations in all, instead of for a time",
    )
    parser.add_argument(
        "--reads",
        type=share,
        default=0.5,
        metavar="SHARE",
        help="the share of reads, from 0 to 1 (default: %(default)s)",
    )
    parser.add_argument("--seed", type=int, default=0, help="for the random choices")
    parser.add_argument(
        "--key-prefix",
        metavar="TEXT",
        help="keys are TEXTk0, TEXTk1, ... (default: a fresh prefix for each run, "
        "such as w3fa9c1-, so that no run reads an earlier run's values)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("history.jsonl"),
        metavar="FILE",
        help="where to write the history (default: %(default)s)",
    )
    parser.add_argument("--check", action="store_true", help="check the history when done")
    parser.add_argument("--svg", type=Path, metavar="OUT", help="with --check: draw the verdict")
    parser.add_argument(
        "--max-steps",
        type=positive_int,
        default=check_cli.DEFAULT_STEPS,
        metavar="N",
        help="with --check: the search's budget per key",
    )
    parser.add_argument(
        "--check-timeout",
        type=positive_float,
        default=60.0,
        metavar="SECONDS",
        help="with --check: give up after this long",
    )
    parser.set_defaults(func=run)


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``ddb workload``."""
    parser = commands.add_parser(
        "workload",
        help="record a history of concurrent clients (and check it)",
        description=DESCRIPTION,
    )
    add_arguments(parser)
