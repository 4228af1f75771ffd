"""The pure parts of v2.2: messages, the follower's rule, a store's digest."""

from __future__ import annotations

import pytest

from stages.v1_kv.commands import Delete, Put
from stages.v2_1_election.messages import message_from_json
from stages.v2_2_replication.messages import Replicate, Snapshot
from stages.v2_2_replication.replication import digest, refusal
from stages.v2_registry.models import InvalidMessage


def test_a_replicate_message_round_trips_a_put_and_a_delete() -> None:
    for command in (Put("users/42", b"\x00\xff"), Delete("k")):
        message = Replicate.of("n3", 4, command)
        parsed = message_from_json(message.to_json(), [Replicate])
        assert parsed == message and parsed.command() == command


def test_a_snapshot_round_trips_and_refuses_bad_items() -> None:
    snapshot = Snapshot("n3", 2, {"a": b"1", "b": b""})
    assert Snapshot.from_json(snapshot.to_json()) == snapshot
    with pytest.raises(InvalidMessage):
        Snapshot.from_json({"leader": "n3", "term": 2, "items": {"": "MQ=="}})
    with pytest.raises(InvalidMessage):
        Snapshot.from_json({"leader": "n3", "term": True, "items": {}})


@pytest.mark.parametrize(
    ("sender", "term", "leader", "taken"),
    [("n3", 4, "n3", True), ("n3", 5, "n3", True), ("n3", 3, "n3", False),
     ("n2", 4, "n3", False), ("n3", 4, None, False), ("n3", 4, "n1", False)],
)  # fmt: skip
def test_a_follower_takes_writes_only_from_its_leader_at_its_term_or_newer(
    sender: str, term: int, leader: str | None, taken: bool
) -> None:
    message = Replicate.of(sender, term, Put("k", b"v"))
    assert (refusal(message, "n1" if leader != "n1" else "n2", leader, 4) is None) is taken
    assert refusal(message, "n1", "n1", 4) is not None  # a leader takes no peer's writes


def test_the_digest_tells_stores_apart_by_keys_and_values() -> None:
    assert digest({"a": b"1", "b": b"2"}) == digest({"b": b"2", "a": b"1"})
    assert digest({"a": b"1"}) != digest({"a": b"2"})
    assert digest({"ab": b""}) != digest({"a": b"b"})
