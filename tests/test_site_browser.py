"""The docs site in a real browser, offline: every diagram is drawn and nothing leaves loopback.

The site is built (``mkdocs build``), served on 127.0.0.1, and opened page by page in Debian's
Chromium driven by Playwright. Every request that leaves loopback is blocked and recorded.

Without Playwright or Chromium these tests skip, saying why; with ``CI=true`` they fail
instead, so CI never passes without running them (``.ci/run`` installs both). Set
``DDB_SCREENSHOTS=DIR`` to keep a full-page screenshot of every page.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("DDB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PAGES = sorted((ROOT / "docs").glob("*.md"))
# Material draws each diagram into a *closed* shadow root; open it so the test can look inside.
OPEN_SHADOW_ROOTS = """
const attachShadow = Element.prototype.attachShadow;
Element.prototype.attachShadow = function (init) {
  return attachShadow.call(this, { ...init, mode: "open" });
};
"""


def unavailable() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install -e '.[browser]')"
    if not Path(CHROMIUM).exists():
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    return None


def only_loopback(left_loopback: list[str]) -> Callable[[Any], None]:
    """A route handler that lets requests to 127.0.0.1 through, and aborts and notes any other."""

    def handle(route: Any) -> None:  # a playwright Route
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            left_loopback.append(route.request.url)
            route.abort()

    return handle


def page_path(page: Path) -> str:
    return "/" if page.stem == "index" else f"/{page.stem}/"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The built site, served on 127.0.0.1; yields its base URL."""
    reason = unavailable()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the browser tests: {reason}")
        pytest.skip(reason)
    out = tmp_path_factory.mktemp("site")
    mkdocs = [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "-d", str(out)]
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    subprocess.run(mkdocs, cwd=ROOT, check=True, env=env, timeout=120)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(out))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        shutil.rmtree(out, ignore_errors=True)


@pytest.fixture(scope="module")
def browser(site: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1280, "height": 900},
        )
        try:
            yield context
        finally:
            context.close()


# The quick run (-m "not slow") opens the two pages with the most diagrams (a flowchart,
# sequence diagrams and a state diagram); the others, a second or more each in Chromium, are
# slow: `make test` and CI open every page.
QUICK_PAGES = {"majority-vote", "v3-node"}


def test_the_quick_pages_are_pages() -> None:
    """A renamed page must not drop out of the quick run unnoticed."""
    assert not QUICK_PAGES - {p.stem for p in PAGES}, "no such page"


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    "page",
    [
        pytest.param(p, id=p.stem, marks=[] if p.stem in QUICK_PAGES else [pytest.mark.slow])
        for p in PAGES
    ],
)
def test_every_page_draws_its_diagrams_offline(site: str, browser: object, page: Path) -> None:
    from playwright.sync_api import BrowserContext

    assert isinstance(browser, BrowserContext)
    left_loopback: list[str] = []
    errors: list[str] = []

    tab = browser.new_page()
    try:
        tab.add_init_script(OPEN_SHADOW_ROOTS)
        tab.route("**/*", only_loopback(left_loopback))
        tab.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        tab.on("pageerror", lambda exc: errors.append(str(exc)))
        tab.goto(site + page_path(page), wait_until="load")

        expected = page.read_text(encoding="utf-8").count("```mermaid")
        # Material swaps each <pre class="mermaid"> for a <div class="mermaid"> once drawn.
        tab.wait_for_function(
            "n => document.querySelectorAll('div.mermaid').length === n"
            " && !document.querySelector('pre.mermaid')",
            arg=expected,
            timeout=30_000,
        )
        drawn = tab.evaluate(
            """() => [...document.querySelectorAll('div.mermaid')].map(d => {
                const svg = d.shadowRoot && d.shadowRoot.querySelector('svg');
                if (!svg) return 'no svg';
                const box = svg.getBoundingClientRect();
                if (svg.textContent.includes('Syntax error')) return 'syntax error';
                const big = box.width > 100 && box.height > 100;
                return big ? 'ok' : `tiny ${box.width}x${box.height}`;
            })"""
        )
        assert drawn == ["ok"] * expected
        width = tab.evaluate("document.querySelector('.md-content').getBoundingClientRect().width")
        assert width >= 850, f"the content column is {width:.0f} px wide at 1280 px"
        if page.stem == "getting-started":  # the first page a learner reads: no line is cut
            cut = tab.evaluate(
                "[...document.querySelectorAll('pre > code')]"
                ".filter(c => c.scrollWidth > c.clientWidth).map(c => c.textContent)"
            )
            assert cut == []
        shots = os.environ.get("DDB_SCREENSHOTS")
        if shots:
            Path(shots).mkdir(parents=True, exist_ok=True)
            tab.screenshot(path=str(Path(shots) / f"{page.stem}.png"), full_page=True)
    finally:
        tab.close()
    assert left_loopback == []
    assert errors == []
