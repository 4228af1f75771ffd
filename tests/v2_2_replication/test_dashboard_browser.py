"""The v2.2 demo's dashboard in a real browser (Debian's Chromium, driven by Playwright).

The key/value panel must show every node's copy of the key it wrote: the same value on all
three, then, with a follower paused from the page, that follower's stale copy. Like v2.1's
browser tests, these skip without Playwright or Chromium, and fail instead with ``CI=true``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.browser import dashboard_tab, need_a_browser
from tests.demo import dashboard_url_now, start_demo
from workbench.harness import SETUP, Processes

ONE_LEADER = """() => {
  const rows = [...document.querySelectorAll('#nodes tbody tr')];
  const followed = new Set(rows.map(r => r.querySelector('[data-col=leader]').textContent));
  return rows.length === 3 && document.querySelectorAll('#nodes tr.leader').length === 1
    && rows.every(r => r.classList.contains('running')) && followed.size === 1;
}"""

COPIES = """([want, stale]) => {
  const rows = [...document.querySelectorAll('#kv-copies tbody tr')];
  return rows.length === 3 && rows.every(r => {
    const copy = r.querySelector('[data-col=copy]').textContent;
    return stale.includes(r.dataset.copy) ? r.classList.contains('stale')
      : !r.classList.contains('stale') && copy === want;
  });
}"""


@pytest.fixture
def page(processes: Processes, unused_tcp_port_factory) -> Iterator[object]:
    """A tab on the dashboard of ``ddb v2.2 demo`` (three nodes) once they agree on a leader."""
    need_a_browser()
    demo = start_demo(processes, unused_tcp_port_factory, stage="v2.2")
    with dashboard_tab(dashboard_url_now(demo), height=860) as tab:
        tab.wait_for_function(ONE_LEADER, timeout=SETUP * 1000)
        yield tab


def put(page, node: str, value: str) -> None:
    page.select_option("#kv-node", node)
    page.fill("#kv-key", "greeting")
    page.fill("#kv-value", value)
    page.click("#kv-put")


@pytest.mark.timeout(90)
def test_the_panel_shows_each_nodes_copy_and_a_paused_followers_stale_one(page) -> None:
    leader = page.get_attribute("#nodes tr.leader", "data-node")
    follower = page.get_attribute("#nodes tr.running:not(.leader)", "data-node")

    put(page, follower, "one")  # the follower redirects the write to the leader
    page.wait_for_function(COPIES, arg=["one", []], timeout=SETUP * 1000)
    result = page.text_content("#kv-result")
    assert result == f"{follower}: stored greeting = one (the leader {leader} took it)"
    cell = f"#kv-copies tr[data-copy='{leader}'] td[data-col=node]"
    assert page.text_content(cell) == f"{leader} (leader)"
    digests = page.eval_on_selector_all(
        "#kv-copies td[data-col=digest]", "cells => cells.map(c => c.textContent)"
    )
    assert len(set(digests)) == 1 and "—" not in digests  # the three stores agree

    page.click(f"#nodes tr[data-node='{follower}'] button[data-action=pause]")
    page.wait_for_selector(f"#nodes tr[data-node='{follower}'].paused", timeout=SETUP * 1000)
    put(page, leader, "two")
    page.wait_for_function(COPIES, arg=["two", [follower]], timeout=SETUP * 1000)
    stale = page.text_content(f"#kv-copies tr[data-copy='{follower}'] td[data-col=copy]")
    assert stale == "one (paused: last known) — stale"

    # On resume it applies the write the leader gave up on, which waited in its socket
    # (tests/v2_2_replication/test_dashboard_processes.py says more).
    page.click(f"#nodes tr[data-node='{follower}'] button[data-action=resume]")
    page.wait_for_function(COPIES, arg=["two", []], timeout=SETUP * 1000)
