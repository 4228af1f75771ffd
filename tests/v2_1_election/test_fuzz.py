"""Fuzzing a v2.1 node: generated requests never cause a 5xx, and only valid messages count.

A node (``n3``) registered with an in-process registry gets valid election
messages from three made-up peers, mixed with junk: messages with one thing wrong
(a term of -1, 2**63, 1.5, "3" or 5,000 digits; a sender that is empty, too long,
not a string, or the node itself; a missing or unknown field; a type that is not
the route's), bodies that are not JSON at all, and requests to any path. A second
election core, fed only the valid messages, is the model: at the end both agree
on role, term, leader and peers. The timings are hours long, so no timer fires
during a run and only messages move the state.
"""

from __future__ import annotations

import json
import random

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from hypothesis import event, given
from hypothesis import strategies as st
from yarl import URL

from stages.v2_1_election.algorithms import ALGORITHMS
from stages.v2_1_election.bully import BullyElector, ElectionConfig
from stages.v2_1_election.messages import Message, NewerTerm, message_from_json
from stages.v2_1_election.node import DRIVER, create_election_app
from stages.v2_registry.node import NodeConfig
from stages.v2_registry.server import create_registry_app
from tests.fuzz import Answer, Req, broken_bodies, json_values, junk_request, run, run_against
from workbench.harness import wait_until

pytestmark = pytest.mark.timeout(300)  # the long profile needs minutes

NAME = "n3"
SENDERS = ["n1", "n2", "n4"]
HOURS = ElectionConfig(
    heartbeat_interval=3600, leader_timeout=4 * 3600, answer_timeout=3600, victory_timeout=3600
)
JSON = {"Content-Type": "application/json"}
MESSAGE_TYPES = {cls.kind: cls for cls in BullyElector.messages}  # what a Bully node takes


@st.composite
def valid_message(draw: st.DrawFn) -> Message:
    kind = draw(st.sampled_from(sorted(MESSAGE_TYPES)))
    sender, term = draw(st.sampled_from(SENDERS)), draw(st.integers(0, 4))
    if kind == "newer_term":
        return NewerTerm(sender, term, draw(st.sampled_from([None, NAME, *SENDERS])))
    return MESSAGE_TYPES[kind](sender, term)


def as_request(message: Message) -> Req:
    body = json.dumps(message.to_json()).encode()
    return Req("POST", f"/cluster/{message.kind}", JSON, body, True, message.kind, message)


BAD_VALUES = {
    "term": [-1, 2**63, 1.5, "3", None, True, [1]],
    "sender": ["", "a b", "x" * 300, 5, None, NAME, "n1\x00"],
    "type": ["", "victory ", "resign2", 3],
    "leader": [5, "", "a b"],
}


@st.composite
def corrupted_message(draw: st.DrawFn) -> Req:
    """A valid message with exactly one thing wrong, to the route of its kind."""
    message = draw(valid_message())
    body = message.to_json()
    wrong = draw(st.sampled_from(["term", "sender", "type", "leader", "missing", "extra", "kind"]))
    path = f"/cluster/{message.kind}"
    if wrong in BAD_VALUES:
        body[wrong] = draw(st.sampled_from(BAD_VALUES[wrong]))
    elif wrong == "missing":
        del body[draw(st.sampled_from(["sender", "term"]))]
    elif wrong == "extra":
        body[draw(st.sampled_from(["leader2", "x", ""]))] = draw(json_values)
    else:  # a valid message of another kind, on this route
        path = f"/cluster/{draw(st.sampled_from(sorted(set(MESSAGE_TYPES) - {message.kind})))}"
    text = json.dumps(body).encode()
    if draw(st.integers(0, 5)) == 0:  # the term as 5,000 digits, which no JSON number stops
        text = text.replace(f'"term": {message.term}'.encode(), b'"term": 1' + b"0" * 5000)
    return Req("POST", path, JSON, text)


@st.composite
def junk_body_to_a_route(draw: st.DrawFn) -> Req:
    body = draw(broken_bodies)
    try:  # what a JSON body happens to hold must not be a valid message by accident
        message_from_json(json.loads(body), BullyElector.messages)
    except Exception:
        return Req("POST", f"/cluster/{draw(st.sampled_from(sorted(MESSAGE_TYPES)))}", JSON, body)
    return Req("POST", "/cluster/heartbeat", JSON, b"{")


requests = st.lists(
    st.one_of(
        valid_message().map(as_request),
        corrupted_message(),
        junk_body_to_a_route(),
        junk_request(["/cluster/", "/cluster", "/kv/", "/", "/health"]),
    ),
    max_size=20,
)


@given(requests)
def test_no_request_breaks_a_node_and_only_valid_messages_move_the_election(
    reqs: list[Req],
) -> None:
    model = BullyElector(NAME, HOURS, random.Random(0), 0.0)

    def on_valid(req: Req, answer: Answer) -> None:
        assert answer.status == 202, (req, answer)
        model.receive(req.payload, 1.0)

    async def fuzz() -> None:
        registry = create_registry_app()
        registry_server = TestServer(registry)
        await registry_server.start_server()
        try:
            registry_url = str(registry_server.make_url("")).rstrip("/")
            config = NodeConfig(NAME, registry_url, 9, heartbeat_interval=0.05)
            bully = ALGORITHMS["bully"].factory(HOURS)
            node = create_election_app(config, bully, rng=random.Random(0))

            async def registered(session: aiohttp.ClientSession, base: URL) -> None:
                async def listed() -> bool:
                    async with session.get(base / "cluster/peers") as resp:
                        return bool((await resp.json())["registered"])

                await wait_until(listed, timeout=5, interval=0.01, what=f"{NAME} to register")

            await run_against(node, reqs, on_valid, ready=registered)
            elector = node[DRIVER].elector
            state = (elector.role, elector.term, elector.leader, elector.peers)
            assert state == (model.role, model.term, model.leader, model.peers)
            event(f"ended as {model.role.value}, {'a' if model.leader else 'no'} leader")
        finally:
            await registry_server.close()

    run(fuzz())
