"""Course diagrams in a real JupyterLab and Notebook 7, in headless Chromium, as a student opens
them: each diagram is drawn (once), and saving a notebook one only looked at changes no byte.

Screenshots of the first diagram go to test-artifacts/ (git-ignored).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest

from .lab import REPO, chromium_or_skip, jupyterlab, open_chromium, wait_for_an_idle_kernel

pytestmark = pytest.mark.browser

ARTIFACTS = REPO / "test-artifacts"
NOTEBOOK = "notebooks/02-the-order-choreography.ipynb"
#: Where each app opens a notebook, relative to the server's root.
OPEN = {"jupyterlab": "lab/tree/{}", "notebook": "notebooks/{}"}
DRAWN = ".jp-OutputArea-output .jp-RenderedMermaid img[src^='data:image/svg+xml']"
WAIT_MS = 60_000


def diagrams_in(path: Path) -> int:
    """How many outputs of the saved notebook are Mermaid diagrams."""
    notebook = nbformat.read(path, as_version=4)
    return sum("text/vnd.mermaid" in output.get("data", {})
               for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs)


@pytest.mark.parametrize("app", ["jupyterlab", "notebook"])
def test_each_diagram_is_drawn_once_and_saving_after_opening_changes_no_byte(app, tmp_path):
    chromium = chromium_or_skip()
    from playwright.sync_api import expect, sync_playwright

    root = tmp_path / "course"
    (root / "notebooks").mkdir(parents=True)
    opened = root / NOTEBOOK
    shutil.copy(REPO / NOTEBOOK, opened)
    original = opened.read_bytes()
    expected = diagrams_in(opened)
    assert expected >= 2, f"{NOTEBOOK} should show a sequence diagram and a topology"
    ARTIFACTS.mkdir(exist_ok=True)
    with jupyterlab(root, tmp_path / "jupyter", ARTIFACTS / f"diagrams-{app}.log", app=app) as lab, \
            sync_playwright() as playwright:
        browser, page = open_chromium(playwright, chromium, tmp_path / "chromium-profile")
        try:
            page.goto(lab.url(OPEN[app].format(NOTEBOOK)))
            wait_for_an_idle_kernel(page)

            drawn = page.locator(DRAWN)
            expect(drawn).to_have_count(expected, timeout=WAIT_MS)
            figures_per_output = page.evaluate("""() => [...document.querySelectorAll(
                '.jp-OutputArea-output')].map(output => output.querySelectorAll(
                'img[src^="data:image/svg+xml"], svg').length).filter(count => count > 0)""")
            assert figures_per_output == [1] * expected, f"drawn twice? {figures_per_output}"
            first = drawn.first.get_attribute("src")
            assert "sequence" in first and "payment" in first, "the first diagram is not drawn"
            plain = page.locator(".jp-OutputArea-output pre:visible", has_text="sequenceDiagram")
            assert plain.count() == 0, "the Mermaid source is shown as text"
            drawn.first.scroll_into_view_if_needed()
            drawn.first.screenshot(path=ARTIFACTS / f"diagram-{app}.png")

            page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
            page.wait_for_function(
                "() => !window.jupyterapp.shell.currentWidget.context.model.dirty",
                timeout=WAIT_MS)
            assert opened.read_bytes() == original, (
                f"saving {NOTEBOOK} in {app} after only opening it changed the file: "
                "choreo_lab.save_hook should strip what the frontend added")
        finally:
            browser.close()
