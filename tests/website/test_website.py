"""The course site (`make site`) holds every diagram of the notebooks and loads nothing from
the network. (That it draws them offline is checked in a browser: tests/browser.)"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from .website import build_site_or_skip, diagram_sources

# Sphinx 9 warns about myst's use of its API; that is theirs to fix, not this site's.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning",
                                        "ignore::PendingDeprecationWarning")

DIAGRAM = re.compile(r'<pre class="mermaid">\n(.*?)\n</pre>', re.DOTALL)
ANY_URL = re.compile(r"""(?:https?:)?//[a-z0-9-]+(?:\.[a-z0-9-]+)+""", re.IGNORECASE)
#: A URL where a page, style sheet or script would fetch it (not one in a comment or message).
LOADED_URL = re.compile(r"""(?:url\(|@import|import\(|importScripts\(|fetch\(|\bsrc\s*=|"""
                        r"""\bhref\s*=)\s*['"]?(?:https?:)?//""", re.IGNORECASE)
#: XML namespace names in SVG and MathML code: identifiers, never fetched.
NAMESPACES = ("http://www.w3.org/",)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    return build_site_or_skip(tmp_path_factory.mktemp("site") / "html")


def test_every_diagram_of_the_notebooks_is_on_its_page_with_its_source(site):
    expected = diagram_sources()
    assert sum(map(len, expected.values())) >= 5, "the course should have diagrams to show"
    for page, sources in expected.items():
        found = [html.unescape(text) for text in DIAGRAM.findall((site / page).read_text())]
        assert found == [source.rstrip("\n") for source in sources], f"{page}: diagrams differ"


def test_the_number_of_diagrams_on_the_site_equals_the_notebooks_mermaid_outputs(site):
    on_site = sum(len(DIAGRAM.findall(page.read_text())) for page in site.rglob("*.html"))
    assert on_site == sum(map(len, diagram_sources().values()))


def test_the_pages_hold_no_external_url(site):
    found = {str(page.relative_to(site)): urls for page in site.rglob("*.html")
             if (urls := [url for url in ANY_URL.findall(page.read_text())
                          if not url.startswith(NAMESPACES)])}
    assert not found, f"pages link outside the site: {found}"


def test_no_script_or_style_sheet_loads_anything_from_elsewhere(site):
    assets = [*site.rglob("*.js"), *site.rglob("*.css")]
    assert any(asset.name == "mermaid.min.js" for asset in assets), "mermaid is not served"
    loads = {str(asset.relative_to(site)): LOADED_URL.findall(asset.read_text(errors="replace"))
             for asset in assets}
    assert not {name: urls for name, urls in loads.items() if urls}


def test_every_page_loads_only_its_own_scripts(site):
    for page in site.rglob("*.html"):
        scripts = re.findall(r'<script[^>]*\bsrc="([^"]+)"', page.read_text())
        outside = [src for src in scripts if not (page.parent / src.split("?")[0]).is_file()]
        assert not outside, f"{page.relative_to(site)} loads scripts it does not ship: {outside}"
