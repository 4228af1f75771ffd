"""Hand-built histories with known verdicts: the textbook cases, one per way to be wrong.

Each history is written one event per line, ``process type f value`` (the key is ``x``),
in real-time order, so it reads as the timeline it is.
"""

from __future__ import annotations

import json

import pytest

from workbench.history.checker import check, read_history
from workbench.history.linear import check_key
from workbench.history.synthetic import valid_history


def history(text: str) -> list[str]:
    lines = []
    for row in text.strip().splitlines():
        process, kind, f, *value = row.split()
        data = json.loads(value[0]) if value else None
        lines.append(
            json.dumps({"process": int(process), "type": kind, "f": f, "key": "x", "value": data})
        )
    return lines


CASES = {
    # Herlihy & Wing: a read concurrent with a write may see either value.
    "a read overlapping a write sees the new value": (
        """
        0 invoke write 1
        1 invoke read
        1 ok read 1
        0 ok write 1
    """,
        True,
    ),
    "a read overlapping a write sees the old one": (
        """
        0 invoke write 1
        1 invoke read
        1 ok read null
        0 ok write 1
    """,
        True,
    ),
    "a stale read: after the write returned, the old value": (
        """
        0 invoke write 1
        0 ok write 1
        1 invoke read
        1 ok read null
    """,
        False,
    ),
    # New-old inversion: once a read saw the new value, a later read cannot see the old one.
    "two reads during one write see new, then old": (
        """
        0 invoke write 1
        1 invoke read
        1 ok read 1
        2 invoke read
        2 ok read null
        0 ok write 1
    """,
        False,
    ),
    "a lost write: the later write is read, then the earlier": (
        """
        0 invoke write 1
        0 ok write 1
        1 invoke write 2
        1 ok write 2
        2 invoke read
        2 ok read 1
    """,
        False,
    ),
    "a read of a value never written": (
        """
        0 invoke write 1
        0 ok write 1
        1 invoke read
        1 ok read 7
    """,
        False,
    ),
    "an info write that must have happened (it was read)": (
        """
        0 invoke write 1
        0 info write 1
        1 invoke read
        1 ok read 1
    """,
        True,
    ),
    "an info write that must not have happened (yet)": (
        """
        0 invoke write 1
        0 info write 1
        1 invoke read
        1 ok read null
        2 invoke read
        2 ok read 1
    """,
        True,
    ),
    "an info write cannot take effect before its call": (
        """
        1 invoke read
        1 ok read 1
        0 invoke write 1
        0 info write 1
    """,
        False,
    ),
    "a failed write did not happen, and cannot be read": (
        """
        0 invoke write 1
        0 fail write 1
        1 invoke read
        1 ok read 1
    """,
        False,
    ),
    "a cas that succeeded after the write it expected": (
        """
        0 invoke write 1
        0 ok write 1
        1 invoke cas [1,2]
        1 ok cas [1,2]
        2 invoke read
        2 ok read 2
    """,
        True,
    ),
    "a cas that cannot have succeeded": (
        """
        0 invoke write 1
        0 ok write 1
        1 invoke cas [3,2]
        1 ok cas [3,2]
    """,
        False,
    ),
    "a failed cas changes nothing": (
        """
        0 invoke write 1
        0 ok write 1
        1 invoke cas [3,2]
        1 fail cas [3,2]
        2 invoke read
        2 ok read 1
    """,
        True,
    ),
    "an info cas: it may fail to apply, and the read says it did not": (
        """
        0 invoke write 1
        0 ok write 1
        1 invoke cas [9,2]
        1 info cas [9,2]
        2 invoke read
        2 ok read 1
    """,
        True,
    ),
    "a delete makes the key missing": (
        """
        0 invoke write 1
        0 ok write 1
        1 invoke delete
        1 ok delete
        2 invoke read
        2 ok read null
    """,
        True,
    ),
    "a read after a delete cannot see the deleted value": (
        """
        0 invoke write 1
        0 ok write 1
        1 invoke delete
        1 ok delete
        2 invoke read
        2 ok read 1
    """,
        False,
    ),
    "a call never answered stays open to the end": (
        """
        0 invoke write 1
        1 invoke read
        1 ok read null
        2 invoke read
        2 ok read 1
    """,
        True,
    ),
}


@pytest.mark.parametrize("name", CASES)
def test_hand_built_histories_get_their_known_verdict(name: str) -> None:
    text, expected = CASES[name]
    verdict = check(read_history(history(text)))
    assert verdict.linearizable is expected


def test_a_violation_names_what_cannot_be_placed_and_the_longest_order_before_it() -> None:
    verdict = check(
        read_history(history(CASES["a lost write: the later write is read, then the earlier"][0]))
    )
    (key,) = verdict.failed
    assert str(key.stuck) == "p2 read 1 x (lines 5-6)"
    assert [str(op) for op in key.order] == ["p0 write 1 x (lines 1-2)", "p1 write 2 x (lines 3-4)"]


def test_a_linearizable_history_comes_with_an_order_that_works() -> None:
    verdict = check(
        read_history(history(CASES["an info write that must not have happened (yet)"][0]))
    )
    (key,) = verdict.keys
    assert [op.f for op in key.order] == ["read", "write", "read"]


def test_keys_are_checked_apart_and_one_bad_key_makes_the_history_bad() -> None:
    lines = valid_history(200, keys=3, seed=5)
    lines += history("0 invoke write 1000\n0 ok write 1000\n1 invoke read\n1 ok read 999")
    verdict = check(read_history(lines))
    assert verdict.linearizable is False
    assert [key.key for key in verdict.failed] == ["x"]
    assert sum(key.linearizable is True for key in verdict.keys) == 3


def test_ten_thousand_operations_over_ten_keys_check_in_about_one_step_each() -> None:
    """The cache keeps the search linear on a real register's history: the budget is in
    steps, not seconds, so this holds on any machine (bench/ measures the seconds)."""
    ops = read_history(valid_history(10_000, keys=10, clients=5, seed=1))
    verdict = check(ops)
    assert verdict.linearizable is True
    assert sum(key.steps for key in verdict.keys) < 3 * len(ops)


def test_a_spent_budget_is_unknown_not_a_verdict() -> None:
    ops = read_history(valid_history(300, keys=1, clients=5, seed=2))
    assert check_key("k0", ops, max_steps=10).linearizable is None
    assert check(ops, max_steps=10).linearizable is None
    assert check(ops, out_of_time=lambda: True).linearizable in (True, None)
