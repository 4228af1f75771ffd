"""Small random histories, and a checker that tries every order: the real one's referee.

A correct register's own histories, for size, are :func:`workbench.history.synthetic.valid_history`.
"""

from __future__ import annotations

import itertools
import json
import random

from workbench.history.events import NEVER, Operation
from workbench.history.register import step


def event(process: int, kind: str, f: str, key: str, value: object = None) -> str:
    return json.dumps({"process": process, "type": kind, "f": f, "key": key, "value": value})


def random_history(rng: random.Random, max_ops: int = 6) -> list[str]:
    """A few processes over one or two keys, calling and returning in a random interleaving;
    values from a small set, so that both verdicts come up often."""
    keys = ["a", "b"][: rng.randint(1, 2)]
    values = [None, 1, 2, True]  # True == 1 in Python: the checker must tell them apart
    lines: list[str] = []
    open_calls: dict[int, tuple[str, str, object]] = {}
    next_process, calls = rng.randint(2, 3), 0
    processes = list(range(next_process))
    while calls < max_ops or open_calls:
        idle = [p for p in processes if p not in open_calls]
        if calls < max_ops and idle and (not open_calls or rng.random() < 0.5):
            process = rng.choice(idle)
            f, key = rng.choice(["read", "write", "write", "cas", "delete"]), rng.choice(keys)
            value = {"read": None, "write": rng.choice([1, 2, 3, True]), "delete": None}.get(f)
            if f == "cas":
                value = [rng.choice(values), rng.choice([1, 2, 3])]
            open_calls[process] = (f, key, value)
            lines.append(event(process, "invoke", f, key, value))
            calls += 1
            continue
        process = rng.choice(sorted(open_calls))
        f, key, value = open_calls.pop(process)
        kind = rng.choices(["ok", "fail", "info"], [6, 1, 1])[0]
        if f == "read" and kind == "ok":
            value = rng.choice(values)
        lines.append(event(process, kind, f, key, value))
        if kind == "info":  # that process never calls again: a new one takes its place
            processes[processes.index(process)] = next_process
            next_process += 1
    return lines


def brute_force(ops: list[Operation]) -> bool:
    """Linearizable when some order of the ok operations and any subset of the info ones
    respects real time and every key's register: tried exhaustively, for a handful."""
    surely = [op for op in ops if op.status == "ok"]
    maybe = [op for op in ops if op.status == "info"]
    for size in range(len(maybe) + 1):
        for chosen in itertools.combinations(maybe, size):
            for order in itertools.permutations(surely + list(chosen)):
                if _respects_time(order) and _registers_allow(order):
                    return True
    return False


def _respects_time(order: tuple[Operation, ...]) -> bool:
    return all(
        not (later.ret != NEVER and later.ret < earlier.call)
        for i, earlier in enumerate(order)
        for later in order[i + 1 :]
    )


def _registers_allow(order: tuple[Operation, ...]) -> bool:
    state: dict[str | None, object] = {}
    for op in order:
        allowed, after = step(state.get(op.key), op)  # type: ignore[arg-type]
        if not allowed:
            return False
        state[op.key] = after
    return True


def main(argv: list[str] | None = None) -> int:
    """``python -m tests.workbench.histories --seeds N``: the search against every order, on
    N random histories of 3 to 7 operations (the suite runs 1,500; this is the long run)."""
    import argparse
    import time

    from workbench.history.checker import check, read_history

    parser = argparse.ArgumentParser(prog="python -m tests.workbench.histories")
    parser.add_argument("--seeds", type=int, default=20_000)
    args = parser.parse_args(argv)
    started, disagreed, linearizable = time.monotonic(), [], 0
    for seed in range(args.seeds):
        rng = random.Random(seed)
        ops = read_history(random_history(rng, max_ops=rng.randint(3, 7)))
        expected = brute_force(ops)
        linearizable += expected
        if check(ops).linearizable != expected:
            disagreed.append(seed)
    seconds = time.monotonic() - started
    print(
        f"{args.seeds} histories ({linearizable} linearizable) in {seconds:.0f} s: "
        f"{len(disagreed)} disagreements{': seeds ' + str(disagreed[:10]) if disagreed else ''}"
    )
    return 1 if disagreed else 0


if __name__ == "__main__":
    raise SystemExit(main())
