"""Diagrams display offline in JupyterLab and Notebook 7 as exactly three MIME types, the same on
every run."""

from __future__ import annotations

import re
import subprocess
import sys

from IPython.core.formatters import DisplayFormatter

from choreo_lab.diagrams import sequence_diagram, topology
from choreo_lab.display import Diagram
from choreo_lab.examples.orders import order_services, order_system, place_order

# Builds every kind of diagram from a seeded run with faults and prints them.
PRINT_DIAGRAMS = """
from choreo_lab import Crash, Duplicate, Kill, Restart
from choreo_lab.diagrams import sequence_diagram, topology
from choreo_lab.examples.orders import order_services, order_system, place_order, random_orders
sim = order_system(seed=5, faults=[Kill(service="payment", at=2), Restart(service="payment", at=30),
                                   Duplicate(probability=0.2), Crash(probability=0.1)])
for order in random_orders(20, seed=5):
    place_order(sim, **order)
sim.run_until_idle()
print(sequence_diagram(sim))
print(sequence_diagram(sim, ["o-1", "o-2", "o-3"]))
print(topology(order_services(), outside="customer"))
"""


def test_a_diagram_offers_a_mermaid_fence_the_mermaid_type_and_plain_text():
    sim = order_system(seed=1)
    place_order(sim, "o-1")
    sim.run_until_idle()
    diagram = sequence_diagram(sim, "o-1")
    expected = {"text/markdown": f"```mermaid\n{diagram.source.rstrip()}\n```\n",
                "text/vnd.mermaid": diagram.source, "text/plain": diagram.source}
    assert diagram._repr_mimebundle_() == expected
    data, _ = DisplayFormatter().format(diagram)  # what IPython puts in the notebook
    assert data == expected


def test_the_markdown_fence_outgrows_any_backticks_in_the_source():
    diagram = Diagram("flowchart TB\n\ta[\"``` and ````\"] --> b\n")
    assert diagram.markdown.startswith("`````mermaid\nflowchart TB\n")
    assert diagram.markdown.endswith("--> b\n`````\n")


def test_a_diagram_has_no_html_that_would_add_a_mime_type():
    diagram = topology(order_services())
    assert not hasattr(diagram, "_repr_html_")
    assert not hasattr(diagram, "_repr_markdown_")  # the bundle says it all, once


def test_printing_a_diagram_prints_its_mermaid_source():
    diagram = Diagram("flowchart TB\n\ta --> b\n")
    assert str(diagram) == diagram.source
    assert repr(diagram) == "Diagram(2 lines of Mermaid)"


def test_diagrams_are_identical_across_processes_and_hash_seeds():
    outputs = set()
    for hash_seed in ("0", "1", "12345"):
        result = subprocess.run([sys.executable, "-c", PRINT_DIAGRAMS], capture_output=True,
                                text=True, check=True, env={"PYTHONHASHSEED": hash_seed})
        outputs.add(result.stdout)
    assert len(outputs) == 1
    assert "sequenceDiagram" in outputs.pop()


def test_diagram_text_holds_no_memory_addresses_or_object_reprs():
    text = subprocess.run([sys.executable, "-c", PRINT_DIAGRAMS], capture_output=True, text=True,
                          check=True).stdout
    assert not re.search(r"0x[0-9a-fA-F]{4,}|<[a-zA-Z_.]+ object", text)
