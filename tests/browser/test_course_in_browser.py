"""The course as `choreo-lab lab` serves it (its folder as the root), in JupyterLab in headless
Chromium: notebook 00 opens, and its links to the exercises open them.

Screenshot: test-artifacts/course-exercise-opened.png.
"""

from __future__ import annotations

import pytest

from choreo_lab.course import FIRST_NOTEBOOK, copy_course

from .lab import REPO, chromium_or_skip, jupyterlab, open_chromium, wait_for_an_idle_kernel

pytestmark = pytest.mark.browser

ARTIFACTS = REPO / "test-artifacts"
EXERCISE = "exercises/ex01-inventory.ipynb"
WAIT_MS = 60_000


def test_notebook_00_opens_and_its_exercise_link_opens_the_exercise(tmp_path):
    chromium = chromium_or_skip()
    from playwright.sync_api import expect, sync_playwright

    course = copy_course(tmp_path / "course").folder
    ARTIFACTS.mkdir(exist_ok=True)
    with jupyterlab(course, tmp_path / "jupyter", ARTIFACTS / "course.log") as lab, \
            sync_playwright() as playwright:
        browser, page = open_chromium(playwright, chromium, tmp_path / "chromium-profile")
        try:
            page.goto(lab.url(f"lab/tree/{FIRST_NOTEBOOK}"))
            wait_for_an_idle_kernel(page)
            link = page.locator(".jp-RenderedMarkdown a", has_text="ex01-inventory")
            expect(link).to_be_visible(timeout=WAIT_MS)
            link.click()
            page.wait_for_function(
                """(path) => { const panel = window.jupyterapp.shell.currentWidget;
                               return panel && panel.context && panel.context.path === path; }""",
                arg=EXERCISE, timeout=WAIT_MS)
            heading = page.locator(".jp-NotebookPanel:visible .jp-RenderedMarkdown h1").first
            expect(heading).to_contain_text("Exercise 1", timeout=WAIT_MS)
            page.screenshot(path=ARTIFACTS / "course-exercise-opened.png")
            assert page.get_by_text("outside root contents directory").count() == 0
        finally:
            browser.close()
