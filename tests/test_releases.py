"""The releases are tracked data (releases.toml): the docs name only real releases, and
``make tags`` recreates their tags on any clone, without a git identity, idempotently."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tools.releases import Release, ReleaseError, _version_shim, check_metadata, load

ROOT = Path(__file__).resolve().parent.parent
RELEASES = load()


def git_show(commit: str, path: str) -> str:
    return subprocess.run(
        ["git", "show", f"{commit}:{path}"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout


def version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def test_every_tag_the_docs_name_is_in_the_release_list() -> None:
    """Or is the version this commit is: a release's own commit names its tag, and its line in
    releases.toml comes in the next commit (a commit cannot hold its own hash)."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    listed = {release.tag for release in RELEASES} | {f"v{pyproject['project']['version']}"}
    pages = [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").glob("*.md"))]
    named = set()
    for page in pages:
        for tag in re.findall(r"(?<![\w.])v\d+\.\d+\.\d+\b", page.read_text(encoding="utf-8")):
            named.add(tag)
            assert tag in listed, f"{page.name} names {tag}, which releases.toml does not list"
    assert {"v1.0.0", "v2.0.0", "v2.1.0"} <= named


def test_releases_are_listed_oldest_first_and_the_project_version_is_not_older() -> None:
    versions = [version_tuple(release.version) for release in RELEASES]
    assert versions == sorted(versions) and len(set(versions)) == len(versions)
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert version_tuple(pyproject["project"]["version"]) >= versions[-1]
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    for release in RELEASES:
        assert f"\n## {release.tag}\n" in changelog, f"CHANGELOG.md has no section {release.tag}"


def test_each_release_commit_has_its_version_and_exactly_its_stages() -> None:
    for index in range(len(RELEASES)):
        check_metadata(RELEASES, index)  # raises ReleaseError with the reason


def test_an_old_release_suite_reads_its_own_version_and_licence_from_the_shim(
    tmp_path: Path,
) -> None:
    """Its suite runs in this project's venv (installed from main), so the shim first on
    PYTHONPATH must say what that release's own package said (its test_package reads both)."""
    for release in RELEASES:
        shim = _version_shim(tmp_path / release.tag, release)
        code = "import importlib.metadata as m; d = m.metadata('distributed-db'); "
        code += "print(d['Version'], d['License-Expression'])"
        env = {**os.environ, "PYTHONPATH": str(shim)}
        out = subprocess.run(
            [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
        )
        licence = tomllib.loads(git_show(release.commit, "pyproject.toml"))["project"].get(
            "license"
        )
        expression = licence if isinstance(licence, str) else "None"  # v1-v2.1: a table, no SPDX
        assert out.stdout.split() == [release.version, expression], out.stderr


def test_a_release_with_the_wrong_version_or_stages_is_refused() -> None:
    v1, v2 = RELEASES[0], RELEASES[1]
    wrong_version = Release(v1.tag, "9.9.9", v1.commit, v1.stage, v1.title)
    with pytest.raises(ReleaseError, match=r"has version '1\.0\.0'"):
        check_metadata([wrong_version], 0)
    later_stage_inside = Release(v1.tag, "2.0.0", v2.commit, v1.stage, v1.title)
    with pytest.raises(ReleaseError, match="no later one"):
        check_metadata([later_stage_inside], 0)


def no_identity_env(home: Path) -> dict[str, str]:
    """An environment in which git knows no user name or e-mail, as on a CI runner."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(HOME=str(home), GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull)
    env.update(EMAIL="", XDG_CONFIG_HOME=str(home))
    return env


@pytest.mark.timeout(60)
def test_make_tags_on_a_fresh_clone_is_idempotent_and_needs_no_git_identity(
    tmp_path: Path,
) -> None:
    clone = tmp_path / "clone"
    env = no_identity_env(tmp_path)
    # --no-tags: as a clone of the published repository, which carries only `main`
    clone_it = ["git", "clone", "--quiet", "--no-tags", str(ROOT), str(clone)]
    subprocess.run(clone_it, check=True, env=env)
    for path in ("tools/releases.py", "tools/__init__.py", "releases.toml"):  # this checkout's
        (clone / path).parent.mkdir(exist_ok=True)
        shutil.copy(ROOT / path, clone / path)

    def tags() -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "tools/releases.py", "tags"]
        return subprocess.run(command, cwd=clone, env=env, capture_output=True, text=True)

    def git(*args: str) -> str:
        result = subprocess.run(
            ["git", *args], cwd=clone, env=env, capture_output=True, text=True, check=True
        )
        return result.stdout

    assert git("tag") == ""
    first = tags()
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == [f"releases: created tag {r.tag}" for r in RELEASES]
    assert git("tag").split() == [r.tag for r in RELEASES]
    assert "tagger distributed-db releases" in git("cat-file", "-p", "v1.0.0")

    again = tags()
    assert (again.returncode, again.stdout, again.stderr) == (0, "", "")

    stages = git("ls-tree", "-d", "--name-only", "v1.0.0", "stages/").split()
    assert [s for s in stages if Path(s).name.startswith("v")] == ["stages/v1_kv"]

    git("tag", "--force", "v1.0.0", RELEASES[1].commit)
    moved = tags()
    assert moved.returncode == 1
    assert moved.stderr.strip() == (
        f"releases: error: tag v1.0.0 points at {RELEASES[1].commit}, but releases.toml says "
        f"{RELEASES[0].commit}; delete the tag (git tag -d v1.0.0) and run make tags"
    )
