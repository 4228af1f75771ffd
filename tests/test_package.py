"""What engineers expect of a Python package: a version, a licence, its type hints."""

from __future__ import annotations

import importlib.metadata
import tomllib
from pathlib import Path

from workbench.harness import run_ddb

ROOT = Path(__file__).resolve().parent.parent


def test_ddb_version_prints_the_version_of_pyproject() -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    result = run_ddb("--version")
    assert result.returncode == 0
    assert result.stdout.decode().strip() == f"ddb {version}"


def test_the_package_carries_its_licence_and_its_type_hints() -> None:
    assert "MIT License" in (ROOT / "LICENSE").read_text()
    assert importlib.metadata.metadata("distributed-db")["License-Expression"] == "MIT"
    assert (ROOT / "stages" / "py.typed").exists()
