"""The log's messages: JSON round trips, parsed by the algorithm's own types, validated."""

from __future__ import annotations

from typing import Any

import pytest

from stages.v2_1_election.messages import message_from_json
from stages.v2_registry.models import InvalidMessage
from stages.v3_replicated_log.messages import (
    MAX_BATCH,
    MESSAGES,
    AppendEntries,
    AppendEntriesReply,
    Entry,
    LogRequestVote,
)


def _append(**changes: Any) -> dict[str, Any]:
    message = AppendEntries("n1", 3, 4, 2, (Entry(5, 3, "x"), Entry(6, 3)), leader_commit=4)
    return {**message.to_json(), **changes}


@pytest.mark.parametrize(
    "message",
    [
        AppendEntries("n1", 3, 4, 2, (Entry(5, 3, '{"op": "put"}'), Entry(6, 3)), 4),
        AppendEntries("n1", 3),
        AppendEntriesReply(
            "n2", 3, success=False, match_index=4, conflict_term=2, conflict_index=3
        ),
        LogRequestVote("n3", 4, pre_vote=True, last_index=9, last_term=3),
    ],
)
def test_each_message_survives_a_json_round_trip(message: Any) -> None:
    assert message_from_json(message.to_json(), MESSAGES) == message


def test_append_entries_puts_its_entries_on_the_wire_as_objects() -> None:
    assert _append()["entries"] == [
        {"index": 5, "term": 3, "data": "x"},
        {"index": 6, "term": 3, "data": None},
    ]


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"entries": [{"index": 5, "term": 3, "data": None}, {"index": 7, "term": 3}]}, "keys"),
        (
            {
                "entries": [
                    {"index": 5, "term": 3, "data": None},
                    {"index": 7, "term": 3, "data": None},
                ]
            },
            "consecutive",
        ),
        ({"entries": [{"index": 6, "term": 3, "data": None}]}, "right after prev_index"),
        ({"entries": [{"index": 5, "term": -1, "data": None}]}, "whole number"),
        ({"entries": [{"index": 5, "term": 3, "data": 7}]}, "data must be"),
        ({"entries": [{"index": 5, "term": 3, "data": "x" * 5000}]}, "data must be"),
        (
            {"entries": [{"index": 5 + i, "term": 3, "data": None} for i in range(MAX_BATCH + 1)]},
            "at most",
        ),
        ({"leader_commit": "4"}, "whole number"),
        ({"extra": 1}, "unknown field"),
    ],
)
def test_append_entries_that_cannot_be_right_is_refused(changes: dict[str, Any], says: str) -> None:
    with pytest.raises(InvalidMessage, match=says):
        message_from_json(_append(**changes), MESSAGES)


def test_a_plain_heartbeat_is_not_one_of_the_logs_messages() -> None:
    with pytest.raises(InvalidMessage, match="'type' must be one of"):
        message_from_json({"type": "heartbeat", "sender": "n1", "term": 1}, MESSAGES)
