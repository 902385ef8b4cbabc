"""The course site opened offline in headless Chromium: every request that is not for a file
of the site is refused (and fails the test), and every diagram is drawn.

A screenshot of the first diagram page goes to test-artifacts/site-diagrams.png.
"""

from __future__ import annotations

import pytest

from website.website import build_site_or_skip, diagram_sources  # tests/website (pytest puts tests/ on sys.path)
from .lab import CHROMIUM_FLAGS, REPO, chromium_or_skip

pytestmark = [pytest.mark.browser,
              pytest.mark.filterwarnings("ignore::DeprecationWarning",
                                         "ignore::PendingDeprecationWarning")]

ARTIFACTS = REPO / "test-artifacts"
WAIT_MS = 30_000


def test_the_site_draws_every_diagram_with_no_network(tmp_path):
    chromium = chromium_or_skip()
    from playwright.sync_api import expect, sync_playwright

    site = build_site_or_skip(tmp_path / "html")
    ARTIFACTS.mkdir(exist_ok=True)
    outside, problems = [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True,
                                             args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 1400})
            page.route("**/*", lambda route: route.continue_()
                       if route.request.url.startswith("file://")
                       else (outside.append(route.request.url), route.abort()))
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.on("console", lambda message: message.type == "error"
                    and problems.append(message.text))
            for number, (name, sources) in enumerate(diagram_sources().items()):
                page.goto((site / "index.html").as_uri())  # a reader follows the contents
                page.locator(f'.body a[href="{name}"]').first.click()
                page.wait_for_url(f"**/{name}")
                drawn = page.locator("pre.mermaid svg")
                expect(drawn).to_have_count(len(sources), timeout=WAIT_MS)
                assert page.locator("pre.mermaid svg text, pre.mermaid svg foreignObject"
                                    ).count() > 0, f"{name}: the diagrams have no labels"
                if number == 0:
                    drawn.first.scroll_into_view_if_needed()
                    page.screenshot(path=ARTIFACTS / "site-diagrams.png")
        finally:
            browser.close()
    assert not outside, f"the site asked the network for {outside}"
    assert not problems, problems
