"""compose.yaml and the Dockerfile, checked without a Docker engine.

No Docker engine runs where these tests run, so instead of starting the
containers we check that every service's command is one the ``ddb`` CLI accepts
and that the nodes point at the registry service of their cluster.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from stages.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]


def services(profile: str | None) -> dict[str, dict]:
    """The services ``docker compose [--profile PROFILE] up`` starts for that cluster."""
    found = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]
    return {name: s for name, s in found.items() if s.get("profiles", [None]) == [profile]}


def test_every_service_command_is_accepted_by_the_cli() -> None:
    parser = build_parser()
    for name, service in {**services(None), **services("v2")}.items():
        args = parser.parse_args(service["command"])  # exits (fails the test) on a bad flag
        assert callable(args.func), name


@pytest.mark.parametrize(
    ("profile", "registry_name", "stage"), [(None, "registry", "v2.1"), ("v2", "v2-registry", "v2")]
)
def test_a_registry_and_three_nodes_of_the_stage_pointing_at_it(
    profile: str | None, registry_name: str, stage: str
) -> None:
    parser = build_parser()
    found = services(profile)
    registry = parser.parse_args(found.pop(registry_name)["command"])
    assert registry.host == "0.0.0.0"
    assert len(found) == 3
    published = set()
    for name, service in found.items():
        assert service["command"][0] == stage
        node = parser.parse_args(service["command"])
        assert node.registry_address == f"http://{registry_name}:{registry.port}"
        assert node.advertise_host == name == node.name  # the others resolve the service name
        assert node.host == "0.0.0.0"
        assert service["depends_on"] == [registry_name]
        published.add(service["ports"][0].split(":")[0])
    assert len(published) == 3


def test_the_default_cluster_is_the_latest_stage_and_v2_is_a_profile() -> None:
    assert {s["command"][0] for s in services(None).values()} == {"v2", "v2.1"}
    assert {s["command"][0] for s in services("v2").values()} == {"v2"}


def test_the_image_runs_the_ddb_command() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert 'ENTRYPOINT ["ddb"]' in dockerfile
    assert "pip install" in dockerfile
