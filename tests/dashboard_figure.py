"""The dashboard's screenshot in the docs (``docs/figures/dashboard.png``), taken for real.

``make figures`` runs ``python -m tests.dashboard_figure``: it starts ``ddb v2.1 demo`` on
free ports, opens the dashboard in Chromium (Playwright, as the browser tests do), puts a
value on n1, kills the leader from the page, waits for the next one, pauses a follower,
and saves the page. It needs the ``browser`` extra and Chromium; without them it says so
and exits 1 (the simulator's figures, drawn before it, are written by then).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tests.demo import dashboard_url_now, free_run
from tests.test_site_browser import CHROMIUM, CHROMIUM_ARGS, unavailable
from tests.v2_1_election.test_dashboard_browser import ONE_LEADER
from workbench.harness import SETUP, Processes

FIGURE = Path(__file__).resolve().parent.parent / "docs" / "figures" / "dashboard.png"
WAIT = SETUP * 1000  # milliseconds, as Playwright counts


def take(path: Path) -> None:
    from playwright.sync_api import sync_playwright

    processes = Processes()
    try:
        demo = processes.start(
            "v2.1", "demo", "--registry-port", str(free_run(1)),
            "--first-node-port", str(free_run(3)), "--dashboard-port", "0",
        )  # fmt: skip
        url = dashboard_url_now(demo)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(url + "/")
            page.wait_for_function(ONE_LEADER, timeout=WAIT)
            page.select_option("#kv-node", "n1")
            page.click("#kv-put")
            page.wait_for_selector("#kv-result:has-text('stored')", timeout=WAIT)
            old = page.get_attribute("#nodes tr.leader", "data-node")
            page.click("#kill-leader")
            page.wait_for_selector(f"#nodes tr.leader:not([data-node='{old}'])", timeout=WAIT)
            follower = page.get_attribute("#nodes tr.running:not(.leader)", "data-node")
            page.click(f"tr[data-node='{follower}'] button[data-action=pause]")
            page.wait_for_selector(f"tr[data-node='{follower}'].paused", timeout=WAIT)
            page.screenshot(path=str(path))
            browser.close()
    finally:
        processes.stop_all()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.dashboard_figure", description=__doc__)
    parser.add_argument("--out", type=Path, default=FIGURE, help="default: %(default)s")
    args = parser.parse_args(argv)
    reason = unavailable()
    if reason:
        print(f"no screenshot of the dashboard: {reason}", file=sys.stderr)
        return 1
    take(args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
