"""compose.yaml and the Dockerfile, checked without a Docker engine.

No Docker engine runs where these tests run, so instead of starting the
containers we check that every service's command is one the ``ddb`` CLI accepts
and that the nodes point at the registry service.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from stages.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]


def services() -> dict[str, dict]:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]


def test_every_service_command_is_accepted_by_the_cli() -> None:
    parser = build_parser()
    for name, service in services().items():
        args = parser.parse_args(service["command"])  # exits (fails the test) on a bad flag
        assert callable(args.func), name


def test_there_is_a_registry_and_three_nodes_pointing_at_it() -> None:
    parser = build_parser()
    found = services()
    registry = parser.parse_args(found.pop("registry")["command"])
    assert registry.host == "0.0.0.0"
    assert len(found) == 3
    for name, service in found.items():
        node = parser.parse_args(service["command"])
        assert node.registry_address == f"http://registry:{registry.port}"
        assert node.advertise_host == name == node.name
        assert node.host == "0.0.0.0"
        assert service["depends_on"] == ["registry"]


def test_the_image_runs_the_ddb_command() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert 'ENTRYPOINT ["ddb"]' in dockerfile
    assert "pip install" in dockerfile
