"""The v1 server started exactly as a user would, driven by the ``ddb kv`` CLI."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from workbench.harness import Processes, run_ddb

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
async def server_url(processes: Processes) -> str:
    return await processes.start(
        "v1", "server", "--port", "0", "--max-value-bytes", "1000"
    ).started()


async def test_kv_cli_put_get_list_delete(server_url: str, tmp_path) -> None:
    assert (
        run_ddb("kv", "put", "greeting", "hello", "--url", server_url).stdout
        == b"created greeting\n"
    )
    assert (
        run_ddb("kv", "put", "greeting", "hi", "--url", server_url).stdout == b"replaced greeting\n"
    )
    assert run_ddb("kv", "get", "greeting", "--url", server_url).stdout == b"hi"

    binary = bytes(range(256))
    (tmp_path / "blob").write_bytes(binary)
    assert (
        run_ddb(
            "kv", "put", "files/blob", "--file", str(tmp_path / "blob"), "--url", server_url
        ).returncode
        == 0
    )
    assert (
        run_ddb("kv", "put", "ключ", "-", "--url", server_url, input=b"from stdin").returncode == 0
    )
    assert run_ddb("kv", "get", "files/blob", "--url", server_url).stdout == binary
    assert run_ddb("kv", "get", "ключ", "--url", server_url).stdout == b"from stdin"

    listing = run_ddb("kv", "list", "--url", server_url).stdout.decode().splitlines()
    assert listing == ["files/blob", "greeting", "ключ"]
    assert (
        run_ddb("kv", "list", "--prefix", "files/", "--url", server_url).stdout == b"files/blob\n"
    )

    assert run_ddb("kv", "delete", "greeting", "--url", server_url).returncode == 0
    gone = run_ddb("kv", "get", "greeting", "--url", server_url)
    assert gone.returncode == 1


async def test_missing_key_is_one_line_error_and_exit_1(server_url: str) -> None:
    result = run_ddb("kv", "get", "nope", "--url", server_url)
    assert result.returncode == 1
    assert result.stdout == b""
    assert result.stderr.decode().strip().splitlines() == [
        "ddb: error: not found: no value is stored under the key 'nope'"
    ]


async def test_unreachable_server_is_one_line_error_and_exit_1(unused_tcp_port: int) -> None:
    result = run_ddb(
        "kv", "get", "k", "--url", f"http://127.0.0.1:{unused_tcp_port}", "--timeout", "2"
    )
    assert result.returncode == 1
    lines = result.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ddb: error: cannot reach")
    assert "Traceback" not in result.stderr.decode()


async def test_server_refuses_oversized_value_and_keeps_serving(server_url: str) -> None:
    request = urllib.request.Request(server_url + "/kv/big", data=b"x" * 5000, method="PUT")
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request, timeout=5)
    assert info.value.code == 413
    assert json.loads(info.value.read())["error"]["code"] == "value_too_large"
    with urllib.request.urlopen(server_url + "/health", timeout=5) as resp:
        assert json.load(resp)["status"] == "ok"


async def test_port_in_use_is_a_clear_error(processes: Processes, server_url: str) -> None:
    port = server_url.rsplit(":", 1)[1]
    result = run_ddb("v1", "server", "--port", port)
    assert result.returncode == 1
    assert b"cannot listen on 127.0.0.1:" + port.encode() in result.stderr
    assert b"Traceback" not in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("v1", "server", "--port", "70000"),
        ("kv", "put", "k"),
        ("kv", "put", "k", "v", "--file", "/x"),
        ("kv", "get", "k", "--url", "127.0.0.1:8080"),  # no http://
        ("kv", "get", "k", "--url", "http://[::1:9"),
        ("kv", "get", "k", "--timeout", "0"),
    ],
)
def test_bad_command_lines_exit_non_zero_without_traceback(args: tuple[str, ...]) -> None:
    result = run_ddb(*args)
    assert result.returncode != 0
    assert b"error" in result.stderr
    assert b"Traceback" not in result.stderr


async def test_ddb_url_is_the_default_address(server_url: str) -> None:
    put = run_ddb("kv", "put", "k", "from env", env={"DDB_URL": server_url})
    assert (put.returncode, put.stdout) == (0, b"created k\n")
    assert run_ddb("kv", "get", "k", "--url", server_url).stdout == b"from env"
    bad = run_ddb("kv", "get", "k", env={"DDB_URL": "127.0.0.1:8080"})
    assert bad.returncode == 2 and b"is not an http:// address" in bad.stderr


@pytest.mark.parametrize("action", ["put", "get", "delete", "list"])
def test_kv_help_shows_the_defaults_of_url_and_timeout(action: str) -> None:
    out = " ".join(run_ddb("kv", action, "--help").stdout.decode().split())  # unwrapped
    assert "$DDB_URL if set, else http://127.0.0.1:8080" in out
    assert "(default: 5.0)" in out


@pytest.mark.parametrize(
    "command",
    [
        ["stages.v1_kv"],
        ["stages.v2_registry"],
        ["stages.v2_1_election", "-ra", "http://127.0.0.1:9"],
    ],
)
async def test_python_dash_m_errors_name_that_program(server_url: str, command: list[str]) -> None:
    import subprocess
    import sys

    port = server_url.rsplit(":", 1)[1]  # taken by the v1 server
    result = subprocess.run(
        [sys.executable, "-m", *command, "--port", port], capture_output=True, timeout=20
    )
    assert result.returncode == 1
    lines = result.stderr.decode().splitlines()
    assert lines[-1].startswith(f"python -m {command[0]}: error: cannot listen on 127.0.0.1:{port}")


def test_python_dash_m_runs_the_same_server_cli() -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "stages.v1_kv", "--help"], capture_output=True, timeout=20
    )
    assert result.returncode == 0
    assert b"--max-value-bytes" in result.stdout
