"""Histories a correct register really produced, of any size: for benchmarks and tests.

Each client calls one operation at a time; each operation takes effect at a random instant
between its call and its return, and the register is applied in the order of those
instants, so the history is linearizable by construction. Reads, writes (each of a new
value) and compare-and-sets, half of which expect a value that is not there and fail.
"""

from __future__ import annotations

import json
import random


def event(process: int, kind: str, f: str, key: str, value: object = None) -> str:
    return json.dumps({"process": process, "type": kind, "f": f, "key": key, "value": value})


def valid_history(operations: int, keys: int = 10, clients: int = 5, seed: int = 0) -> list[str]:
    """A history a correct register really produced: each operation takes effect at a random
    instant between its call and its return, and the register is applied in that order."""
    rng = random.Random(seed)
    free_at = [0.0] * clients
    planned = []
    for number in range(1, operations + 1):
        client = rng.randrange(clients)
        call = free_at[client] + rng.random()
        point = call + rng.random()
        free_at[client] = ret = point + rng.random()
        f = rng.choice(["read", "write", "write", "cas"])
        planned.append((call, point, ret, client, f, f"k{rng.randrange(keys)}", number))
    store: dict[str, int] = {}
    answers: dict[int, tuple[str, object]] = {}
    for *_, f, key, number in sorted(planned, key=lambda p: p[1]):
        if f == "read":
            answers[number] = ("ok", store.get(key))
        elif f == "write":
            store[key] = number
            answers[number] = ("ok", number)
        else:
            expected = store.get(key) if rng.random() < 0.5 else -1
            kind = "ok" if store.get(key) == expected else "fail"
            if kind == "ok":
                store[key] = number
            answers[number] = (kind, [expected, number])
    timed = []
    for call, _, ret, client, f, key, number in planned:
        kind, value = answers[number]
        called = None if f == "read" else value
        timed.append((call, event(client, "invoke", f, key, called)))
        timed.append((ret, event(client, kind, f, key, value)))
    return [line for _, line in sorted(timed)]
