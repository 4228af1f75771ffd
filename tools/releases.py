"""The releases, as tracked data: recreate their git tags, and check each one.

The published repository carries only the branch ``main``; git tags made next to it do
not travel with a clone. So the list of releases lives in ``releases.toml``, and::

    python tools/releases.py tags     # create the missing annotated tags (make tags)
    python tools/releases.py check    # verify every release (make check-releases)

``tags`` is idempotent, and refuses to move a tag that points at another commit.
``check`` verifies, for each release, that its commit is an ancestor of HEAD, that
``pyproject.toml`` there has the release's version, that the tree holds the stages of this
release and the earlier ones and no later one, and that the commit's own test suite passes
in a ``git worktree`` of that commit.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RELEASES = ROOT / "releases.toml"
# The tagger, given to git directly: a CI runner often has no git identity configured.
TAGGER = {
    "GIT_COMMITTER_NAME": "distributed-db releases",
    "GIT_COMMITTER_EMAIL": "releases@invalid",
}
TAG_PATTERN = re.compile(r"v(\d+)\.(\d+)\.(\d+)")
HASH_PATTERN = re.compile(r"[0-9a-f]{40}")


class ReleaseError(Exception):
    """Something about a release is wrong; the message says what and what to do."""


@dataclass(frozen=True)
class Release:
    tag: str
    version: str
    commit: str
    stage: str
    title: str


def load(path: Path = RELEASES) -> list[Release]:
    """The releases in ``path``, oldest first, each checked for shape."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ReleaseError(f"cannot read {path.name}: {exc}") from None
    releases = []
    for i, entry in enumerate(data.get("release", []), start=1):
        try:
            fields = {name: str(entry[name]) for name in Release.__dataclass_fields__}
        except KeyError as exc:
            raise ReleaseError(f"{path.name}: release #{i} has no {exc.args[0]!r}") from None
        release = Release(**fields)
        if not TAG_PATTERN.fullmatch(release.tag) or release.version != release.tag[1:]:
            raise ReleaseError(f"{path.name}: {release.tag!r} must be 'v' + its version")
        if not HASH_PATTERN.fullmatch(release.commit):
            raise ReleaseError(f"{path.name}: {release.tag}'s commit must be a full 40-hex hash")
        if not release.stage.startswith("stages/"):
            raise ReleaseError(f"{path.name}: {release.tag}'s stage must be a folder of stages/")
        releases.append(release)
    tags = [r.tag for r in releases]
    if len(set(tags)) != len(tags):
        raise ReleaseError(f"{path.name}: a tag is listed twice")
    return releases


def git(*args: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        ["git", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **(env or {})},
    )
    if result.returncode != 0:
        raise ReleaseError(f"git {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout.strip()


def commit_of(ref: str) -> str | None:
    """The commit ``ref`` names, or None if this clone has no such ref or commit."""
    try:
        return git("rev-parse", "--quiet", "--verify", f"{ref}^{{commit}}")
    except ReleaseError:
        return None


def require_commit(release: Release) -> None:
    if commit_of(release.commit) is None:
        raise ReleaseError(
            f"{release.tag}: commit {release.commit} is not in this clone "
            "(a shallow clone? run: git fetch --unshallow)"
        )


# -- make tags ------------------------------------------------------------------------


def make_tags(releases: list[Release]) -> list[str]:
    """Create every missing tag; return the tags created. A tag elsewhere is an error."""
    created = []
    for release in releases:
        require_commit(release)
        existing = commit_of(f"refs/tags/{release.tag}")
        if existing == release.commit:
            continue
        if existing is not None:
            raise ReleaseError(
                f"tag {release.tag} points at {existing}, but releases.toml says "
                f"{release.commit}; delete the tag (git tag -d {release.tag}) and run make tags"
            )
        # The tagger and date are fixed, so every clone makes the same tag object.
        date = git("show", "-s", "--format=%cI", release.commit)
        message = f"distributed-db {release.tag}: {release.title}"
        env = {**TAGGER, "GIT_COMMITTER_DATE": date}
        git("tag", "--annotate", "--message", message, release.tag, release.commit, env=env)
        created.append(release.tag)
    return created


# -- make check-releases --------------------------------------------------------------


def stages_at(commit: str) -> set[str]:
    """The stage folders (``stages/v*``) in the tree of ``commit``."""
    names = git("ls-tree", "-d", "--name-only", commit, "stages/").splitlines()
    return {name for name in names if Path(name).name.startswith("v")}


def pyproject_at(commit: str) -> dict[str, object]:
    return tomllib.loads(git("show", f"{commit}:pyproject.toml"))


def check_metadata(releases: list[Release], index: int) -> None:
    """Ancestry, version and stage folders of ``releases[index]``, without running anything."""
    release = releases[index]
    require_commit(release)
    try:
        git("merge-base", "--is-ancestor", release.commit, "HEAD")
    except ReleaseError:
        raise ReleaseError(f"{release.tag}: {release.commit} is not an ancestor of HEAD") from None
    project = pyproject_at(release.commit).get("project", {})
    version = project.get("version") if isinstance(project, dict) else None
    if version != release.version:
        raise ReleaseError(
            f"{release.tag}: pyproject.toml at {release.commit[:7]} has version {version!r}"
        )
    expected = {r.stage for r in releases[: index + 1]}
    found = stages_at(release.commit)
    if found != expected:
        raise ReleaseError(
            f"{release.tag}: the tree at {release.commit[:7]} holds {sorted(found)}, "
            f"expected {sorted(expected)} (this stage and the earlier ones, no later one)"
        )
    tagged = commit_of(f"refs/tags/{release.tag}")
    if tagged not in (None, release.commit):
        raise ReleaseError(f"{release.tag}: the tag points at {tagged}, not {release.commit}")


def _requirement_names(pyproject: dict[str, object]) -> set[str]:
    project = pyproject.get("project", {})
    assert isinstance(project, dict)
    specs = list(project.get("dependencies", []))
    specs += list(project.get("optional-dependencies", {}).get("dev", []))
    names = set()
    for spec in specs:
        match = re.match(r"[A-Za-z0-9._-]+", spec)
        if match:
            names.add(re.sub(r"[-_.]+", "-", match.group(0)).lower())
    return names


def _missing_here(names: set[str]) -> set[str]:
    names_of = (dist.metadata["Name"] or "" for dist in importlib.metadata.distributions())
    return names - {re.sub(r"[-_.]+", "-", name).lower() for name in names_of}


def _version_shim(directory: Path, release: Release) -> Path:
    """The release's own package metadata (from its pyproject.toml), for its tests to read."""
    project = pyproject_at(release.commit).get("project", {})
    assert isinstance(project, dict)
    lines = ["Metadata-Version: 2.4", "Name: distributed-db", f"Version: {release.version}"]
    if isinstance(project.get("license"), str):  # an SPDX expression, as PEP 639 writes it
        lines.append(f"License-Expression: {project['license']}")
    (info := directory / f"distributed_db-{release.version}.dist-info").mkdir(parents=True)
    (info / "METADATA").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return directory


def run_tests(release: Release) -> str:
    """Run the test suite of ``release.commit`` in a worktree; return pytest's summary line.

    The project's venv is reused when it has every package that commit asks for: the worktree
    and its metadata shim come first on PYTHONPATH, so ``ddb`` imports that commit's code and
    reports its version. Otherwise the commit gets a venv of its own inside the worktree.
    """
    workdir = Path(tempfile.mkdtemp(prefix=f"ddb-{release.tag}-"))
    tree = workdir / "tree"
    git("worktree", "add", "--detach", str(tree), release.commit)
    try:
        python = sys.executable
        path = os.pathsep.join((str(_version_shim(workdir / "meta", release)), str(tree)))
        env = {**os.environ, "PYTHONPATH": path, "PYTHONDONTWRITEBYTECODE": "1"}
        missing = _missing_here(_requirement_names(pyproject_at(release.commit)))
        if missing:
            print(f"  {release.tag} needs {', '.join(sorted(missing))}: making it a venv")
            subprocess.run([sys.executable, "-m", "venv", str(tree / ".venv")], check=True)
            python = str(tree / ".venv" / "bin" / "python")
            pip = [python, "-m", "pip", "install", "--quiet", "-e", f"{tree}[dev]"]
            subprocess.run(pip, check=True)
            env.pop("PYTHONPATH")
        pytest = [python, "-m", "pytest", "-q", "-o", f"cache_dir={workdir / 'cache'}"]
        result = subprocess.run(pytest, cwd=tree, env=env, capture_output=True, text=True)
        summary = _summary(result.stdout)
        if result.returncode != 0:
            # An old commit's real-process tests can lose a race on a loaded machine, and its
            # tests cannot be fixed any more: rerun what failed, once, and say so.
            print(result.stdout[-20000:], result.stderr[-5000:], sep="\n")
            print(f"  {release.tag}: {summary}; running the failed tests again, once")
            again = subprocess.run(
                [*pytest, "--last-failed"], cwd=tree, env=env, capture_output=True, text=True
            )
            if again.returncode != 0:
                print(again.stdout[-20000:], again.stderr[-5000:], sep="\n")
                raise ReleaseError(f"{release.tag}: its own test suite failed: {summary}")
            summary += f", then passed on a rerun: {_summary(again.stdout)}"
        return summary
    finally:
        git("worktree", "remove", "--force", str(tree))
        shutil.rmtree(workdir, ignore_errors=True)


def _summary(output: str) -> str:
    return (output.strip().splitlines() or ["(no output)"])[-1].strip("= ")


def check(releases: list[Release], *, tests: bool, only: set[str]) -> None:
    for index, release in enumerate(releases):
        if only and release.tag not in only:
            continue
        check_metadata(releases, index)
        line = (
            f"{release.tag} {release.commit[:7]}: ancestor of HEAD, version {release.version}, "
            f"stages {', '.join(sorted({Path(r.stage).name for r in releases[: index + 1]}))}"
        )
        if tests:
            started = time.monotonic()
            summary = run_tests(release)
            line += f"; its tests: {summary} ({time.monotonic() - started:.0f}s)"
        print(line, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tools/releases.py", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("tags", help="create the missing annotated tags (idempotent)")
    checker = sub.add_parser("check", help="verify every release")
    checker.add_argument("tags", nargs="*", help="only these releases (default: all)")
    checker.add_argument("--no-tests", action="store_true", help="skip the test suites")
    args = parser.parse_args(argv)
    try:
        releases = load()
        if args.command == "tags":
            if commit_of("HEAD") is None:
                print("releases: not a git checkout, so no tags to make")
                return 0
            for tag in make_tags(releases):
                print(f"releases: created tag {tag}")
        else:
            unknown = set(args.tags) - {r.tag for r in releases}
            if unknown:
                raise ReleaseError(f"not in releases.toml: {', '.join(sorted(unknown))}")
            check(releases, tests=not args.no_tests, only=set(args.tags))
    except ReleaseError as exc:
        print(f"releases: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
