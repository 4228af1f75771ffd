"""The names ``ddb nemesis`` gives to what went wrong, on hand-built histories.

Each history is one event per line, ``process type f value [role]`` (the key is ``x``), in
real-time order, as in ``test_history_verdicts.py``; the role is the answering node's.
"""

from __future__ import annotations

import json

from workbench.history.checker import check, read_history
from workbench.nemesis.anomalies import (
    DISAGREE,
    LOST_WRITE,
    OTHER,
    STALE_READ,
    FinalRead,
    lost_writes,
    name_anomalies,
    stale_reads,
)


def history(text: str) -> tuple[list[str], dict[int, str]]:
    lines, roles = [], {}
    for number, row in enumerate(text.strip().splitlines(), 1):
        process, kind, f, *rest = row.split()
        value = json.loads(rest[0]) if rest else None
        if len(rest) > 1:
            roles[number] = rest[1]
        event = {"process": int(process), "type": kind, "f": f, "key": "x", "value": value}
        lines.append(json.dumps(event))
    return lines, roles


def names(text: str, finals: list[FinalRead] = (), digests: dict | None = None) -> list[str]:
    lines, roles = history(text)
    ops = read_history(lines)
    verdict = check(ops)
    found = name_anomalies(ops, list(finals), digests or {}, verdict.linearizable, roles)
    return sorted(finding.anomaly for finding in found)


def test_a_follower_answering_an_overwritten_value_is_a_stale_read() -> None:
    text = """
        0 invoke write 1
        0 ok write 1 leader
        0 invoke write 2
        0 ok write 2 leader
        1 invoke read
        1 ok read 1 follower
    """
    assert names(text) == [STALE_READ]


def test_the_leader_answering_an_overwritten_value_is_a_lost_write() -> None:
    text = """
        0 invoke write 1
        0 ok write 1 leader
        0 invoke write 2
        0 ok write 2 leader
        1 invoke read
        1 ok read 1 leader
    """
    assert names(text) == [LOST_WRITE]


def test_a_missing_key_after_a_write_was_acknowledged_is_stale() -> None:
    text = """
        0 invoke write 1
        0 ok write 1 leader
        1 invoke read
        1 ok read null follower
    """
    assert names(text) == [STALE_READ]


def test_a_value_read_by_someone_else_makes_an_older_one_stale() -> None:
    # The write of 2 is still open, but p1 has read it: 1 is gone for good.
    text = """
        0 invoke write 1
        0 ok write 1
        2 invoke write 2
        1 invoke read
        1 ok read 2
        3 invoke read
        3 ok read 1
        2 ok write 2
    """
    assert names(text) == [STALE_READ]


def test_a_read_overlapping_the_newer_write_is_not_stale() -> None:
    text = """
        0 invoke write 1
        0 ok write 1
        0 invoke write 2
        1 invoke read
        0 ok write 2
        1 ok read 1
    """
    assert names(text) == []
    lines, _ = history(text)
    assert check(read_history(lines)).linearizable is True


def test_a_value_whose_write_never_returned_is_never_overwritten_for_sure() -> None:
    text = """
        0 invoke write 1
        0 info write 1
        1 invoke write 2
        1 ok write 2
        2 invoke read
        2 ok read 1
    """
    assert names(text) == []


def test_the_leader_ending_with_an_older_value_than_an_acknowledged_write_lost_it() -> None:
    text = """
        0 invoke write 1
        0 ok write 1
        0 invoke write 2
        0 ok write 2
        0 invoke write 3
        0 ok write 3
    """
    lines, _ = history(text)
    ops = read_history(lines)
    found = lost_writes(ops, [FinalRead("n1", False, "x", 3), FinalRead("n3", True, "x", 1)])
    assert [f.anomaly for f in found] == [LOST_WRITE]
    assert "n3 leads and holds 1, but 2 later acknowledged writes are gone" in found[0].example
    assert lost_writes(ops, [FinalRead("n3", True, "x", 3)]) == []  # a follower's is no loss


def test_stores_that_differ_after_the_faults_disagree() -> None:
    text = """
        0 invoke write 1
        0 ok write 1
    """
    assert names(text, digests={"n1": "ab", "n2": "ab"}) == []
    assert names(text, digests={"n1": "ab", "n2": "cd", "n3": None}) == [DISAGREE]


def test_not_linearizable_without_a_simple_witness_is_other() -> None:
    # Two concurrent writes, seen in opposite orders by two readers: no read is stale on
    # its own, but no single order explains both.
    text = """
        0 invoke write 1
        1 invoke write 2
        2 invoke read
        2 ok read 1
        2 invoke read
        2 ok read 2
        3 invoke read
        3 ok read 2
        3 invoke read
        3 ok read 1
        0 ok write 1
        1 ok write 2
    """
    assert names(text) == [OTHER]


def test_only_the_first_stale_read_of_each_key_and_kind_is_reported() -> None:
    text = """
        0 invoke write 1
        0 ok write 1
        0 invoke write 2
        0 ok write 2
        1 invoke read
        1 ok read 1 follower
        1 invoke read
        1 ok read 1 follower
    """
    lines, roles = history(text)
    found = stale_reads(read_history(lines), roles)
    assert len(found) == 1
    assert found[0].example.startswith("p1 read 1 x (lines 5-6), a follower, after p0 write 2")
