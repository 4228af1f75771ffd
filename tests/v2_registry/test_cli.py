"""The v2 command line refuses bad flags clearly, and runs as ``python -m`` too."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from tests.support import run_ddb


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["v2", "node", "-ra", "127.0.0.1:8080"], b"is not an http:// address"),
        (["v2", "node", "-ra", "http://127.0.0.1:8080", "--name", "bad name"], b"a node name is"),
        (
            ["v2", "node", "-ra", "http://127.0.0.1:8080", "--heartbeat-interval", "0"],
            b"greater than 0",
        ),
        (["v2", "node", "--port", "0"], b"required: -ra/--registry-address"),
        (["v2", "registry", "--ttl", "-1"], b"greater than 0"),
        (["nodes", "--registry", "ftp://x"], b"is not an http:// address"),
    ],
)
def test_bad_flags_are_one_clear_error_and_exit_2(args: list[str], complaint: bytes) -> None:
    result = run_ddb(*args)
    assert result.returncode == 2
    assert complaint in result.stderr
    assert b"Traceback" not in result.stderr


def test_nodes_with_no_registry_is_a_one_line_error(unused_tcp_port: int) -> None:
    result = run_ddb("nodes", "--registry", f"http://127.0.0.1:{unused_tcp_port}", "--timeout", "2")
    assert result.returncode == 1
    assert result.stderr.decode().startswith("ddb: error: cannot reach")


def test_python_dash_m_runs_the_registry_cli() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "stages.v2_registry", "--help"], capture_output=True, timeout=20
    )
    assert result.returncode == 0
    assert b"--ttl" in result.stdout


def test_the_demo_stops_with_an_error_when_its_registry_cannot_start(
    unused_tcp_port_factory,
) -> None:
    busy, first = unused_tcp_port_factory(), unused_tcp_port_factory()
    with socket.create_server(("127.0.0.1", busy)):  # someone else holds the registry's port
        result = run_ddb(
            "v2",
            "demo",
            "--registry-port",
            str(busy),
            "--first-node-port",
            str(first),
            timeout=30,
        )
    assert result.returncode == 1
    assert b"The registry did not start on port" in result.stderr
    assert b"Address already in use" in result.stderr
    assert b"Traceback" not in result.stderr
