"""The cluster token: writes without it are refused with a 401 and change nothing.

In-process tests for the registry and a v2 node, a pure test of :class:`Secret`,
and real processes for the parts only a process shows: the start-up WARNING, the
token kept out of the log and ``--help``, and the environment variable.
"""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient

from stages.v2_registry.auth import Secret
from stages.v2_registry.node import NodeConfig, create_node_app
from stages.v2_registry.server import RegistryConfig, create_registry_app
from workbench.harness import Processes, run_ddb

pytestmark = pytest.mark.timeout(30)

TOKEN = "s3cret"
GOOD = {"Authorization": f"Bearer {TOKEN}"}
WRONG = [
    {},
    {"Authorization": "Bearer wrong"},
    {"Authorization": TOKEN},  # no scheme
    {"Authorization": f"Bearer {TOKEN}x"},
    {"Authorization": f"bearer {TOKEN}"},
]


def test_a_secret_never_shows_itself_and_matches_only_the_exact_header() -> None:
    secret = Secret(TOKEN)
    assert TOKEN not in repr(secret) and TOKEN not in str(secret) and TOKEN not in f"{secret}"
    assert TOKEN not in repr(RegistryConfig(token=secret))
    assert TOKEN not in repr(NodeConfig("n1", "http://r", 1, cluster_token=secret))
    assert secret.allows(f"Bearer {TOKEN}")
    for headers in WRONG:
        assert not secret.allows(headers.get("Authorization"))
    assert not secret.allows(f"Bearer {TOKEN} ")  # (HTTP strips trailing spaces on the way)
    assert not secret.allows("Bearer s3cr\udcffet")  # not even bytes that are not UTF-8
    for bad in ["", "a b", "x" * 257, "tab\there", "é"]:
        with pytest.raises(ValueError):
            Secret(bad)


async def assert_unauthorized(resp) -> None:
    assert resp.status == 401
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    body = await resp.json()
    assert body["error"]["code"] == "unauthorized"
    assert "Authorization: Bearer TOKEN" in body["error"]["message"]


@pytest.fixture
async def registry(aiohttp_client) -> TestClient:
    return await aiohttp_client(create_registry_app(RegistryConfig(token=Secret(TOKEN))))


async def test_registry_writes_without_the_token_get_401_and_change_nothing(
    registry: TestClient,
) -> None:
    assert (await registry.post("/nodes", json={"name": "n1", "port": 1}, headers=GOOD)).ok
    for headers in WRONG:
        await assert_unauthorized(
            await registry.post("/nodes", json={"name": "evil", "port": 1}, headers=headers)
        )
        await assert_unauthorized(
            await registry.post("/nodes", json={"name": "n1", "port": 2}, headers=headers)
        )
        await assert_unauthorized(await registry.delete("/nodes/n1", headers=headers))
    nodes = (await (await registry.get("/nodes")).json())["nodes"]
    assert [(n["name"], n["port"]) for n in nodes] == [("n1", 1)]  # reads stay open


async def test_registry_writes_with_the_token_work_as_before(registry: TestClient) -> None:
    created = await registry.post("/nodes", json={"name": "n1", "port": 1}, headers=GOOD)
    assert created.status == 201
    assert (await registry.delete("/nodes/n1", headers=GOOD)).status == 204
    health = await (await registry.get("/health")).json()
    assert TOKEN not in str(health)


async def test_a_registry_without_a_token_is_open(aiohttp_client) -> None:
    open_registry = await aiohttp_client(create_registry_app())
    assert (await open_registry.post("/nodes", json={"name": "n1", "port": 1})).status == 201


async def test_kv_token_guards_every_kv_request_and_nothing_else(aiohttp_client) -> None:
    config = NodeConfig("n1", "http://127.0.0.1:1", 9001, kv_token=Secret("kv-pass"))
    node = await aiohttp_client(create_node_app(config))
    kv_headers = {"Authorization": "Bearer kv-pass"}
    await assert_unauthorized(await node.put("/kv/a", data=b"x"))
    await assert_unauthorized(await node.get("/kv/a"))
    await assert_unauthorized(await node.get("/kv"))
    await assert_unauthorized(await node.put("/kv/a", data=b"x", headers=GOOD))  # another token
    assert (await node.put("/kv/a", data=b"x", headers=kv_headers)).status == 201
    assert await (await node.get("/kv/a", headers=kv_headers)).read() == b"x"
    assert (await node.get("/health")).status == 200
    assert (await node.get("/cluster/peers")).status == 200


async def test_the_registry_warns_once_at_start_up_without_a_token(processes: Processes) -> None:
    open_one = processes.start("v2", "registry", "--port", "0")
    await open_one.started()
    await open_one.wait_for_log(r"WARNING .*without a cluster token: anyone who can reach it")
    guarded = processes.start("v2", "registry", "--port", "0", "--cluster-token", TOKEN)
    await guarded.started()
    assert open_one.stop() == 0 and guarded.stop() == 0
    assert open_one.log.count("without a cluster token") == 1
    assert "without a cluster token" not in guarded.log
    assert TOKEN not in guarded.log


async def test_a_node_takes_the_token_from_the_environment_and_never_logs_it(
    processes: Processes, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = processes.start("v2", "registry", "--port", "0", "--cluster-token", TOKEN)
    url = await registry.started()
    monkeypatch.setenv("DDB_CLUSTER_TOKEN", TOKEN)  # inherited by the node's process
    node = processes.start(
        "v2", "node", "-ra", url, "--name", "n1", "--port", "0", "--log-level", "DEBUG"
    )
    await node.wait_for_log(r"n1 registered with the registry")
    monkeypatch.delenv("DDB_CLUSTER_TOKEN")
    intruder = processes.start("v2", "node", "-ra", url, "--name", "n2", "--port", "0")
    await intruder.wait_for_log(r"HTTP 401, unauthorized")
    assert node.stop() == 0
    await registry.wait_for_log(r"Deregistered node n1")
    for proc in (registry, node, intruder):
        assert TOKEN not in proc.log, f"the token leaked into the log of ddb {proc.args}"


async def test_ddb_kv_sends_the_kv_token_from_its_flag_or_the_environment(
    processes: Processes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DDB_KV_TOKEN", raising=False)  # as the docs suggest, it may be set
    registry = processes.start("v2", "registry", "--port", "0")
    node = processes.start("v2", "node", "-ra", await registry.started(), "--name", "n1",
                           "--port", "0", "--kv-token", "kv-pass")  # fmt: skip
    url = await node.started()

    refused = run_ddb("kv", "put", "colour", "blue", "--url", url)
    assert refused.returncode == 1
    assert refused.stderr.decode() == (
        f"ddb: error: {url} wants a token for /kv (HTTP 401: it was started with --kv-token); "
        "give it with --kv-token or DDB_KV_TOKEN\n"
    )
    wrong = run_ddb("kv", "get", "colour", "--url", url, "--kv-token", "guess")
    assert wrong.returncode == 1
    assert wrong.stderr.decode() == (
        f"ddb: error: {url} refused the token (HTTP 401): it is not the node's --kv-token\n"
    )

    stored = run_ddb("kv", "put", "colour", "blue", "--url", url, "--kv-token", "kv-pass")
    assert (stored.returncode, stored.stdout) == (0, b"created colour\n"), stored.stderr
    monkeypatch.setenv("DDB_KV_TOKEN", "kv-pass")  # inherited by `ddb kv`
    read = run_ddb("kv", "get", "colour", "--url", url)
    assert (read.returncode, read.stdout) == (0, b"blue"), read.stderr
    monkeypatch.setenv("DDB_KV_TOKEN", "two words")
    bad = run_ddb("kv", "get", "colour", "--url", url)
    assert bad.returncode == 1 and b"two words" not in bad.stderr
    assert b"DDB_KV_TOKEN is not 1 to 256 visible ASCII characters (no spaces)" in bad.stderr
    too_long = run_ddb("kv", "get", "colour", "--url", url, "--kv-token", "x" * 257)
    assert too_long.returncode == 1, too_long.stderr  # the same rule as the node's own token
    assert b"--kv-token is not 1 to 256 visible ASCII characters" in too_long.stderr
    assert node.stop() == 0 and registry.stop() == 0


def test_help_never_shows_the_token(monkeypatch: pytest.MonkeyPatch) -> None:
    env_token = "from-the-env-9f2c"
    monkeypatch.setenv("DDB_CLUSTER_TOKEN", env_token)
    for command in (["v2", "registry"], ["v2", "node"], ["v2.1", "node"], ["v2.1", "demo"]):
        result = run_ddb(*command, "--help")
        assert result.returncode == 0
        assert b"--cluster-token" in result.stdout
        assert env_token.encode() not in result.stdout


def test_a_malformed_token_is_refused_without_repeating_it() -> None:
    result = run_ddb("v2", "registry", "--port", "0", "--cluster-token", "two words")
    assert result.returncode == 1
    assert b"two words" not in result.stderr and b"visible ASCII" in result.stderr
