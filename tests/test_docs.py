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
