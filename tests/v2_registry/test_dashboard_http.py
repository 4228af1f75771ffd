"""The dashboard's JSON API in-process, over children that only sleep.

The supervisor starts real processes (``python -c 'sleep'``), so kill, pause, resume and
restart act on real process states; there is no registry, so nobody is registered.
"""

from __future__ import annotations

import json
import logging
import re
import socket
from collections.abc import Iterator

import pytest

from tests.demo import sleeping_children
from workbench.demo.dashboard import Stage, create_dashboard_app
from workbench.demo.supervisor import Supervisor


@pytest.fixture
def supervisor(unused_tcp_port_factory) -> Iterator[Supervisor]:
    """Two sleepers: nothing listens on their ports, so neither answers."""
    with sleeping_children(("n1", "n2"), unused_tcp_port_factory) as supervisor:
        yield supervisor


@pytest.fixture
async def client(aiohttp_client, supervisor: Supervisor):
    return await aiohttp_client(create_dashboard_app(supervisor, Stage("v2")))


async def test_the_cluster_lists_every_node_with_every_field(client, supervisor) -> None:
    resp = await client.get("/api/cluster")
    assert resp.status == 200
    body = await resp.json()
    assert body["registry"] is None
    assert [n["name"] for n in body["nodes"]] == ["n1", "n2"]
    first = body["nodes"][0]
    assert first["pid"] == supervisor.children["n1"].pid
    assert first["url"] == f"http://127.0.0.1:{supervisor.children['n1'].port}"
    assert first["process"] == "running"
    assert {"role", "term", "leader"} <= first.keys() and first["role"] is None  # v2: no election


async def test_pause_then_resume_answers_the_new_entry(client) -> None:
    resp = await client.post("/api/nodes/n1/pause")
    assert resp.status == 200 and (await resp.json())["process"] == "paused"
    again = await client.post("/api/nodes/n1/pause")
    assert again.status == 409
    assert (await again.json())["error"] == {
        "code": "not_applicable",
        "message": "cannot pause n1: it is paused",
    }
    resp = await client.post("/api/nodes/n1/resume")
    assert resp.status == 200 and (await resp.json())["process"] == "running"


async def test_kill_leaves_a_dead_node_that_only_restart_brings_back(client, supervisor) -> None:
    old = supervisor.children["n2"].pid
    resp = await client.post("/api/nodes/n2/kill")
    assert (await resp.json())["process"] == "dead"
    for action in ("kill", "pause", "resume"):
        assert (await client.post(f"/api/nodes/n2/{action}")).status == 409
    resp = await client.post("/api/nodes/n2/restart")
    entry = await resp.json()
    assert resp.status == 200 and entry["process"] == "running" and entry["pid"] != old


async def test_unknown_nodes_and_actions_are_404_in_json(client) -> None:
    resp = await client.post("/api/nodes/n9/kill")
    assert resp.status == 404
    message = (await resp.json())["error"]["message"]
    assert message == "this demo has no node 'n9'; its nodes: n1, n2"
    resp = await client.post("/api/nodes/n1/explode")
    assert resp.status == 404 and (await resp.json())["error"]["code"] == "unknown_action"
    resp = await client.get("/api/nodes/n1/kill")
    assert resp.status == 405 and "error" in await resp.json()


async def test_the_api_takes_no_pid_from_the_request(client, supervisor) -> None:
    """Only a child's name selects what is signalled; a number is just an unknown name."""
    pid = supervisor.children["n1"].pid
    resp = await client.post(f"/api/nodes/{pid}/kill")
    assert resp.status == 404
    assert supervisor.children["n1"].state() == "running"


async def test_add_node_starts_the_next_name_on_the_next_port(client, supervisor) -> None:
    resp = await client.post("/api/nodes")
    assert resp.status == 201
    entry = await resp.json()
    port = max(child.port for child in supervisor.children.values() if child.name != "n3")
    assert (entry["name"], entry["url"]) == ("n3", f"http://127.0.0.1:{port + 1}")
    assert supervisor.children["n3"].pid == entry["pid"]


async def test_the_kv_panel_says_when_its_node_does_not_answer(client) -> None:
    resp = await client.get("/api/nodes/n1/kv/greeting")
    assert resp.status == 502
    assert (await resp.json())["error"]["code"] == "node_unavailable"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"not json", "invalid_json"),
        (b"\xff\xfe", "invalid_json"),  # not UTF-8
        (b"[" * 100_000, "invalid_json"),  # nested deeper than the parser's stack
        (b'{"value": 7}', "invalid_body"),
        (b'{"value": "\\ud800"}', "invalid_body"),  # a lone surrogate: no UTF-8 for it
    ],
)
async def test_the_kv_panel_refuses_a_body_it_cannot_store(client, body: bytes, code: str) -> None:
    resp = await client.put("/api/nodes/n1/kv/greeting", data=body)
    assert resp.status == 400
    assert (await resp.json())["error"]["code"] == code


async def test_the_event_stream_starts_with_the_whole_state(client) -> None:
    await client.post("/api/nodes/n1/pause")
    resp = await client.get("/api/events")
    assert resp.headers["Content-Type"] == "text/event-stream"
    assert await resp.content.readline() == b"retry: 1000\n"
    await resp.content.readline()
    line = await resp.content.readline()
    assert line.startswith(b"data: ")
    state = json.loads(line[len(b"data: ") :])
    assert [n["process"] for n in state["nodes"]] == ["paused", "running"]
    assert "n1 paused from the dashboard" in " ".join(e["text"] for e in state["events"])
    assert state["timeline"] is None  # stage v2 draws no leadership
    resp.close()


async def test_a_page_that_left_before_its_events_began_is_no_error(
    client, caplog: pytest.LogCaptureFixture
) -> None:
    """The request is read only once the page has gone (a paused demo, woken up)."""
    sock = socket.create_connection((client.host, client.port))
    sock.sendall(b"GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    sock.close()  # before the dashboard's loop has run: it reads the request, then the close
    resp = await client.get("/api/events")  # and the next page gets its events
    assert await resp.content.readline() == b"retry: 1000\n"
    resp.close()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


async def test_the_page_and_its_files_are_served(client) -> None:
    page = await client.get("/")
    text = await page.text()
    assert page.status == 200 and '<table id="nodes">' in text
    files = re.findall(r'(?:src|href)="(/static/[^"]+)"', text)
    assert sorted(files) == ["/static/dashboard.css", "/static/dashboard.js", "/static/raftlog.js"]
    for path in files:
        assert (await client.get(path)).status == 200


async def test_another_web_site_cannot_act_on_the_demo(client, supervisor) -> None:
    """A page from elsewhere may make the browser POST here; its Origin gives it away."""
    resp = await client.post("/api/nodes/n1/kill", headers={"Origin": "http://evil.example"})
    assert resp.status == 403
    assert (await resp.json())["error"]["message"] == (
        "a page from http://evil.example may not act on this demo"
    )
    assert supervisor.children["n1"].state() == "running"
    own = f"http://{client.server.host}:{client.server.port}"
    assert (await client.post("/api/nodes/n1/pause", headers={"Origin": own})).status == 200


async def test_a_name_that_is_not_loopback_is_refused(client) -> None:
    """DNS rebinding: evil.example made to resolve to 127.0.0.1 still says its name."""
    resp = await client.get("/api/cluster", headers={"Host": "evil.example:8090"})
    assert resp.status == 403
    assert (await resp.json())["error"]["code"] == "forbidden"
