"""The docs include real code: every snippet marker must name a section that exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INCLUDE = re.compile(r'^--8<-- "(?P<path>[^":]+)(?::(?P<section>[\w-]+))?"$', re.MULTILINE)


def test_every_snippet_include_names_an_existing_section() -> None:
    includes = 0
    for page in sorted((ROOT / "docs").glob("*.md")):
        text = page.read_text(encoding="utf-8")
        assert "--8 <" not in text, f"{page.name}: a formatter mangled a snippet marker"
        for match in INCLUDE.finditer(text):
            includes += 1
            source = (ROOT / match["path"]).read_text(encoding="utf-8")
            if match["section"]:
                for edge in ("start", "end"):
                    marker = f"# --8<-- [{edge}:{match['section']}]"
                    assert marker in source, f"{page.name}: {match['path']} has no {marker}"
    assert includes > 0, "the docs include no code at all"


def test_getting_started_and_the_readme_show_the_stage_make_run_starts() -> None:
    """The pages a learner reads first say what ``make run`` really runs, so that changing
    the Makefile's target without them (or them without it) fails here."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(r"^run:.*\n\t\$\(BIN\)/(?P<command>ddb .+)$", makefile, re.MULTILINE)
    assert recipe, "the Makefile has no run target that runs ddb"
    command = recipe["command"]  # ddb vN demo --nodes 3
    stage = command.split()[1]
    page = (ROOT / "docs" / "getting-started.md").read_text(encoding="utf-8")
    assert f"`{command}`" in page, f"getting-started.md does not say make run runs {command}"
    assert f"\n.venv/bin/{command}\n" in page, "getting-started.md does not show make's own line"
    readme_top = (ROOT / "README.md").read_text(encoding="utf-8").split("## Stage map")[0]
    assert re.search(rf"three {re.escape(stage)}(\.0)? nodes", readme_top), "README.md's top"
