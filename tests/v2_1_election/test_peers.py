"""The node's peer view: newcomers at once, departures only once they last.

Pure: the registry's answers and the time are handed in by the test.
"""

from __future__ import annotations

import logging

from stages.v2_1_election.peers import PeerView
from stages.v2_registry.models import NodeInfo

GRACE = 5.0  # five registry heartbeat intervals of 1 s
OUTAGE = 2.0  # no answer for two intervals: the registry was away


def nodes(*names: str) -> list[NodeInfo]:
    return [NodeInfo(name, "127.0.0.1", 8050 + i, 0.0) for i, name in enumerate(names)]


def test_newcomers_count_at_once_and_we_are_never_our_own_peer() -> None:
    view = PeerView("n1", GRACE, OUTAGE)
    view.update(nodes("n1", "n2", "n3"), 0.0)
    assert view.names() == {"n2", "n3"}
    assert view.url("n2") == "http://127.0.0.1:8051"


def test_an_empty_answer_after_a_registry_restart_forgets_nobody_within_the_grace(
    caplog,
) -> None:
    caplog.set_level(logging.INFO)
    view = PeerView("n1", GRACE, OUTAGE)
    view.update(nodes("n2", "n3"), 0.0)
    version = view.version
    view.update([], 10.0)  # the registry was down for 10 s and came back empty
    assert view.names() == {"n2", "n3"}, "a registry restart is not news that the peers died"
    assert view.version == version, "the election core is not told anything changed"
    assert view.missing() == {"n2", "n3"}
    assert view.url("n3") == "http://127.0.0.1:8051", "still reachable at its last address"
    assert "n1 no longer sees n2, n3 in the registry; still counting them for 5.0s" in caplog.text
    view.update(nodes("n2", "n3"), 11.0)  # they registered again
    view.update(nodes("n2", "n3"), 12.0)
    assert view.names() == {"n2", "n3"} and view.missing() == frozenset()


def test_a_peer_missing_for_the_whole_grace_is_forgotten(caplog) -> None:
    caplog.set_level(logging.INFO)
    view = PeerView("n1", GRACE, OUTAGE)
    view.update(nodes("n2", "n3"), 0.0)
    now = 1.0
    while now < 1.0 + GRACE - 0.01:  # answers every quarter of a second, all without n3
        view.update(nodes("n2"), now)
        now += 0.25
    assert view.names() == {"n2", "n3"}
    version = view.version
    view.update(nodes("n2"), 1.0 + GRACE)
    assert view.names() == {"n2"}
    assert view.url("n3") is None
    assert view.version == version + 1
    assert "n1 forgets n3: not listed for 5.0s" in caplog.text


def test_a_moved_peer_is_reached_at_its_new_address() -> None:
    view = PeerView("n1", GRACE, OUTAGE)
    view.update(nodes("n2"), 0.0)
    view.update([NodeInfo("n2", "10.0.0.9", 9000, 0.0)], 1.0)
    assert view.url("n2") == "http://10.0.0.9:9000"


def test_a_thousand_departures_are_one_log_line(caplog) -> None:
    caplog.set_level(logging.INFO)
    view = PeerView("n1", GRACE, OUTAGE)
    names = [f"fake{i:04d}" for i in range(1000)]
    view.update(nodes(*names), 0.0)
    for second in range(1, 7):  # answers every second, all empty, for the whole grace
        view.update([], float(second))
    assert view.names() == frozenset()
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "n1 no longer sees fake0000, fake0001, fake0002 and 997 more in the registry; "
        "still counting them for 5.0s",
        "n1 forgets fake0000, fake0001, fake0002 and 997 more: not listed for 5.0s",
    ]


def test_nobody_is_forgotten_while_the_registry_is_down_however_long() -> None:
    view = PeerView("n1", GRACE, OUTAGE)
    view.update(nodes("n2", "n3"), 0.0)
    view.update(nodes("n2"), 1.0)  # the registry restarted; n3 has not registered again yet
    # ... and the registry went down again at once, for a minute: no answers, no forgetting
    view.update(nodes("n2"), 61.0)  # back, and n3 not yet registered: it gets a new grace
    view.update(nodes("n2"), 61.0 + GRACE - 0.5)
    assert view.names() == {"n2", "n3"}
    view.update(nodes("n2", "n3"), 61.0 + GRACE - 0.25)  # there it is
    assert view.names() == {"n2", "n3"} and view.missing() == frozenset()
