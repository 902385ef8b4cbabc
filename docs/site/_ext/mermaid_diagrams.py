"""The `mermaid` directive for the course site: the diagram's source in a <pre class="mermaid">,
drawn in the browser by the site's own copy of mermaid (no network)."""

from html import escape

from docutils import nodes
from docutils.parsers.rst import Directive


class MermaidDiagram(Directive):
    """```mermaid fences (myst_fence_as_directive) become a block mermaid.js draws on load."""

    has_content = True
    optional_arguments = 1  # myst may pass the rest of the fence's first line
    final_argument_whitespace = True

    def run(self) -> list[nodes.Node]:
        source = "\n".join(self.content)
        return [nodes.raw("", f'<pre class="mermaid">\n{escape(source)}\n</pre>\n', format="html")]


def setup(app):
    app.add_directive("mermaid", MermaidDiagram)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
