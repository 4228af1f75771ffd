"""The key/value state machine: applied in log order, versions are log indexes, a
retried request is applied once."""

from __future__ import annotations

import pytest

from stages.v3_replicated_log.kv import Command, InvalidCommand, KeyValueMachine, Result
from stages.v3_replicated_log.messages import Entry
from tests.v3_replicated_log.cluster import Cluster


def _apply(machine: KeyValueMachine, *commands: Command | None) -> list[Result | None]:
    results = []
    for command in commands:
        index = machine.applied + 1
        results.append(machine.apply(Entry(index, 1, command and command.to_data())))
    return results


def put(key: str, value: str, seq: int, client: str = "c1") -> Command:
    return Command("put", key, client, seq, value)


def test_a_keys_version_is_the_log_index_of_its_last_write() -> None:
    machine = KeyValueMachine()
    _, first, _, second = _apply(machine, None, put("k", "a", 1), None, put("k", "b", 2))
    assert first == Result(True, "a", 2, 2)
    assert second == Result(True, "b", 4, 4)
    assert machine.data == {"k": ("b", 4)}


def test_get_reads_the_value_and_version_at_its_place_in_the_log() -> None:
    machine = KeyValueMachine()
    results = _apply(machine, Command("get", "k", "c1", 1), put("k", "a", 2))
    results += _apply(machine, Command("get", "k", "c1", 3))
    assert results == [Result(False, None, 0, 1), Result(True, "a", 2, 2), Result(True, "a", 2, 3)]


def test_delete_removes_the_key_and_says_whether_it_was_there() -> None:
    machine = KeyValueMachine()
    results = _apply(machine, put("k", "a", 1), Command("delete", "k", "c1", 2))
    results += _apply(machine, Command("delete", "k", "c1", 3))
    assert [r and r.ok for r in results] == [True, True, False]
    assert machine.data == {}


def test_compare_and_set_writes_only_if_the_version_is_still_the_expected_one() -> None:
    machine = KeyValueMachine()
    created = _apply(machine, Command("cas", "k", "c1", 1, "a", expected=0))[0]
    assert created == Result(True, "a", 1, 1)
    stale = _apply(machine, Command("cas", "k", "c2", 1, "b", expected=0))[0]
    assert stale == Result(False, "a", 1, 2)  # refused: the current value and version
    fresh = _apply(machine, Command("cas", "k", "c2", 2, "c", expected=1))[0]
    assert fresh == Result(True, "c", 3, 3)
    assert machine.data == {"k": ("c", 3)}


def test_a_retried_request_is_applied_once_and_gets_the_first_result() -> None:
    machine = KeyValueMachine()
    first, _, retried = _apply(machine, put("k", "a", 1), put("k", "b", 1, "c2"), put("k", "a", 1))
    assert retried == first == Result(True, "a", 1, 1)
    assert machine.data == {"k": ("b", 2)}  # the retry did not write again


def test_an_older_request_of_a_client_is_not_applied_again() -> None:
    machine = KeyValueMachine()
    _apply(machine, put("k", "a", 1), put("k", "b", 2))
    _apply(machine, put("k", "a", 1))
    assert machine.data == {"k": ("b", 2)}


def test_entries_must_come_in_log_order() -> None:
    machine = KeyValueMachine()
    with pytest.raises(ValueError, match="entry 2 applied after 0"):
        machine.apply(Entry(2, 1, None))


@pytest.mark.parametrize(
    "data",
    [
        "not json",
        "[]",
        '{"op": "drop", "key": "k"}',
        '{"op": "put", "key": "k", "client": "c", "seq": 1}',
        '{"op": "get", "key": 1, "client": "c", "seq": 1}',
        '{"op": "get", "key": "k", "client": "c", "seq": "1"}',
        '{"op": "get", "key": "k", "client": "c", "seq": 1, "extra": 1}',
    ],
)
def test_data_that_is_not_a_command_is_refused(data: str) -> None:
    with pytest.raises(InvalidCommand):
        Command.from_data(data)


def test_a_command_survives_its_round_trip_through_entry_data() -> None:
    command = Command("cas", "k", "c1", 7, "v", expected=3)
    assert Command.from_data(command.to_data()) == command


def test_a_write_retried_with_a_new_leader_is_committed_twice_and_applied_once() -> None:
    cluster = Cluster(["n1", "n2", "n3"])
    cluster.tick("n1")
    cluster.settle()
    write = put("k", "a", 1)
    cluster.propose("n1", write.to_data())
    cluster.settle()  # committed; then n1 is cut off before its client hears so
    cluster.isolate("n1")
    cluster.tick("n2")
    cluster.settle()
    cluster.propose("n2", write.to_data())  # the client's retry, to the new leader
    cluster.settle()
    cluster.tick("n2")
    cluster.settle()
    for name in ("n2", "n3"):
        entries = cluster.nodes[name].applied
        assert [e.data for e in entries].count(write.to_data()) == 2
        machine = KeyValueMachine()
        *_, retried = [machine.apply(entry) for entry in entries]
        assert retried == Result(True, "a", 2, 2)  # the first copy's result, at index 2
        assert machine.data == {"k": ("a", 2)}
