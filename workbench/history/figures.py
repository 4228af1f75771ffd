"""The checker's figures in ``docs/figures``, drawn from the histories in ``docs/histories``.

``make figures`` runs ``python -m workbench.history.figures``; a test draws them again and
compares the bytes, so the page always shows what the checker says today. The histories are
files in the repository: the textbook cases written by hand, and two runs of
``ddb workload`` recorded once (a v1 server, and three v2.1 nodes).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from workbench.history.checker import check, read_history
from workbench.history.svg import history_svg

DOCS = Path(__file__).resolve().parents[2] / "docs"
HISTORIES = DOCS / "histories"
FIGURES = ("stale-read", "concurrent", "unknown-write", "v1-server", "v2.1-three-stores")


def draw(name: str) -> str:
    ops = read_history((HISTORIES / f"{name}.jsonl").read_text(encoding="utf-8").splitlines())
    verdict = check(ops)
    key = (verdict.failed or verdict.keys)[0]
    return history_svg([op for op in ops if op.key == key.key], key)


def write_all(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name in FIGURES:
        path = directory / f"history-{name}.svg"
        path.write_text(draw(name), encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m workbench.history.figures", description=__doc__
    )
    parser.add_argument(
        "--out", type=Path, default=DOCS / "figures", help="(default: docs/figures)"
    )
    for path in write_all(parser.parse_args(argv).out):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
