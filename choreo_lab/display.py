"""Showing diagrams and tables the same way everywhere: notebooks, terminals, tests.

Both objects here produce exactly the same text for the same run, whatever the terminal
width, colour settings or environment variables, so notebooks compare cleanly under nbval.
"""

from __future__ import annotations

import io
import re
from typing import Any

from rich.console import Console, ConsoleOptions, RenderableType, RenderResult

from .text import WIDTH as TEXT_WIDTH

#: Width of text renderings in notebooks and in `str()` (`text.WIDTH`). Fixed, so output
#: never depends on the terminal a notebook happened to run in.
WIDTH = TEXT_WIDTH

# A plain <pre> (as rich uses in Jupyter): rich's default HTML page carries a <style> for
# <body>, which would restyle the whole JupyterLab page once the notebook is trusted.
# No wrapping: a narrow window scrolls sideways instead of breaking table borders. The
# font size is JupyterLab's for code and text output, so WIDTH columns fit as printed text does.
_HTML_FORMAT = ('<pre style="white-space:pre;overflow-x:auto;line-height:normal;'
                'font-size:var(--jp-code-font-size,13px);'
                'font-family:Menlo,\'DejaVu Sans Mono\',consolas,\'Courier New\',monospace">'
                '{code}</pre>')
_TRAILING_SPACES = re.compile(r" +((?:</span>)?)(?=\n)")


class Diagram:
    """A Mermaid diagram's source, drawn offline by JupyterLab 4.1+ and Notebook 7; `print()`
    shows the text.

    `source` is the Mermaid script. In a notebook it is offered as three MIME types, each
    the script itself: ``text/markdown`` (a ```` ```mermaid ```` fence, which JupyterLab and
    Notebook 7 draw), ``text/vnd.mermaid`` (for frontends that draw only that type) and
    ``text/plain`` (the fallback everywhere else: VS Code, nbconvert, a terminal).
    JupyterLab prefers the Markdown, so it draws the diagram once and, unlike its
    ``text/vnd.mermaid`` renderer, writes no SVG back into the notebook.
    """

    def __init__(self, source: str) -> None:
        self.source = source

    @property
    def markdown(self) -> str:
        """The source as a Markdown ```` ```mermaid ```` fence, longer than any run of backticks in it."""
        longest = max((len(run) for run in re.findall(r"`+", self.source)), default=0)
        fence = "`" * max(3, longest + 1)
        return f"{fence}mermaid\n{self.source.rstrip(chr(10))}\n{fence}\n"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {"text/markdown": self.markdown, "text/vnd.mermaid": self.source,
                "text/plain": self.source}

    def __str__(self) -> str:
        return self.source

    def __repr__(self) -> str:
        return f"Diagram({len(self.source.splitlines())} lines of Mermaid)"


class Rendering:
    """A table or log made with rich, rendered at a fixed width without guessing the terminal.

    - `str(rendering)` (and ``print``): plain text, no colour codes.
    - In a notebook: that text, plus coloured HTML of the same text (both byte-stable).
    - `rich.print(rendering)` in a terminal: colours, at the terminal's width.
    """

    def __init__(self, renderable: RenderableType) -> None:
        self.renderable = renderable
        self._recorded: Console | None = None

    def _record(self) -> Console:
        """Render once, at `WIDTH`, into a recording console (cost: one rich render)."""
        if self._recorded is None:
            # Every setting rich would otherwise read from the environment is given
            # explicitly, so NO_COLOR, COLUMNS, FORCE_COLOR or Jupyter itself change nothing.
            console = Console(file=io.StringIO(), record=True, width=WIDTH, height=50,
                              color_system=None, force_terminal=False, force_jupyter=False,
                              force_interactive=False, no_color=False, legacy_windows=False,
                              highlight=False, markup=False, emoji=False, soft_wrap=False)
            console.print(self.renderable)
            self._recorded = console
        return self._recorded

    @property
    def text(self) -> str:
        """The plain text, at `WIDTH` columns, without trailing spaces."""
        raw = self._record().export_text(styles=False, clear=False)
        return "\n".join(line.rstrip() for line in raw.splitlines())

    @property
    def html(self) -> str:
        """The same text as coloured HTML (inline styles, one <pre>)."""
        html = self._record().export_html(inline_styles=True, code_format=_HTML_FORMAT,
                                          clear=False)
        return _TRAILING_SPACES.sub(r"\1", html)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {"text/plain": self.text, "text/html": self.html}

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self.renderable

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return self.text
