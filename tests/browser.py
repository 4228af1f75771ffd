"""A dashboard in a real browser (Debian's Chromium, driven by Playwright), for the demos'
browser tests: skipped without Playwright or Chromium, failed instead with ``CI=true``."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import pytest

from tests.test_site_browser import CHROMIUM, CHROMIUM_ARGS, only_loopback, unavailable


def need_a_browser() -> None:
    """Skip the test without Playwright or Chromium; in CI, fail it instead."""
    reason = unavailable()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the browser tests: {reason}")
        pytest.skip(reason)


@contextlib.contextmanager
def dashboard_tab(url: str, height: int) -> Iterator[object]:
    """A tab on the dashboard at ``url``, 1280 pixels wide and ``height`` high. Afterwards,
    the page must have asked for nothing beyond loopback, and its console said no error."""
    from playwright.sync_api import sync_playwright

    left_loopback: list[str] = []
    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            tab = browser.new_page(viewport={"width": 1280, "height": height})
            tab.route("**/*", only_loopback(left_loopback))
            tab.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
            tab.on("pageerror", lambda exc: errors.append(str(exc)))
            tab.goto(url + "/")
            yield tab
        finally:
            browser.close()
    assert left_loopback == [] and errors == []
