"""The node's membership logic, with no registry and no clock."""

import logging
import random

from stages.v2_registry.membership import Membership
from stages.v2_registry.models import NodeInfo


def node(name: str) -> NodeInfo:
    return NodeInfo(name, "127.0.0.1", 8050, 0.0)


def test_a_successful_beat_waits_one_interval_and_records_peers_without_itself() -> None:
    m = Membership("n2", 1.0, random.Random(1))
    assert m.beat_succeeded(True, [node("n3"), node("n2"), node("n1")], now=10.0) == 1.0
    assert m.registered
    assert [p.name for p in m.peers] == ["n1", "n3"]
    assert m.updated_at == 10.0


def test_retries_back_off_and_are_capped_at_one_and_a_half_intervals() -> None:
    m = Membership("n1", 1.0, random.Random(7))
    delays = [m.beat_failed("connection refused") for _ in range(8)]
    assert 0.2 <= delays[0] <= 0.25  # a quarter of the interval, minus jitter
    assert delays[1] > delays[0]
    assert all(d <= 1.5 for d in delays)
    assert delays[-1] >= 1.2  # the cap, minus at most 20% jitter
    assert m.failures == 8


def test_success_after_failures_resets_the_backoff(caplog) -> None:
    caplog.set_level(logging.INFO)
    m = Membership("n1", 1.0, random.Random(7))
    m.beat_succeeded(True, [], now=0.0)
    m.beat_failed("refused")
    m.beat_failed("refused")
    assert m.beat_succeeded(False, [], now=3.0) == 1.0
    assert m.failures == 0
    assert "n1 reached the registry again after 2 failed attempts" in caplog.text


def test_being_created_again_means_the_registry_forgot_us(caplog) -> None:
    caplog.set_level(logging.INFO)
    m = Membership("n1", 1.0, random.Random(7))
    m.beat_succeeded(True, [], now=0.0)
    m.beat_succeeded(True, [], now=1.0)
    assert "n1 registered with the registry again (the registry had forgotten us)" in caplog.text


def test_peers_joining_and_leaving_are_logged(caplog) -> None:
    caplog.set_level(logging.INFO)
    m = Membership("n1", 1.0, random.Random(7))
    m.beat_succeeded(True, [node("n2")], now=0.0)
    m.beat_succeeded(False, [node("n3")], now=1.0)
    assert "n1 sees n2 join the cluster" in caplog.text
    assert "n1 sees n3 join the cluster" in caplog.text
    assert "n1 sees n2 leave the cluster" in caplog.text


def test_a_thousand_nodes_joining_at_once_are_one_log_line(caplog) -> None:
    caplog.set_level(logging.INFO)
    m = Membership("n1", 1.0, random.Random(7))
    m.beat_succeeded(True, [node(f"fake{i:04d}") for i in range(1000)], now=0.0)
    m.beat_succeeded(False, [], now=1.0)
    assert [r.getMessage() for r in caplog.records if "the cluster" in r.getMessage()] == [
        "n1 sees fake0000, fake0001, fake0002 and 997 more join the cluster",
        "n1 sees fake0000, fake0001, fake0002 and 997 more leave the cluster",
    ]


def test_a_restarted_node_that_finds_its_old_entry_says_it_registered(caplog) -> None:
    caplog.set_level(logging.INFO)
    m = Membership("n1", 1.0, random.Random(7))
    m.beat_succeeded(False, [], now=0.0)  # 200, not 201: the entry of our previous life
    assert "n1 registered with the registry (renewing the entry of an earlier run)" in caplog.text
    assert m.registered
