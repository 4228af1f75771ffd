"""The model: one correct register per key, the sequential specification a history is held to.

A register holds one value, or nothing (``None``: the key is missing). Linearizability is a
*local* property (Herlihy and Wing): a history is linearizable exactly when the history of
each key, on its own, is. So the checker splits the history by key and holds each part to
this one small model.
"""

from __future__ import annotations

from workbench.history.events import Operation, Value


# --8<-- [start:step]
def step(state: Value, op: Operation) -> tuple[bool, Value]:
    """Could a correct register in ``state`` have done ``op``; and in which state after it?"""
    if op.f == "read":
        return op.value == state and type(op.value) is type(state), state
    if op.f == "write":
        return True, op.value
    if op.f == "cas":
        expected, new = op.value
        return expected == state and type(expected) is type(state), new
    return True, None  # delete: afterwards the key is missing, whatever it held


# --8<-- [end:step]
