"""The topology flowchart shows, from the handlers alone, who publishes what and who reacts."""

from __future__ import annotations

import pytest

from choreo_lab import Event, Service
from choreo_lab.diagrams import topology
from choreo_lab.examples.orders import order_services, order_system

from .mermaid_rules import parse_flowchart

# Read off the saga's description (examples/orders.py docstring), one pair per arrow.
ORDER_SAGA_EDGES = {
    ("customer", "OrderRequested"), ("OrderRequested", "order"), ("order", "OrderPlaced"),
    ("OrderPlaced", "payment"),
    ("payment", "PaymentCompleted"), ("payment", "PaymentDeclined"), ("payment", "PaymentRefunded"),
    ("PaymentCompleted", "inventory"),
    ("inventory", "InventoryReserved"), ("inventory", "OutOfStock"),
    ("inventory", "InventoryReleased"),
    ("InventoryReserved", "shipping"),
    ("shipping", "ShipmentScheduled"), ("shipping", "ShipmentFailed"),
    ("OutOfStock", "payment"), ("ShipmentFailed", "payment"), ("ShipmentFailed", "inventory"),
    ("order", "OrderCancelled"),
    # the order service follows every step to keep its own view of the order
    *{(event, "order") for event in (
        "PaymentCompleted", "PaymentDeclined", "InventoryReserved", "OutOfStock",
        "ShipmentScheduled", "ShipmentFailed", "PaymentRefunded", "InventoryReleased")},
}
FAILURES = ["PaymentDeclined", "OutOfStock", "ShipmentFailed"]
COMPENSATIONS = ["PaymentRefunded", "InventoryReleased", "OrderCancelled"]


def order_chart():
    return parse_flowchart(topology(order_services(), outside="customer").source)


def test_every_service_and_event_of_the_order_saga_is_a_node():
    labels = set(order_chart().nodes.values())
    assert {"order", "payment", "inventory", "shipping", "customer"} <= labels
    assert {"OrderRequested", "OrderPlaced", "PaymentCompleted", "InventoryReserved",
            "ShipmentScheduled", *FAILURES, *COMPENSATIONS} <= labels
    assert len(labels) == 5 + 11


def test_every_publish_and_every_reaction_of_the_order_saga_is_an_edge_once():
    chart = order_chart()
    assert chart.edge_labels() == ORDER_SAGA_EDGES
    assert len(chart.edges) == len(ORDER_SAGA_EDGES)  # PaymentRefunded has two handlers, one edge


def test_reactions_are_labelled_with_the_handler_that_runs():
    chart = order_chart()
    labelled = {(chart.nodes[a], label, chart.nodes[b]) for a, _, label, b in chart.edges if label}
    assert ("PaymentCompleted", "reserve_stock", "inventory") in labelled
    assert ("ShipmentFailed", "release_stock", "inventory") in labelled
    assert ("OutOfStock", "refund_out_of_stock", "payment") in labelled


def assert_edge_styles(chart) -> None:
    """Failure edges dotted red, compensation edges dotted orange, every other edge plain."""
    for number, (origin, kind, _, end) in enumerate(chart.edges):
        touches = {chart.nodes[origin], chart.nodes[end]}
        if touches & set(FAILURES):
            assert kind == "-.->" and "#c0392b" in chart.link_styles[number]
        elif touches & set(COMPENSATIONS):
            assert kind == "-.->" and "#d68910" in chart.link_styles[number]
        else:
            assert kind == "-->" and number not in chart.link_styles


def test_failures_and_compensations_have_their_own_node_and_edge_styles():
    chart = order_chart()
    by_label = {label: ident for ident, label in chart.nodes.items()}
    assert sorted(chart.nodes[i] for i in chart.classes["failure"]) == sorted(FAILURES)
    assert sorted(chart.nodes[i] for i in chart.classes["compensation"]) == sorted(COMPENSATIONS)
    assert_edge_styles(chart)
    assert by_label["customer"] in chart.classes["outside"]


def test_events_nobody_publishes_come_from_outside_by_default():
    chart = parse_flowchart(topology(order_services()).source)
    assert ("outside", "OrderRequested") in chart.edge_labels()


def test_roles_come_from_declarations_not_from_names_or_reactions():
    class NoSeats(Event, role="failure"):
        trip: str

    class SeatHeld(Event):  # published in reaction to a failure, yet a plain step
        trip: str

    airline = Service("airline")

    @airline.handles(NoSeats, publishes=(SeatHeld,))
    def hold_another_seat(event, ctx):
        return SeatHeld(trip=event.trip)

    chart = parse_flowchart(topology([airline]).source)
    assert [chart.nodes[i] for i in chart.classes["failure"]] == ["NoSeats"]
    assert "compensation" not in chart.classes


def test_odd_service_names_become_safe_node_ids():
    class Tick(Event):
        n: int

    first, second = Service("end"), Service("consumer-0")
    first.handles(Tick)(lambda event, ctx: None)
    second.handles(Tick)(lambda event, ctx: None)
    chart = parse_flowchart(topology([first, second]).source)
    assert {("Tick", "end"), ("Tick", "consumer-0")} <= chart.edge_labels()


def test_the_same_definitions_give_the_same_text():
    assert topology(order_services()).source == topology(order_services()).source


def test_a_simulation_is_refused_with_what_to_pass_instead():
    with pytest.raises(TypeError, match=r"pass the services you built it from"):
        topology(order_system(seed=1))  # type: ignore[arg-type]


def test_things_that_are_not_services_are_refused():
    with pytest.raises(TypeError, match="takes Service definitions, got str"):
        topology(["payment"])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="at least one service"):
        topology([])


# -- hide=: a service that follows along keeps only the reactions that publish something --------
def test_hide_drops_the_arrows_into_handlers_that_publish_nothing():
    services = order_services()
    chart = parse_flowchart(topology(services, outside="customer", hide=["order"]).source)
    order = next(s for s in services if s.name == "order")
    quiet = {name for name, handling in order.handlers.items() if not handling.publishes}
    assert quiet  # the order service does follow along: the test must be able to fail
    expected = ORDER_SAGA_EDGES - {(event, "order") for event in quiet}
    assert chart.edge_labels() == expected
    assert ("OrderRequested", "order") in chart.edge_labels()  # it publishes OrderPlaced
    assert ("order", "OrderCancelled") in chart.edge_labels()
    assert chart.title.endswith("; order: only the reactions that publish")


def test_hide_keeps_every_node_and_the_edge_styles_in_step():
    chart = parse_flowchart(topology(order_services(), outside="customer", hide=["order"]).source)
    assert set(chart.nodes.values()) == set(order_chart().nodes.values())
    assert_edge_styles(chart)


def test_hide_accepts_one_name_and_leaves_other_services_alone():
    one = parse_flowchart(topology(order_services(), hide="order").source)
    listed = parse_flowchart(topology(order_services(), hide=("order",)).source)
    assert one.edge_labels() == listed.edge_labels()
    everything = parse_flowchart(topology(order_services()).source).edge_labels()
    assert {edge for edge in everything if edge[1] != "order"} <= one.edge_labels()


def test_hide_with_an_unknown_service_says_which_names_exist():
    with pytest.raises(ValueError, match=r"no service is named 'ordr'.*order, payment"):
        topology(order_services(), hide=["ordr"])


# -- direction=: a star (an orchestrator's many messages) reads better left to right ------------
def test_direction_lays_the_flow_out_left_to_right_and_keeps_every_edge():
    down = topology(order_services(), outside="customer")
    across = topology(order_services(), outside="customer", direction="LR")
    assert "flowchart TB" in down.source and "flowchart TB" not in across.source
    assert "flowchart LR" in across.source
    assert parse_flowchart(across.source).edge_labels() == ORDER_SAGA_EDGES


def test_an_unknown_direction_says_which_ones_there_are():
    with pytest.raises(ValueError, match=r"'TB' \(top to bottom\) or 'LR'.*got 'down'"):
        topology(order_services(), direction="down")
