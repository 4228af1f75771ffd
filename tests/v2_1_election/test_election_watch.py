"""The election on the dashboard: events and the leadership timeline from what nodes report."""

from __future__ import annotations

from stages.v2_1_election.watch import ElectionSeen, ElectionWatch


def node(name: str, role: str | None, term: int | None, process: str = "running", pid: int = 0):
    leader = name if role == "leader" else None
    return ElectionSeen(name, f"http://{name}", pid or hash(name) % 1000, process, 0.1, role,
                        term, leader)  # fmt: skip


def texts(events: list) -> list[str]:
    return [e.text for e in events if e.kind in ("election", "leader", "stepped_down")]


def test_a_leader_reported_at_a_term_begins_a_tenure() -> None:
    watch = ElectionWatch()
    events = watch.observe(1.0, [node("n1", "follower", 3), node("n3", "leader", 3)])
    assert texts(events) == ["n3 became leader at term 3"]
    assert [(t.leader, t.term, t.start, t.end) for t in watch.timeline] == [("n3", 3, 1.0, None)]


def test_a_killed_leader_ends_its_tenure_and_the_next_leader_begins_one() -> None:
    watch = ElectionWatch()
    watch.observe(1.0, [node("n2", "follower", 3), node("n3", "leader", 3)])
    watch.act(2.0, "n3", "kill", hash("n3") % 1000)
    watch.observe(2.25, [node("n2", "follower", 3), node("n3", None, None, "dead")])
    events = watch.observe(3.0, [node("n2", "candidate", 4), node("n3", None, None, "dead")])
    assert texts(events) == ["n2 started an election at term 4 (as candidate)"]
    events = watch.observe(3.25, [node("n2", "leader", 4), node("n3", None, None, "dead")])
    assert texts(events) == ["n2 became leader at term 4"]
    assert [(t.leader, t.term, t.start, t.end) for t in watch.timeline] == [
        ("n3", 3, 1.0, 2.25),
        ("n2", 4, 3.25, None),
    ]


def test_a_leader_that_reports_another_role_stepped_down() -> None:
    watch = ElectionWatch()
    watch.observe(1.0, [node("n3", "leader", 3)])
    assert texts(watch.observe(2.0, [node("n3", "follower", 5)])) == [
        "n3 stepped down at term 5 (now follower)"
    ]
    assert watch.timeline[0].end == 2.0


def test_a_paused_leader_that_resumes_is_not_elected_again() -> None:
    """While paused it cannot answer; back, it says what it said before: nothing new."""
    watch = ElectionWatch()
    watch.observe(1.0, [node("n3", "leader", 3)])
    assert texts(watch.observe(2.0, [node("n3", None, None, "paused")])) == []
    assert texts(watch.observe(3.0, [node("n3", "leader", 3)])) == []
    assert len(watch.timeline) == 1


def test_a_newer_leader_ends_the_tenure_of_a_paused_one() -> None:
    watch = ElectionWatch()
    watch.observe(1.0, [node("n2", "follower", 3), node("n3", "leader", 3)])
    watch.observe(2.0, [node("n2", "follower", 3), node("n3", None, None, "paused")])
    watch.observe(3.0, [node("n2", "leader", 5), node("n3", None, None, "paused")])
    assert [(t.leader, t.end) for t in watch.timeline] == [("n3", 3.0), ("n2", None)]


def test_a_restarted_leader_starts_afresh_and_did_not_step_down() -> None:
    watch = ElectionWatch()
    watch.observe(1.0, [node("n3", "leader", 3, pid=7)])
    events = watch.observe(2.0, [node("n3", "follower", 0, pid=8)])
    assert texts(events) == []  # a new process, which never led
    assert [(t.leader, t.end) for t in watch.timeline] == [("n3", 2.0)]


def test_a_pre_candidate_counts_as_an_election_started() -> None:
    watch = ElectionWatch()
    watch.observe(1.0, [node("n1", "follower", 2)])
    assert texts(watch.observe(2.0, [node("n1", "pre-candidate", 2)])) == [
        "n1 started an election at term 2 (as pre-candidate)"
    ]
