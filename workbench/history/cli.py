"""``ddb check FILE``: is this history linearizable? Exit 0 yes, 1 no, 2 unknown, 3 bad input.

It reads JSON Lines (or Jepsen's EDN), says how many operations and keys it checked and how
long it took, and for each key that is not linearizable, the operation that cannot be placed
and the longest order that could; ``--svg`` draws that, ``--json`` prints it for scripts.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, NoReturn

from workbench.history.checker import Verdict, check, read_history
from workbench.history.events import NEVER, HistoryError, Operation
from workbench.history.linear import DEFAULT_STEPS, KeyVerdict

__all__ = ["DEFAULT_STEPS"]
from workbench.history.svg import history_svg
from workbench.sim.arguments import positive_float, positive_int

LINEARIZABLE, NOT_LINEARIZABLE, UNKNOWN, BAD_INPUT = 0, 1, 2, 3
SHOWN = 8  # of the longest order, the last operations printed


def bad_input(message: str) -> int:
    print(f"ddb: error: {message}", file=sys.stderr)
    return BAD_INPUT


def op_json(op: Operation) -> dict[str, Any]:
    value = list(op.value) if op.f == "cas" else op.value
    ret = None if op.ret == NEVER else int(op.ret)
    return {
        "process": op.process,
        "f": op.f,
        "key": op.key,
        "value": value,
        "call": op.call,
        "return": ret,
        "status": op.status,
        "node": op.node,
    }


def verdict_json(verdict: Verdict, seconds: float) -> dict[str, Any]:
    return {
        "linearizable": verdict.linearizable,
        "operations": verdict.operations,
        "keys": len(verdict.keys),
        "seconds": round(seconds, 3),
        "failed": [
            {
                "key": k.key,
                "stuck": k.stuck and op_json(k.stuck),
                "order": [op_json(o) for o in k.order],
            }
            for k in verdict.failed
        ],
        "unknown": [k.key for k in verdict.unknown],
    }


def explain(key: KeyVerdict) -> list[str]:
    """A key that is not linearizable, in words: what cannot be placed, after what."""
    name = "(no key)" if key.key is None else key.key
    lines = [f"not linearizable: key {name}, {key.operations} operations"]
    if key.stuck is not None:
        lines.append(f"  cannot place: {key.stuck}")
    count = f"{len(key.order)} operation{'s' * (len(key.order) != 1)}"
    lines.append(f"  after the longest order that works ({count}):")
    if len(key.order) > SHOWN:
        lines.append(f"    ... {len(key.order) - SHOWN} before")
    lines += [f"    {op}" for op in key.order[-SHOWN:]] or ["    (none: it cannot come first)"]
    return lines


def summary(verdict: Verdict, seconds: float) -> str:
    keys = len(verdict.keys)
    checked = f"{verdict.operations} operations over {keys} key{'s' * (keys != 1)}"
    word = {True: "linearizable", False: "NOT linearizable", None: "unknown"}[verdict.linearizable]
    return f"{word}: checked {checked} in {seconds:.2f} s"


# --8<-- [start:run_check]
def run_check(args: argparse.Namespace) -> int:
    try:
        with open(args.file, encoding="utf-8") as lines:
            ops = read_history(lines)
    except OSError as exc:
        return bad_input(f"cannot read {args.file}: {exc.strerror}")
    except UnicodeDecodeError:
        return bad_input(f"{args.file} is not UTF-8 text")
    except HistoryError as exc:
        return bad_input(f"{args.file}, {exc}")
    started = time.monotonic()
    deadline = started + args.timeout
    verdict = check(ops, args.max_steps, lambda: time.monotonic() > deadline)
    seconds = time.monotonic() - started
    if args.svg is not None:
        for key in verdict.failed[:1] or verdict.keys[:1]:
            try:
                args.svg.write_text(history_svg([o for o in ops if o.key == key.key], key))
            except OSError as exc:
                return bad_input(f"cannot write {args.svg}: {exc.strerror}")
    if args.json:
        print(json.dumps(verdict_json(verdict, seconds), indent=2))
    else:
        for key in verdict.failed:
            print("\n".join(explain(key)))
        for key in verdict.unknown:
            print(f"unknown: key {key.key}: the budget ran out after {key.steps} steps")
        print(summary(verdict, seconds))
    return {True: LINEARIZABLE, False: NOT_LINEARIZABLE, None: UNKNOWN}[verdict.linearizable]


# --8<-- [end:run_check]


DESCRIPTION = (
    "Decide whether a history of client operations is linearizable: whether one correct "
    "register per key could have given every answer the clients got, each operation taking "
    "effect at one instant between its call and its return."
)
EPILOG = (
    'FILE is JSON Lines, one event per line ({"process": 0, "type": "invoke", "f": '
    '"write", "key": "k1", "value": 1}), or Jepsen\'s EDN. Exit status: 0 linearizable, '
    "1 not linearizable, 2 unknown (the budget ran out), 3 the file or the arguments are wrong."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, metavar="FILE", help="the history to check")
    parser.add_argument(
        "--svg",
        type=Path,
        metavar="OUT",
        help="draw the first key that is not linearizable (or the first key)",
    )
    parser.add_argument("--json", action="store_true", help="print the verdict as JSON")
    parser.add_argument(
        "--max-steps",
        type=positive_int,
        default=DEFAULT_STEPS,
        metavar="N",
        help="give up on a key after N steps of search (default: %(default)s)",
    )
    parser.add_argument(
        "--timeout",
        type=positive_float,
        default=60.0,
        metavar="SECONDS",
        help="give up after this long, in all (default: %(default)s)",
    )
    parser.set_defaults(func=run_check)
    usage_errors_exit_with(BAD_INPUT, parser)  # 2 means "unknown" here


def usage_errors_exit_with(status: int, parser: argparse.ArgumentParser) -> None:
    """Make ``parser``'s usage errors exit with ``status`` instead of argparse's 2."""

    def usage_error(message: str) -> NoReturn:
        parser.print_usage(sys.stderr)
        parser.exit(status, f"{parser.prog}: error: {message}\n")

    parser.error = usage_error  # type: ignore[method-assign]


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``ddb check``."""
    parser = commands.add_parser(
        "check",
        help="is a history of client operations linearizable?",
        description=DESCRIPTION,
        epilog=EPILOG,
    )
    add_arguments(parser)
