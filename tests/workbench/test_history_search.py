"""The search agrees with a checker that tries every order, on thousands of small histories."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.workbench.histories import brute_force, random_history
from workbench.history.checker import check, read_history


@settings(max_examples=1500, deadline=None, derandomize=True)
@given(st.integers(min_value=0, max_value=2**32))
def test_the_search_and_every_order_agree_on_small_random_histories(seed: int) -> None:
    history = random_history(random.Random(seed))
    ops = read_history(history)
    assert check(ops).linearizable == brute_force(ops), "\n".join(history)


def test_random_histories_give_both_verdicts_often() -> None:
    """A referee that only ever sees one verdict proves nothing: both come up, often."""
    verdicts = [brute_force(read_history(random_history(random.Random(s)))) for s in range(300)]
    assert 50 < sum(verdicts) < 250
