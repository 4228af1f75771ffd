"""v2.1 nodes in-process: the cluster routes, and an election over real loopback HTTP."""

from __future__ import annotations

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from stages.v2_1_election.algorithms import ALGORITHMS
from stages.v2_1_election.node import create_election_app
from stages.v2_registry.node import MEMBERSHIP, NodeConfig
from stages.v2_registry.server import RegistryConfig, create_registry_app
from workbench.harness import wait_until

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
async def registry(aiohttp_server) -> TestServer:
    return await aiohttp_server(create_registry_app(RegistryConfig(ttl=1.0)))


def election_app(
    registry: TestServer, name: str, port: int, election: str = "bully", size: int = 3
) -> web.Application:
    registry_url = str(registry.make_url("")).rstrip("/")
    config = NodeConfig(name, registry_url, port, heartbeat_interval=0.2)
    algorithm = ALGORITHMS[election]
    voters = [f"n{i}" for i in range(1, size + 1)]
    return create_election_app(config, algorithm.factory(algorithm.settings(voters)))


@pytest.fixture
async def lone(registry: TestServer, aiohttp_client) -> TestClient:
    client = await aiohttp_client(election_app(registry, "n1", 9001))

    async def registered() -> bool:
        return (await (await client.get("/cluster/peers")).json())["registered"]

    await wait_until(registered, timeout=5, what="n1 to register")
    return client


async def status(client: TestClient) -> dict:
    resp = await client.get("/cluster/status")
    assert resp.status == 200
    return await resp.json()


async def test_status_has_every_field_and_a_lone_node_leads(lone: TestClient) -> None:
    first = await status(lone)
    fields = {"name", "role", "term", "leader", "leader_url", "peers", "algorithm", "voter"}
    assert set(first) == fields
    assert first["algorithm"] == "bully" and first["name"] == "n1" and first["voter"] is True

    async def leading() -> bool:
        return (await status(lone))["role"] == "leader"

    await wait_until(leading, timeout=3, what="n1 to lead")
    body = await status(lone)
    assert body["leader"] == "n1" and body["term"] == 1
    assert body["leader_url"] == str(lone.make_url("")).rstrip("/")


async def test_a_heartbeat_from_a_newer_term_makes_the_node_follow(lone: TestClient) -> None:
    resp = await lone.post(
        "/cluster/heartbeat", json={"type": "heartbeat", "sender": "n9", "term": 7}
    )
    assert resp.status == 202
    body = await status(lone)
    assert (body["role"], body["leader"], body["term"]) == ("follower", "n9", 7)
    assert body["leader_url"] is None  # n9 is not in the registry


@pytest.mark.parametrize(
    ("path", "body", "status_code", "code"),
    [
        (
            "/cluster/coronation",
            {"type": "heartbeat", "sender": "n2", "term": 1},
            404,
            "unknown_message",
        ),
        (  # a message of majority vote, to a Bully node
            "/cluster/vote",
            {"type": "vote", "sender": "n2", "term": 1, "granted": True},
            404,
            "unknown_message",
        ),
        ("/cluster/heartbeat", "{bad", 400, "invalid_json"),
        (
            "/cluster/heartbeat",
            {"type": "victory", "sender": "n2", "term": 1},
            400,
            "invalid_message",
        ),
        (
            "/cluster/heartbeat",
            {"type": "heartbeat", "sender": "n2", "term": -1},
            400,
            "invalid_message",
        ),
        (
            "/cluster/heartbeat",
            {"type": "heartbeat", "sender": "n 2", "term": 1},
            400,
            "invalid_message",
        ),
        ("/cluster/heartbeat", {"type": "heartbeat", "term": 1}, 400, "invalid_message"),
        (
            "/cluster/heartbeat",
            {"type": "heartbeat", "sender": "n2", "term": 2**63},
            400,
            "invalid_message",
        ),
        (
            "/cluster/heartbeat",
            {"type": "heartbeat", "sender": "n2", "term": 1.5},
            400,
            "invalid_message",
        ),
        (
            "/cluster/victory",
            {"type": "victory", "sender": "n2", "term": True},
            400,
            "invalid_message",
        ),
        (
            "/cluster/heartbeat",
            '{"type": "heartbeat", "sender": "n2", "term": ' + "9" * 4300 + "}",
            400,
            "invalid_message",
        ),
        (
            "/cluster/heartbeat",
            '{"type": "heartbeat", "sender": "n2", "term": ' + "9" * 4301 + "}",
            400,
            "invalid_json",
        ),
        (
            "/cluster/heartbeat",
            {"type": "heartbeat", "sender": "n1", "term": 1},
            400,
            "invalid_message",
        ),
        (
            "/cluster/victory",
            {"type": "victory", "sender": "n1", "term": 9},
            400,
            "invalid_message",
        ),
    ],
)
async def test_bad_cluster_messages_are_refused_with_json_errors(
    lone: TestClient, path: str, body: object, status_code: int, code: str
) -> None:
    if isinstance(body, str):
        resp = await lone.post(path, data=body, headers={"Content-Type": "application/json"})
    else:
        resp = await lone.post(path, json=body)
    assert resp.status == status_code
    assert (await resp.json())["error"]["code"] == code
    assert (await status(lone))["term"] == 0  # nothing reached the election


async def test_three_in_process_quorum_voters_elect_one_of_them_and_a_non_voter_follows(
    registry: TestServer, unused_tcp_port_factory
) -> None:
    ports = [unused_tcp_port_factory() for _ in range(4)]
    servers = [  # n4 is not one of the voters n1, n2, n3: it follows, and never counts
        TestServer(election_app(registry, f"n{i}", port, "quorum"), host="127.0.0.1", port=port)
        for i, port in enumerate(ports, start=1)
    ]
    clients = [TestClient(server) for server in servers]
    try:
        for client in clients:
            await client.start_server()

        async def agreed() -> bool:
            views = [await status(client) for client in clients]
            leaders = [v["name"] for v in views if v["role"] == "leader"]
            return len(leaders) == 1 and all(v["leader"] == leaders[0] for v in views)

        await wait_until(agreed, timeout=8, what="four quorum nodes to agree on a leader")
        views = [await status(c) for c in clients]
        assert {v["algorithm"] for v in views} == {"quorum"}
        assert [v["voter"] for v in views] == [True, True, True, False]
        assert views[3]["role"] == "follower" and views[0]["leader"] in {"n1", "n2", "n3"}
        resp = await clients[0].post(
            "/cluster/election", json={"type": "election", "sender": "n2", "term": 9}
        )
        assert resp.status == 404  # a Bully message means nothing to majority vote
        assert "quorum has no message 'election'" in (await resp.json())["error"]["message"]
    finally:
        for client in clients:
            await client.close()


async def test_three_in_process_nodes_elect_the_highest(
    registry: TestServer, unused_tcp_port_factory
) -> None:
    names = ["n1", "n2", "n3"]
    servers = [
        TestServer(election_app(registry, name, port), host="127.0.0.1", port=port)
        for name, port in ((name, unused_tcp_port_factory()) for name in names)
    ]
    clients = [TestClient(server) for server in servers]
    try:
        for client in clients:
            await client.start_server()

        async def agreed_on_n3() -> bool:
            views = [await status(client) for client in clients]
            return all(v["leader"] == "n3" for v in views) and views[2]["role"] == "leader"

        await wait_until(agreed_on_n3, timeout=5, what="n1, n2 and n3 to agree on n3")
        assert [(await status(c))["peers"] for c in clients] == [
            ["n2", "n3"],
            ["n1", "n3"],
            ["n1", "n2"],
        ]
    finally:
        for client in clients:
            await client.close()


async def test_a_node_the_registry_has_not_accepted_takes_no_part(
    aiohttp_client, unused_tcp_port: int
) -> None:
    config = NodeConfig("n1", f"http://127.0.0.1:{unused_tcp_port}", 9001, heartbeat_interval=0.2)
    bully = ALGORITHMS["bully"]
    app = create_election_app(config, bully.factory(bully.settings()))
    node: TestClient = await aiohttp_client(app)
    resp = await node.post("/cluster/victory", json={"type": "victory", "sender": "n2", "term": 3})
    assert resp.status == 503
    assert (await resp.json())["error"]["code"] == "not_registered"
    body = await status(node)
    assert (body["role"], body["term"], body["leader"]) == ("follower", 0, None)


async def test_a_node_whose_name_is_taken_sends_nothing_to_the_peers_it_sees(
    registry: TestServer, aiohttp_client, aiohttp_server
) -> None:
    received: list[str] = []  # streams opened, and messages posted

    async def stream(request: web.Request) -> web.Response:
        received.append("a stream")
        return web.json_response({}, status=503)

    async def post(request: web.Request) -> web.Response:
        received.append(request.match_info["kind"])
        return web.json_response({}, status=202)

    peer_app = web.Application()
    peer_app.router.add_get("/cluster/stream", stream)
    peer_app.router.add_post("/cluster/{kind}", post)
    n2 = await aiohttp_server(peer_app)
    async with TestClient(registry) as reg:  # n1 is taken (at 9001), n2 is listed
        assert (await reg.post("/nodes", json={"name": "n1", "port": 9001})).status == 201
        assert (await reg.post("/nodes", json={"name": "n2", "port": n2.port})).status == 201
        app = election_app(registry, "n1", 9999)  # a second n1, at another port: refused
        await aiohttp_client(app)
        await wait_until(lambda: app[MEMBERSHIP].failures >= 3, timeout=5, what="3 refusals")
        assert received == [], "a refused node sends no Join (it would speak for the real n1)"


async def test_the_largest_term_is_accepted_and_status_still_answers(lone: TestClient) -> None:
    resp = await lone.post(
        "/cluster/heartbeat", json={"type": "heartbeat", "sender": "n2", "term": 2**63 - 1}
    )
    assert resp.status == 202
    body = await status(lone)
    assert (body["term"], body["leader"]) == (2**63 - 1, "n2")


async def test_a_term_error_message_does_not_print_the_whole_number(lone: TestClient) -> None:
    body = '{"type": "heartbeat", "sender": "n2", "term": ' + "9" * 4300 + "}"
    resp = await lone.post(
        "/cluster/heartbeat", data=body, headers={"Content-Type": "application/json"}
    )
    message = (await resp.json())["error"]["message"]
    assert "from 0 to 2**63 - 1" in message and "-bit number" in message
    assert len(message) < 200


@pytest.mark.parametrize("path", ["/cluster/heartbeat", "/kv/a"])
async def test_a_body_that_is_not_the_gzip_it_claims_is_400(lone: TestClient, path: str) -> None:
    resp = await lone.request(
        "PUT" if path.startswith("/kv") else "POST",
        path,
        data=b"not gzip",
        headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
    )
    assert resp.status == 400
    assert (await resp.json())["error"]["code"] == "invalid_body"


async def test_registry_routes_refuse_a_body_that_is_not_the_gzip_it_claims(registry) -> None:
    async with TestClient(registry) as client:
        resp = await client.post(
            "/nodes",
            data=b"not gzip",
            headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
        )
        assert resp.status == 400
        assert (await resp.json())["error"]["code"] == "invalid_body"
