"""The v3.0 demo's Logs panel in a real browser (Debian's Chromium, driven by Playwright).

Three rows, one per node; a write from the page's key/value form makes every row grow to
the same committed index; a follower paused from the page stops growing while the others
go on, and catches up when it resumes. Like v2.1's browser tests, these skip without
Playwright or Chromium, and fail instead with ``CI=true``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser import dashboard_tab, need_a_browser
from tests.demo import dashboard_url_now, start_demo
from tests.v2_1_election.test_dashboard_browser import ONE_LEADER
from workbench.harness import SETUP, Processes

WAIT = SETUP * 1000  # milliseconds, as Playwright counts

# Every row answers, and shows one index as its last, committed and applied one, above `above`.
IN_STEP = """(above) => {
  const rows = [...document.querySelectorAll('#logs .log-row')];
  return rows.length === 3 && rows.every(r => !r.classList.contains('away')
    && r.dataset.last === rows[0].dataset.last && Number(r.dataset.last) > above
    && r.dataset.commit === r.dataset.last && r.dataset.applied === r.dataset.last);
}"""


@pytest.fixture
def page(processes: Processes, unused_tcp_port_factory, tmp_path: Path) -> Iterator[object]:
    """A tab on the dashboard of ``ddb v3 demo`` (three nodes) once they agree on a leader."""
    need_a_browser()
    demo = start_demo(processes, unused_tcp_port_factory, "--data-dir", str(tmp_path), stage="v3")
    with dashboard_tab(dashboard_url_now(demo), height=1000) as tab:
        tab.wait_for_function(ONE_LEADER, timeout=WAIT)
        tab.wait_for_function(IN_STEP, arg=0, timeout=WAIT)  # the leader's no-op, at least
        yield tab


def put(page, node: str, key: str, value: str) -> None:
    """A write from the page's form, on ``node``, once the page says it was stored."""
    page.select_option("#kv-node", node)
    page.fill("#kv-key", key)
    page.fill("#kv-value", value)
    page.click("#kv-put")
    page.wait_for_selector(f"#kv-result:has-text('stored {key} = {value}')", timeout=WAIT)


def last(page, node: str) -> int:
    return int(page.get_attribute(f"#logs .log-row[data-node='{node}']", "data-last"))


@pytest.mark.timeout(90)
def test_the_logs_grow_together_and_a_paused_follower_falls_behind_then_catches_up(page) -> None:
    assert page.locator("#logs .log-row").count() == 3
    assert page.locator("#logs .log-row.leader").count() == 1
    leader = page.get_attribute("#nodes tr.leader", "data-node")
    assert page.get_attribute("#logs .log-row.leader", "data-node") == leader
    follower = page.get_attribute("#nodes tr.running:not(.leader)", "data-node")
    start = last(page, leader)

    put(page, follower, "greeting", "one")  # the follower redirects the write to the leader
    page.wait_for_function(IN_STEP, arg=start, timeout=WAIT)
    end = last(page, leader)
    newest = f"#logs .log-row[data-node='{leader}'] .entry[data-index='{end}']"
    assert page.text_content(f"{newest} .command") == "put greeting"
    assert page.text_content(f"{newest} .marks") == "commit applied"

    page.click(f"#nodes tr[data-node='{follower}'] button[data-action=pause]")
    row = f"#logs .log-row[data-node='{follower}']"
    page.wait_for_selector(f"{row}.away", timeout=WAIT)
    put(page, leader, "colour", "red")
    put(page, leader, "colour", "green")  # committed by the leader and the other follower
    page.wait_for_function(
        f'() => document.querySelectorAll("{row} .entry.missing").length >= 2', timeout=WAIT
    )
    assert last(page, follower) == end and last(page, leader) >= end + 2  # it stopped growing
    behind = last(page, leader) - end
    numbers = page.text_content(f"{row} .log-numbers")
    assert numbers.endswith(f"· {behind} behind the leader (paused: last known)")

    page.click(f"#nodes tr[data-node='{follower}'] button[data-action=resume]")
    page.wait_for_function(IN_STEP, arg=end + 1, timeout=WAIT)  # caught up
    assert page.locator(f"{row} .entry.missing").count() == 0
