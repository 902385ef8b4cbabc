"""The dashboard in a real JupyterLab, driven in headless Chromium like a learner would.

Kill payment, place orders, see the backlog grow and the lamp leave green; play for a while
(and run another cell meanwhile); restart payment and see the lamp return to green.
Screenshots go to test-artifacts/ (git-ignored). Skips with the reason when there is no
Chromium (a laptop without it and without root) or no Playwright.
"""

from __future__ import annotations

import re
import shutil

import pytest

from .lab import (HERE, REPO, chromium_or_skip, jupyterlab, open_chromium,
                  wait_for_an_idle_kernel)

pytestmark = pytest.mark.browser

ARTIFACTS = REPO / "test-artifacts"
NOTEBOOK = "dashboard_demo.ipynb"
WAIT_MS = 30_000


def run_all_cells(page) -> None:
    """Wait for JupyterLab and an idle kernel, then Run > Run All Cells."""
    wait_for_an_idle_kernel(page)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")


def run_cell(page, index: int) -> None:
    page.evaluate("""(index) => {
        const notebook = window.jupyterapp.shell.currentWidget.content;
        notebook.activeCellIndex = index;
        return window.jupyterapp.commands.execute('notebook:run-cell'); }""", index)


def virtual_time(header) -> int:
    return int(re.search(r"t = (\d+) ms", header.inner_text()).group(1))


def wait_until_time_stands_still(page, header, quiet_ms: int = 1500) -> None:
    """Ticks already on their way may still arrive; then virtual time must stop moving."""
    waited, last, unchanged = 0, virtual_time(header), 0
    while unchanged < quiet_ms:
        page.wait_for_timeout(250)
        waited += 250
        now = virtual_time(header)
        unchanged = unchanged + 250 if now == last else 0
        last = now
        assert waited < WAIT_MS, "virtual time kept moving after Pause: play did not stop"


def test_a_learner_kills_payment_watches_the_backlog_and_restarts_it_in_jupyterlab(tmp_path):
    chromium = chromium_or_skip()
    from playwright.sync_api import expect, sync_playwright

    root = tmp_path / "notebooks"
    root.mkdir()
    shutil.copy(HERE / NOTEBOOK, root / NOTEBOOK)
    ARTIFACTS.mkdir(exist_ok=True)
    with jupyterlab(root, tmp_path / "jupyter", ARTIFACTS / "jupyterlab.log") as lab, \
            sync_playwright() as playwright:
        browser, page = open_chromium(playwright, chromium, tmp_path / "chromium-profile", 2200)
        try:
            page_errors: list[str] = []
            page.on("pageerror", lambda error: page_errors.append(str(error)))
            page.goto(lab.url(f"lab/tree/{NOTEBOOK}"))
            run_all_cells(page)

            dashboard = page.locator(".choreo-dashboard")
            expect(dashboard).to_be_visible(timeout=60_000)
            lamp, header = dashboard.locator(".choreo-lamp"), dashboard.locator(".choreo-header")
            payment = dashboard.locator(".choreo-card-payment")
            expect(lamp).to_have_attribute("data-lamp", "grey", timeout=WAIT_MS)
            expect(lamp).to_contain_text("NOTHING TO CHECK YET")
            expect(payment).to_contain_text("UP")

            # kill payment, place orders: they wait in its backlog and the lamp leaves green
            payment.get_by_role("button", name="Kill payment", exact=True).click()
            expect(payment).to_contain_text("DOWN", timeout=WAIT_MS)
            for _ in range(3):
                dashboard.get_by_role("button", name="Place order", exact=True).click()
            dashboard.get_by_role("button", name="Run until idle").click()
            expect(payment).to_contain_text("backlog 3", timeout=WAIT_MS)
            expect(lamp).to_have_attribute("data-lamp", "amber", timeout=WAIT_MS)
            expect(lamp).to_contain_text("NOT YET CONSISTENT")
            dashboard.screenshot(path=ARTIFACTS / "dashboard-payment-killed.png")

            # restart payment, then play: the browser ticks the clock while another cell runs,
            # and play stops by itself once nothing is scheduled
            payment.get_by_role("button", name="Restart payment", exact=True).click()
            expect(payment).to_contain_text("UP", timeout=WAIT_MS)
            before = virtual_time(header)
            dashboard.get_by_role("button", name="▶ Play").click()
            page.wait_for_function("""([before]) => {
                const m = document.querySelector('.choreo-header').innerText.match(/t = (\\d+) ms/);
                return m && +m[1] > before; }""", arg=[before], timeout=WAIT_MS)
            run_cell(page, 2)  # `dash.sim.now`, answered while play mode keeps ticking
            answer = page.locator(".jp-Notebook .jp-Cell").nth(2).locator(".jp-OutputArea-output")
            expect(answer).not_to_have_text("0", timeout=WAIT_MS)
            assert int(answer.inner_text()) > before
            expect(header).to_contain_text("stopped playing", timeout=WAIT_MS)
            expect(header).to_contain_text("nothing is scheduled")
            expect(dashboard.get_by_role("button", name="▶ Play")).to_be_visible(timeout=WAIT_MS)
            wait_until_time_stands_still(page, header)

            # payment drained its backlog and the lamp is green
            expect(lamp).to_have_attribute("data-lamp", "green", timeout=WAIT_MS)
            expect(lamp).to_contain_text("CONSISTENT")
            expect(payment).to_contain_text("backlog 0")
            expect(dashboard.locator(".choreo-sagas")).to_contain_text("completed 3")
            dashboard.screenshot(path=ARTIFACTS / "dashboard-payment-restarted.png")
            page.screenshot(path=ARTIFACTS / "dashboard-notebook.png", full_page=True)

            assert not page_errors, page_errors
            assert page.get_by_text("Error displaying widget").count() == 0
        finally:
            browser.close()
