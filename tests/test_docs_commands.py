"""Every deterministic command the docs show runs here, and prints what the page shows.

Each ``console`` block of a page (``$ command`` lines, then the output) is run as one bash
script on a terminal (a pseudo-terminal, so that commands behave as they do for a person), in a
fresh folder, with this checkout's ``ddb`` first on ``PATH``. The output must match the page
line for line.

What the commands talk to is started fresh for the page: ``ddb v1 server`` for the v1 page, the
registry for the v2 page, on a free port. ``http://127.0.0.1:8080`` is rewritten to it, in the
commands and in the expected output, ``$DDB_URL`` points at it, and ``/tmp/`` becomes the test's
own folder. Process ids (``"pid": 15385``) and the seconds ``ddb check`` took are the only
values compared as a pattern (and the seconds a workload ran).

A block is *live* when its output depends on a running cluster (ports and process ids of
nodes, ``ddb nodes``, ``kill``) or changes the checkout (``make``, ``git``): those are not run
here, and the test that covers each is named in ``LIVE``.
"""

from __future__ import annotations

import os
import pty
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from workbench.harness import Processes

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
DEFAULT_URL = "http://127.0.0.1:8080"
PROGRESS = re.compile(r"\r[^\r\n]*\x1b\[K")  # "\r12/100 trials" + erase-to-end-of-line

# What makes a block live, and which test covers such blocks instead.
LIVE = {
    r"^(make|git) ": "make and git change the checkout: tests/test_releases.py",
    r"^kill ": "a process id of a live cluster: tests/v2_1_election/test_walkthrough.py, "
    "tests/v3_replicated_log/test_processes.py (kill -9 of the leader)",
    r"(^|/)ddb (nodes|status)": "a live cluster's table: tests/v2_1_election/test_walkthrough.py",
    r"^ddb v3 (node|demo)\b": "a v3.0 node or demo runs until Ctrl-C (unless the page shows it "
    "refused): tests/v3_replicated_log/test_cli.py (the demo, a torn or corrupt log), "
    "tests/v3_replicated_log/test_processes.py (nodes, kill -9, restart)",
    r"/tmp/ddb-v3\b": "the logs of a running v3.0 demo: tests/v3_replicated_log/test_wal_cli.py, "
    "tests/v3_replicated_log/test_processes.py",
    r"^ddb v(1|2|2\.1) (server|registry|node)\b": "starts a server that runs until Ctrl-C "
    "(unless the page shows it refused): tests/*/test_processes.py",
    r"127\.0\.0\.1:8090\b": "the dashboard of a running demo: "
    "tests/v2_1_election/test_dashboard_processes.py",
    r"127\.0\.0\.1:(?!8080\b)\d+": "a node's address: tests/v2_registry/test_processes.py, "
    "tests/v3_replicated_log/test_node_http.py and test_processes.py",
    r"^ddb lab ": "needs root and a lab of real processes: tests/v2_1_election/test_lab.py, "
    "tests/v3_replicated_log/test_lab.py (v3 nodes and a workload)",
}
# The server each page's commands talk to (on 8080 in the docs).
SERVERS = {
    "v1-kv.md": ("v1", "server"),
    "v2-registry.md": ("v2", "registry"),
    "checking.md": ("v1", "server"),
}
# How many blocks of each page must run, so that a change to the rules cannot skip them all.
AT_LEAST = {
    "v1-kv.md": 3,
    "v2-registry.md": 3,
    "v2-1-election.md": 1,
    "majority-vote.md": 2,
    "simulation.md": 8,
    "checking.md": 5,
    "v3-replicated-log.md": 8,
    "v3-node.md": 6,
}


@dataclass(frozen=True)
class Block:
    page: str
    line: int
    commands: list[str]
    expected: list[str]

    def live_reason(self) -> str | None:
        refused = bool(self.expected) and self.expected[0].startswith("ddb: error:")
        for command in self.commands:
            if refused and re.match(r"ddb v\S+ (server|registry|node)\b", command):
                continue  # refused before it starts: it ends at once, and can run here
            for pattern, reason in LIVE.items():
                if re.search(pattern, command):
                    return reason
        return None


def console_blocks(page: Path) -> list[Block]:
    text = page.read_text(encoding="utf-8")
    blocks = []
    for match in re.finditer(r"```console\n(.*?)```", text, re.DOTALL):
        commands, expected = [], []
        for line in match.group(1).splitlines():
            if line.startswith("$ "):
                commands.append(line[2:])
            else:
                expected.append(line)
        line_number = text.count("\n", 0, match.start()) + 1
        blocks.append(Block(page.name, line_number, commands, expected))
    return blocks


PAGES = sorted(DOCS.glob("*.md"))


def run_on_a_terminal(script: str, cwd: Path, env: dict[str, str]) -> str:
    """What a person sees when typing ``script`` into a terminal (stdout and stderr)."""
    main, child = pty.openpty()
    proc = subprocess.Popen(
        ["bash", "-c", script], cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=child,
        stderr=child, close_fds=True,
    )  # fmt: skip
    os.close(child)
    chunks = []
    while True:
        try:
            data = os.read(main, 65536)
        except OSError:  # EIO: every process holding the terminal has exited
            break
        if not data:
            break
        chunks.append(data)
    os.close(main)
    proc.wait(timeout=10)
    text = b"".join(chunks).decode("utf-8", "replace")
    text = PROGRESS.sub("", text)  # a progress line, rewritten in place, leaves nothing behind
    return text.replace("\r\n", "\n")


def normalise(lines: list[str]) -> list[str]:
    """Process ids and the seconds a check took are compared as patterns, not as values."""
    lines = [re.sub(r'"pid": \d+', '"pid": PID', line) for line in lines]
    lines = [re.sub(r"(: checked .* in )\d+\.\d\d s$", r"\1T s", line) for line in lines]
    return [re.sub(r"^(recorded .* in )\d+\.\d s:", r"\1T s:", line) for line in lines]


def test_every_page_with_commands_has_its_blocks_run_or_explained() -> None:
    for page in PAGES:
        blocks = console_blocks(page)
        runnable = [b for b in blocks if b.live_reason() is None]
        assert len(runnable) >= AT_LEAST.get(page.name, 0), page.name


RUNNABLE = [p for p in PAGES if any(b.live_reason() is None for b in console_blocks(p))]
# Hundreds of simulated trials (simulation, majority-vote: 30 to 45 s each), or eight raft
# simulations and ten trials (v3-replicated-log: about 8 s); what each shows is also what the
# stage's own simulator tests check (tests/v2_1_election/test_sim_*.py, tests/v3_replicated_log/
# test_sim.py and test_unsafe.py), and `make test` runs these pages too.
SLOW_PAGES = {"simulation", "majority-vote", "v3-replicated-log"}


def test_the_slow_pages_are_pages_with_commands() -> None:
    assert not SLOW_PAGES - {p.stem for p in RUNNABLE}, "no such page with commands to run"


@pytest.mark.timeout(300)
@pytest.mark.parametrize(
    "page",
    [
        pytest.param(p, id=p.stem, marks=[pytest.mark.slow] if p.stem in SLOW_PAGES else [])
        for p in RUNNABLE
    ],
)
async def test_each_command_prints_what_the_page_shows(
    page: Path, processes: Processes, tmp_path: Path
) -> None:
    blocks = [b for b in console_blocks(page) if b.live_reason() is None]
    if shutil.which("curl") is None and any("curl " in c for b in blocks for c in b.commands):
        if os.environ.get("CI") == "true":
            pytest.fail("CI must run the docs' curl commands: install curl")
        pytest.skip("curl is not installed")
    url = DEFAULT_URL
    if page.name in SERVERS:
        url = await processes.start(*SERVERS[page.name], "--port", "0").started()
    for folder in ("stages", "workbench", "docs"):  # the pages run from the project folder
        (tmp_path / folder).symlink_to(ROOT / folder)
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "DDB_URL": url}

    def rewrite(text: str) -> str:
        return text.replace(DEFAULT_URL, url).replace("/tmp/", f"{tmp_path}/")

    mismatches = []
    for block in blocks:
        script = "\n".join(rewrite(command) for command in block.commands)
        got = normalise(run_on_a_terminal(script, tmp_path, env).splitlines())
        want = normalise([rewrite(line) for line in block.expected])
        if got != want:
            mismatches.append(
                f"{block.page}:{block.line}: {block.commands}\n  page:  {want}\n  got:   {got}"
            )
    assert not mismatches, "\n".join(mismatches)


def ddb_lines(page: Path) -> list[tuple[str, bool]]:
    """Every ``ddb ...`` line in the ``bash`` and ``console`` blocks of ``page``, and whether
    the page shows it refused (the next line is ``ddb: error: ...``)."""
    text = page.read_text(encoding="utf-8")
    found = []
    for block in re.findall(r"```(?:bash|console)\n(.*?)```", text, re.DOTALL):
        lines = block.replace("\\\n", " ").splitlines()  # join continued lines
        for i, line in enumerate(lines):
            line = line.removeprefix("$ ").removeprefix(".venv/bin/")
            if line.startswith("ddb ") and not set(line) & set("|;&<>$`"):
                refused = i + 1 < len(lines) and lines[i + 1].startswith("ddb: error:")
                found.append((line, refused))
    return found


@pytest.mark.parametrize("page", PAGES, ids=[p.stem for p in PAGES])
def test_every_ddb_command_shown_is_accepted_by_the_real_parser(page: Path) -> None:
    """Including the ones no test can run here (servers on other hosts, long runs)."""
    from stages.cli import build_parser
    from stages.v2_1_election.cli import election_settings, run_election_node

    for line, refused in ddb_lines(page):
        words = shlex.split(line, comments=True)[1:]
        if "--help" in words:
            with pytest.raises(SystemExit) as help_shown:
                build_parser().parse_args(words)
            assert help_shown.value.code == 0, line
            continue
        args = build_parser().parse_args(words)  # a refused flag exits 2: the test fails
        assert callable(args.func), line
        if args.func is run_election_node and not refused:
            election_settings(args)  # settings the node would refuse raise ConfigError
