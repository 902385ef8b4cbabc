"""Saga status, service state and the event log render as stable, readable text and HTML."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from choreo_lab import Crash, Kill, Restart, Service, Simulation
from choreo_lab.display import WIDTH, Rendering
from choreo_lab import workflow_status
from choreo_lab.examples.orders import order_system, place_order
from choreo_lab.render import event_log, workflow_table, show, state_tables


def four_orders(**options) -> Simulation:
    sim = order_system(seed=7, **options)
    place_order(sim, "o-1")                          # ships
    place_order(sim, "o-2", item="unicorn")          # out of stock: refunded
    place_order(sim, "o-3", customer="mallory")      # card declined
    place_order(sim, "o-4", address="Atlantis")      # cannot ship: refunded and released
    sim.run_until_idle()
    return sim


def row(text: str, first_cell: str, nth: int = 1) -> list[str]:
    """The cells of the first (or `nth`) table row starting with `first_cell`."""
    return rows(text, first_cell)[nth - 1]


def rows(text: str, first_cell: str) -> list[list[str]]:
    """The cells of every table row starting with `first_cell`."""
    found = []
    for line in text.splitlines():
        cells = [cell.strip() for cell in re.split(r"[│┃]", line)]
        while cells and not cells[0]:
            cells.pop(0)   # outside the table (and its panel)
        while cells and not cells[-1]:
            cells.pop()
        if cells and cells[0] == first_cell:
            found.append(cells)
    assert found, f"no row {first_cell!r} in:\n{text}"
    return found


# -- saga status -------------------------------------------------------------------------------
def test_workflow_table_has_one_row_per_order_with_its_status_and_last_event():
    text = str(workflow_table(four_orders()))
    assert row(text, "o-1")[:3] == ["o-1", "completed", "ShipmentScheduled by shipping"]
    assert row(text, "o-2")[:3] == ["o-2", "compensated", "OrderCancelled by order"]
    assert row(text, "o-3")[:3] == ["o-3", "compensated", "OrderCancelled by order"]
    assert row(text, "o-4")[1] == "compensated"
    assert "compensated: 3  completed: 1" in text


def test_saga_table_counts_messages_and_redeliveries_per_order():
    sim = order_system(seed=7, faults=[Crash(service="payment", times=2)])
    place_order(sim, "o-1")
    sim.run_until_idle()
    cells = row(str(workflow_table(sim)), "o-1")
    assert cells[4:] == ["5", "2"]  # 5 messages in a happy saga; payment crashed twice


def test_saga_table_can_show_chosen_workflows_and_an_empty_run():
    text = str(workflow_table(four_orders(), "o-3"))
    assert row(text, "o-3") and "o-1" not in text
    assert "workflow" in str(workflow_table(order_system(seed=1)))


def test_statuses_are_coloured_in_html():
    html = workflow_table(four_orders()).html
    assert re.search(r'<span style="color: #008000; [^"]*">completed *</span>', html)
    assert re.search(r'<span style="color: #000080; [^"]*">compensated *</span>', html)


# -- service state -----------------------------------------------------------------------------
def test_a_dict_of_dicts_becomes_a_table_with_one_column_per_field():
    text = str(state_tables(four_orders(), ["order"]))
    header = row(text, "key")
    assert header == ["key", "customer", "item", "quantity", "amount", "status", "facts"]
    assert row(text, "o-2")[:6] == ["o-2", "ada", "unicorn", "1", "99", "cancelled"]
    assert "order (up)" in text


def test_flat_dicts_lists_and_lists_of_dicts_are_all_readable():
    text = str(state_tables(four_orders(), ["payment"]))
    assert "declined_customers: mallory" in text
    assert row(text, "o-1") == ["o-1", "12"]                        # charges: key | value
    assert ["o-2", "charge", "99", "2"] in rows(text, "o-2")  # the ledger: per order, its entries


def test_records_kept_per_key_get_a_row_each_under_their_key():
    books = Service("library", {"log": [{"op": "lend", "book": "b-1"}],
                                "loans": {"b-1": [{"who": "ada", "day": 1}, {"who": "bo", "day": 4}],
                                          "b-2": []},
                                "shelves": {"a": [], "b": []}})
    text = str(state_tables(Simulation([books], seed=1)))
    assert row(text, "op") == ["op", "book"] and row(text, "lend") == ["lend", "b-1"]
    assert row(text, "key") == ["key", "who", "day"]
    assert rows(text, "b-1") == [["b-1", "ada", "1"], ["b-1", "bo", "4"]]
    assert rows(text, "b-2") == [["b-2"]]              # no entries yet: an empty row
    assert row(text, "key", 2) == ["key", "value"]     # nothing kept anywhere: key | value
    assert rows(text, "a") == [["a"]]


def test_the_status_of_each_service_is_in_its_panel_title():
    sim = four_orders(faults=[Kill(service="shipping", at=100)])
    sim.run_for(200)
    assert "shipping (down)" in str(state_tables(sim, ["shipping"]))


def test_long_tables_are_cut_with_a_count_of_what_is_left():
    counter = Service("counter", {"seen": {f"k{n}": {"n": n} for n in range(30)}})
    text = str(state_tables(Simulation([counter], seed=1), max_rows=5))
    assert row(text, "k4") and "k5" not in text
    assert "… 25 more" in text


def test_sets_and_objects_are_shown_without_hash_order_or_memory_addresses():
    assert show({"pear", "apple", "fig"}) == "{apple, fig, pear}"
    assert show(object()) == "object"
    assert show({"a": [1, 2], "b": None}) == "a=1, 2, b=None"
    assert show("x" * 100, limit=10) == "x" * 9 + "…"


def test_an_empty_state_says_so():
    quiet = Service("quiet")
    assert "(empty state)" in str(state_tables(Simulation([quiet], seed=1)))


# -- the event log -----------------------------------------------------------------------------
def log_lines(sim: Simulation, workflow: str | None = None) -> list[str]:
    return str(event_log(sim, workflow, max_rows=None)).splitlines()


def what_column(line: str) -> str:
    """The 'what' cell: after the time, before the service (indentation kept)."""
    return line[line.index(" ", line.index(next(c for c in line if c.isdigit()))) + 2:][:30]


def indent(line: str, word: str) -> int:
    return line.index(word)


def test_each_message_is_indented_under_the_delivery_that_caused_it():
    sim = order_system(seed=7)
    place_order(sim, "o-1")
    sim.run_until_idle()
    lines = log_lines(sim, "o-1")
    requested = next(i for i, line in enumerate(lines) if "publish OrderRequested" in line)
    placed = next(i for i, line in enumerate(lines) if "publish OrderPlaced" in line)
    ack = next(i for i, line in enumerate(lines) if " ack " in line and " m1 #1" in line)
    assert requested < ack < placed  # the order service acked m1 and published OrderPlaced
    assert indent(lines[placed], "publish") == indent(lines[requested], "publish") + 2
    assert indent(lines[ack], "ack") == indent(lines[requested], "publish") + 2
    shipped = next(line for line in lines if "publish ShipmentScheduled" in line)
    assert indent(shipped, "publish") == indent(lines[requested], "publish") + 2 * 4


def test_the_log_shows_payloads_and_what_went_wrong():
    sim = order_system(seed=7, max_attempts=2,
                       faults=[Crash(service="shipping"), Kill(service="payment", at=0),
                               Restart(service="payment", at=10)])
    place_order(sim, "o-1")
    sim.run_until_idle()
    text = "\n".join(log_lines(sim, "o-1"))
    assert "order_id=o-1, customer=ada, item=book" in text
    for kind in ("kill", "restart", "crash", "redeliver", "dead-letter"):
        assert re.search(rf"\b{kind}\b", text), kind
    lines = text.splitlines()
    kill = next(i for i, line in enumerate(lines) if re.search(r"\bkill +payment", line))
    restart = next(i for i, line in enumerate(lines) if re.search(r"\brestart +payment", line))
    delivered = next(i for i, line in enumerate(lines) if re.search(r"\bdeliver +payment", line))
    assert kill < restart < delivered
    assert "publish OrderPlaced" in lines[restart - 1]  # placed after what happened before it


def test_kinds_are_coloured_by_outcome_in_html():
    sim = order_system(seed=7, max_attempts=2, faults=[Crash(service="shipping")])
    place_order(sim, "o-1")
    sim.run_until_idle()
    html = event_log(sim).html
    assert '<span style="color: #008000; text-decoration-color: #008000">ack</span>' in html
    assert '<span style="color: #800000; text-decoration-color: #800000">crash</span>' in html
    assert ('<span style="color: #800000; text-decoration-color: #800000; font-weight: bold">'
            'dead-letter</span>') in html
    assert '<span style="color: #808000; text-decoration-color: #808000">redeliver</span>' in html


def test_a_long_log_is_cut_and_says_how_to_see_all():
    text = str(event_log(four_orders(), max_rows=10))
    lines = text.splitlines()
    assert len(lines) == 1 + 10 + 1
    assert re.search(r"… \d+ more rows", lines[-1]) and "max_rows=None" in lines[-1]


def test_an_unknown_workflow_in_the_log_is_refused():
    with pytest.raises(ValueError, match="no workflow 'o-5'"):
        event_log(four_orders(), "o-5")


# -- the same text everywhere ------------------------------------------------------------------
def test_renderings_fit_the_fixed_width_and_carry_no_colour_codes():
    sim = four_orders()
    for rendering in (workflow_table(sim), state_tables(sim), event_log(sim)):
        text = str(rendering)
        assert "\x1b[" not in text
        assert max(len(line) for line in text.splitlines()) <= WIDTH
        assert text == "\n".join(line.rstrip() for line in text.splitlines())


def test_in_a_notebook_a_rendering_is_text_and_self_contained_html():
    bundle = event_log(four_orders())._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "text/html"}
    html = bundle["text/html"]
    assert html.startswith("<pre ") and html.endswith("</pre>")
    assert "<style" not in html and "<body" not in html
    assert not re.search(r" +(</span>)?\n", html), "trailing spaces would wrap in narrow windows"


PRINT_RENDERINGS = """
from choreo_lab import Crash, Kill, Restart
from choreo_lab.examples.orders import order_system, place_order, random_orders
from choreo_lab.render import event_log, workflow_table, state_tables
sim = order_system(seed=5, faults=[Kill(service="payment", at=2), Restart(service="payment", at=30),
                                   Crash(probability=0.1)])
for order in random_orders(12, seed=5):
    place_order(sim, **order)
sim.run_until_idle()
for rendering in (workflow_table(sim), state_tables(sim), event_log(sim)):
    print(rendering.text)
    print(rendering.html)
"""


@pytest.mark.parametrize("environment", [
    {"PYTHONHASHSEED": "1"},
    {"PYTHONHASHSEED": "2", "COLUMNS": "40", "LINES": "10", "NO_COLOR": "1", "TERM": "dumb"},
    {"PYTHONHASHSEED": "3", "FORCE_COLOR": "1", "COLORTERM": "truecolor", "JUPYTER_COLUMNS": "60",
     "TTY_COMPATIBLE": "1", "TTY_INTERACTIVE": "1"},
], ids=["plain", "narrow-no-colour", "forced-colour"])
def test_text_and_html_do_not_depend_on_the_terminal_or_the_hash_seed(environment):
    def run(env: dict[str, str]) -> str:
        return subprocess.run([sys.executable, "-c", PRINT_RENDERINGS], capture_output=True,
                              text=True, check=True, env={"PATH": os.environ["PATH"], **env}).stdout

    baseline = run({"PYTHONHASHSEED": "0"})
    assert run(environment) == baseline
    assert not re.search(r"0x[0-9a-fA-F]{4,}", baseline)


def test_a_rendering_prints_in_colour_through_rich_at_the_terminal_width():
    from rich.console import Console
    from rich.text import Text

    console = Console(record=True, width=30, color_system="standard", force_terminal=True)
    console.print(Rendering(Text("ack", style="green")))
    assert "\x1b[32mack" in console.export_text(styles=True)
