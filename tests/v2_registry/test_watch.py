"""The dashboard's cluster watch, as pure bookkeeping: looks in, events out, no clock."""

from __future__ import annotations

from stages.v2_registry.watch import ClusterWatch, NodeSeen


def seen(process: str = "running", age: float | None = 0.2, pid: int = 100) -> NodeSeen:
    return NodeSeen("n1", "http://127.0.0.1:8051", pid, process, age)


def kinds(events: list) -> list[str]:
    return [event.kind for event in events]


def test_a_first_look_reports_the_process_started_and_registered() -> None:
    watch = ClusterWatch()
    events = watch.observe(10.0, [seen()])
    assert kinds(events) == ["started", "registered"]
    assert [event.at for event in events] == [10.0, 10.0]
    assert events[1].text == "n1 registered with the registry"


def test_a_node_that_starts_before_it_registers_is_registered_one_look_later() -> None:
    watch = ClusterWatch()
    assert kinds(watch.observe(1.0, [seen(age=None)])) == ["started"]
    assert kinds(watch.observe(1.25, [seen(age=0.0)])) == ["registered"]
    assert watch.observe(1.5, [seen(age=0.25)]) == []  # a heartbeat's age is no event


def test_a_process_that_dies_on_its_own_is_reported_exited_then_expired() -> None:
    watch = ClusterWatch()
    watch.observe(1.0, [seen()])
    assert kinds(watch.observe(2.0, [seen("dead")])) == ["exited"]
    assert kinds(watch.observe(7.0, [seen("dead", age=None)])) == ["expired"]


def test_an_action_of_the_dashboard_is_one_event_not_two() -> None:
    watch = ClusterWatch()
    watch.observe(1.0, [seen()])
    watch.expect("n1", "pause")
    event = watch.act(2.0, "n1", "pause", 100)
    assert event.text == "n1 paused from the dashboard (SIGSTOP to pid 100)"
    assert watch.observe(2.25, [seen("paused")]) == []  # the look confirms what we did
    assert kinds(watch.observe(2.5, [seen("running")])) == ["resumed"]  # SIGCONT from elsewhere


def test_a_look_that_sees_an_action_before_it_is_recorded_reports_it_once() -> None:
    watch = ClusterWatch()
    watch.observe(1.0, [seen()])
    watch.expect("n1", "kill")
    assert watch.observe(1.1, [seen("dead")]) == []  # SIGKILL sent; act() not yet called
    watch.act(1.2, "n1", "kill", 100)
    assert kinds(watch.since(0))[-1] == "killed" and "exited" not in kinds(watch.since(0))


def test_an_action_that_did_not_happen_expects_nothing() -> None:
    watch = ClusterWatch()
    watch.observe(1.0, [seen()])
    watch.expect("n1", "resume")
    watch.expect("n1", None)  # 409: it was running
    assert kinds(watch.observe(2.0, [seen("paused")])) == ["paused"]


def test_a_stop_from_elsewhere_is_reported_as_such() -> None:
    watch = ClusterWatch()
    watch.observe(1.0, [seen()])
    [event] = watch.observe(2.0, [seen("paused")])
    assert event.kind == "paused" and "not from the dashboard" in event.text


def test_a_restart_is_a_new_process_and_a_polite_goodbye_is_deregistered() -> None:
    watch = ClusterWatch()
    watch.observe(1.0, [seen()])
    watch.act(2.0, "n1", "restart", 101)
    events = watch.observe(2.25, [seen(pid=101, age=None)])
    assert [(e.kind, e.text) for e in events] == [
        ("started", "n1 started (pid 101)"),
        ("deregistered", "the registry no longer lists n1 (deregistered)"),
    ]


def test_a_restart_seen_halfway_does_not_report_the_old_process_exited() -> None:
    """A look between the old process's end and the new one's start sees it dead: the
    dashboard did that, so it is no news (the restart's own event says it)."""
    watch = ClusterWatch()
    watch.observe(1.0, [seen()])
    watch.expect("n1", "restart")
    assert kinds(watch.observe(1.25, [seen("dead", age=None)])) == ["deregistered"]
    watch.act(1.4, "n1", "restart", 101)
    assert kinds(watch.observe(1.5, [seen(pid=101, age=None)])) == ["started"]
    assert kinds(watch.observe(3.0, [seen(pid=101, age=None, process="dead")])) == ["exited"]


def test_after_a_restart_the_new_process_dying_is_news() -> None:
    """What was expected of the old process (its end) says nothing about the new one."""
    watch = ClusterWatch()
    watch.observe(1.0, [seen()])
    watch.expect("n1", "restart")
    watch.act(1.4, "n1", "restart", 101)  # no look saw the old process dead
    assert kinds(watch.observe(1.5, [seen(pid=101)])) == ["started"]
    assert kinds(watch.observe(3.0, [seen("dead", pid=101)])) == ["exited"]


def test_a_node_that_exits_and_deregisters_between_two_looks_is_deregistered() -> None:
    """``kill PID`` (SIGTERM) from a terminal: gone from the list and exited, both within one
    look; it said goodbye, so it did not expire."""
    watch = ClusterWatch()
    watch.observe(1.0, [seen()])
    events = watch.observe(1.25, [seen("dead", age=None)])
    assert "deregistered" in kinds(events) and "expired" not in kinds(events)


def test_since_gives_only_the_events_a_reader_has_not_had() -> None:
    watch = ClusterWatch(max_events=3)
    watch.observe(1.0, [seen()])  # two events
    assert kinds(watch.since(0)) == ["started", "registered"]
    count = watch.count
    watch.expect("n1", "kill")
    watch.act(2.0, "n1", "kill", 100)
    watch.observe(2.25, [seen("dead", age=0.45)])  # a killed node is listed until its TTL
    watch.observe(7.0, [seen("dead", age=None)])
    assert kinds(watch.since(count)) == ["killed", "expired"]
    assert len(watch.events) == 3 and kinds(watch.since(0)) == ["registered", "killed", "expired"]
