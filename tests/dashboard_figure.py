"""The dashboard's screenshots in the docs (``docs/figures/dashboard.png``,
``docs/figures/dashboard-v3.png``), taken for real.

``make figures`` runs ``python -m tests.dashboard_figure``: it starts ``ddb v2.1 demo`` on
free ports, opens the dashboard in Chromium (Playwright, as the browser tests do), puts a
value on n1, kills the leader from the page, waits for the next one, pauses a follower,
and saves the page. Then the same with ``ddb v3 demo``, for its Logs panel: a few writes
in the first term, the leader killed, a write in the next term, the old leader restarted
(it catches up), a follower paused, and one more write that it misses. It needs the
``browser`` extra and Chromium; without them it says so and exits 1 (the simulator's
figures, drawn before it, are written by then).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

from tests.demo import dashboard_url_now, free_run
from tests.test_site_browser import CHROMIUM, CHROMIUM_ARGS, unavailable
from tests.v2_1_election.test_dashboard_browser import ONE_LEADER
from workbench.harness import SETUP, Processes

FIGURES = Path(__file__).resolve().parent.parent / "docs" / "figures"
FIGURE, FIGURE_V3 = FIGURES / "dashboard.png", FIGURES / "dashboard-v3.png"
WAIT = SETUP * 1000  # milliseconds, as Playwright counts
CAUGHT_UP = """(name) => {
  const rows = [...document.querySelectorAll('#logs .log-row')];
  const row = rows.find(r => r.dataset.node === name);
  return row !== undefined && !row.classList.contains('away')
    && rows.every(r => r.dataset.commit === row.dataset.commit);
}"""


def put(page: Any, node: str, key: str, value: str) -> None:
    page.select_option("#kv-node", node)
    page.fill("#kv-key", key)
    page.fill("#kv-value", value)
    page.click("#kv-put")
    page.wait_for_selector(f"#kv-result:has-text('stored {key} = {value}')", timeout=WAIT)


def kill_the_leader(page: Any) -> str:
    """Kill the leader from the page; return the next one, once the page shows it."""
    old = page.get_attribute("#nodes tr.leader", "data-node")
    page.click("#kill-leader")
    page.wait_for_selector(f"#nodes tr.leader:not([data-node='{old}'])", timeout=WAIT)
    return str(page.get_attribute("#nodes tr.leader", "data-node"))


def pause_a_follower(page: Any) -> str:
    follower = page.get_attribute("#nodes tr.running:not(.leader)", "data-node")
    page.click(f"tr[data-node='{follower}'] button[data-action=pause]")
    page.wait_for_selector(f"tr[data-node='{follower}'].paused", timeout=WAIT)
    return str(follower)


def v2_1(page: Any) -> None:
    put(page, "n1", "greeting", "hello")
    kill_the_leader(page)
    pause_a_follower(page)


def v3(page: Any) -> None:
    leader = page.get_attribute("#nodes tr.leader", "data-node")
    for value in ("hello", "bonjour", "hallo"):
        put(page, leader, "greeting", value)
    leader = kill_the_leader(page)
    put(page, leader, "colour", "red")
    old = page.get_attribute("#nodes tr.dead", "data-node")
    page.click(f"tr[data-node='{old}'] button[data-action=restart]")
    page.wait_for_function(CAUGHT_UP, arg=old, timeout=WAIT)
    follower = pause_a_follower(page)  # the leader and the other one are still a majority
    put(page, leader, "colour", "green")
    page.wait_for_selector(f".log-row[data-node='{follower}'] .entry.missing", timeout=WAIT)


def take(path: Path, stage: str, act: Any, *args: str, height: int = 800) -> None:
    from playwright.sync_api import sync_playwright

    processes = Processes()
    try:
        demo = processes.start(
            stage, "demo", "--registry-port", str(free_run(1)),
            "--first-node-port", str(free_run(3)), "--dashboard-port", "0", *args,
        )  # fmt: skip
        url = dashboard_url_now(demo)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": height})
            page.goto(url + "/")
            page.wait_for_function(ONE_LEADER, timeout=WAIT)
            act(page)
            page.wait_for_timeout(600)  # the Logs panel asks twice a second: its next answer
            page.screenshot(path=str(path))
            browser.close()
    finally:
        processes.stop_all()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.dashboard_figure", description=__doc__)
    parser.add_argument("--out", type=Path, default=FIGURE, help="default: %(default)s")
    parser.add_argument("--out-v3", type=Path, default=FIGURE_V3, help="default: %(default)s")
    args = parser.parse_args(argv)
    reason = unavailable()
    if reason:
        print(f"no screenshot of the dashboard: {reason}", file=sys.stderr)
        return 1
    take(args.out, "v2.1", v2_1)
    print(f"wrote {args.out}")
    with tempfile.TemporaryDirectory(prefix="ddb-figure-") as logs:
        take(args.out_v3, "v3", v3, "--data-dir", logs, height=1000)
    print(f"wrote {args.out_v3}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
