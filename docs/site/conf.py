"""Sphinx configuration of the course's static site (`make site`; docs/site/build.py stages it).

Offline by construction: notebooks are shown with their committed outputs (never executed
here), diagrams are drawn in the reader's browser by the mermaid build served from the
site's own _static/, and the theme loads nothing from elsewhere.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "_ext"))

project = "choreo-lab"
author = "The choreo-lab authors"
extensions = ["myst_nb", "mermaid_diagrams"]
root_doc = "index"
exclude_patterns = ["_build", "**/.ipynb_checkpoints"]

# Notebooks: the outputs committed by `make notebooks`, which nbval checks.
nb_execution_mode = "off"
# A diagram's text/markdown output is a ```mermaid fence: read outputs as MyST, which makes
# that fence the `mermaid` directive (_ext/mermaid_diagrams.py).
nb_render_markdown_format = "myst"
myst_fence_as_directive = ["mermaid"]
suppress_warnings = ["mystnb.unknown_mime_type"]  # text/vnd.mermaid: the fence is drawn instead

html_theme = "alabaster"
html_theme_options = {"show_powered_by": False, "description": "Choreographed coordination, "
                      "run and seen in Jupyter"}
html_title = "choreo-lab: the course"
html_show_sphinx = False
html_show_sourcelink = False
html_copy_source = False
html_static_path = ["_static"]
html_js_files = ["mermaid.min.js", "mermaid-start.js"]
