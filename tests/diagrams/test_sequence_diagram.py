"""Sequence diagrams show what actually happened to a workflow, faults and compensations too."""

from __future__ import annotations

import pytest

from choreo_lab import (
    Crash,
    Delay,
    Drop,
    Duplicate,
    Event,
    Kill,
    Reorder,
    Restart,
    Service,
    Simulation,
)
from choreo_lab.diagrams import DETAIL_LIMIT, sequence_diagram
from choreo_lab.examples.orders import order_system, place_order, random_orders

from .mermaid_rules import parse_sequence

HAPPY_PATH = [
    ("customer", "->>", "order", "OrderRequested"),
    ("order", "->>", "payment", "OrderPlaced"),
    ("payment", "->>", "order", "PaymentCompleted"),
    ("payment", "->>", "inventory", "PaymentCompleted"),
    ("inventory", "->>", "order", "InventoryReserved"),
    ("inventory", "->>", "shipping", "InventoryReserved"),
    ("shipping", "->>", "order", "ShipmentScheduled"),
]


def one_order(order_id: str = "o-1", *, faults=(), max_attempts: int = 5, **order) -> Simulation:
    sim = order_system(seed=7, faults=list(faults), max_attempts=max_attempts)
    place_order(sim, order_id, **order)
    sim.run_until_idle()
    return sim


def inside_rect(diagram) -> list[str]:
    """Texts of the arrows drawn inside a shaded rect."""
    inside, depth = [], 0
    for statement in diagram.statements:
        if statement[0] == "rect":
            depth += 1
        elif statement[0] == "end":
            depth -= 1
        elif statement[0] == "arrow" and depth:
            inside.append(statement[4])
    return inside


# -- one order, nothing going wrong ------------------------------------------------------------
def test_happy_order_has_customer_and_four_services_as_lanes_in_saga_order():
    diagram = parse_sequence(sequence_diagram(one_order(), "o-1").source)
    assert [(kind, label) for kind, label in diagram.lanes.values()] == [
        ("actor", "customer"), ("participant", "order"), ("participant", "payment"),
        ("participant", "inventory"), ("participant", "shipping")]


def test_happy_order_shows_every_delivery_in_the_order_it_happened():
    diagram = parse_sequence(sequence_diagram(one_order(), "o-1").source)
    assert diagram.arrows == HAPPY_PATH
    assert diagram.notes == []
    assert inside_rect(diagram) == []


def test_title_names_the_workflow():
    diagram = parse_sequence(sequence_diagram(one_order(), "o-1").source)
    assert diagram.title == "What happened to o-1"


def test_a_trace_alone_draws_the_same_finished_workflow():
    sim = one_order()
    assert sequence_diagram(sim.trace, "o-1").source == sequence_diagram(sim, "o-1").source


# -- faults ------------------------------------------------------------------------------------
def faulty_order() -> Simulation:
    return one_order(max_attempts=3, faults=[
        Kill(service="inventory", at=1), Restart(service="inventory", at=40),
        Duplicate(service="payment", times=1),
        Drop(service="order", event_type="PaymentCompleted", times=1),
        Delay(service="inventory", event_type="PaymentCompleted", by=5, times=1),
        Crash(service="shipping", point="before_commit"),   # every time: dead-lettered
    ])


def test_kill_and_restart_are_notes_on_the_killed_service_before_it_catches_up():
    diagram = parse_sequence(sequence_diagram(faulty_order(), "o-1").source)
    texts = [s[2] if s[0] == "note" else f"{s[1]}->{s[3]}: {s[4]}"
             for s in diagram.statements if s[0] in ("note", "arrow")]
    killed = texts.index("killed at t=1")
    restarted = texts.index("restarted at t=40")
    first_to_inventory = next(i for i, text in enumerate(texts) if "->inventory:" in text)
    assert killed < restarted < first_to_inventory
    assert (["inventory"], "killed at t=1") in diagram.notes


def test_duplicate_drop_delay_and_redeliveries_are_visible():
    diagram = parse_sequence(sequence_diagram(faulty_order(), "o-1").source)
    arrows = diagram.arrows
    assert (["payment"], "ack lost: it will come again") in diagram.notes
    assert ("payment", "--x", "order", "PaymentCompleted (lost)") in arrows
    assert any(text.startswith("OrderPlaced (again: attempt 2, t=") for _, _, _, text in arrows)
    assert ("payment", "->>", "inventory", "PaymentCompleted<br/>(delayed +5 ms)") in arrows


def test_a_crashing_handler_is_crossed_out_each_time_and_its_dead_letter_noted():
    diagram = parse_sequence(sequence_diagram(faulty_order(), "o-1").source)
    to_shipping = [(kind, text) for _, kind, target, text in diagram.arrows if target == "shipping"]
    assert [kind for kind, _ in to_shipping] == ["-x", "-x", "-x"]
    assert [text.split(", t=")[0] for _, text in to_shipping] == [
        "InventoryReserved", "InventoryReserved (again: attempt 2", "InventoryReserved (again: attempt 3"]
    shipping_notes = [text for lanes, text in diagram.notes if lanes == ["shipping"]]
    assert shipping_notes == ["crashed before commit", "crashed before commit",
                              ("crashed before commit<br/>"
                               "InventoryReserved DEAD-LETTERED after 3 attempts")]


def test_a_nack_reason_is_shown_with_mermaid_syntax_characters_escaped():
    class Asked(Event):
        n: int

    picky = Service("picky")

    @picky.handles(Asked)
    def refuse(event: Asked, ctx) -> None:
        raise ValueError('bad; #1 <b> 50% "x"')

    sim = Simulation([picky], seed=1, max_attempts=1)
    sim.publish(Asked(n=1), correlation_id="w-1")
    sim.run_until_idle()
    # the parser rejects a raw ; # < > % or " in a label
    diagram = parse_sequence(sequence_diagram(sim, "w-1").source)
    assert diagram.arrows == [("outside", "-x", "picky", "Asked")]
    assert diagram.notes[0][1].startswith(
        "nack: ValueError: bad#59; #35;1 #60;b#62; 50#37; #34;x#34;<br/>Asked DEAD-LETTERED")


def test_service_names_that_are_mermaid_keywords_or_have_dashes_get_safe_ids():
    class Sent(Event):
        n: int

    first, second = Service("end"), Service("fan-out")
    first.handles(Sent)(lambda event, ctx: None)
    second.handles(Sent)(lambda event, ctx: None)
    sim = Simulation([first, second], seed=1)
    sim.publish(Sent(n=1), correlation_id="c#1; x")
    sim.run_until_idle()
    diagram = parse_sequence(sequence_diagram(sim, "c#1; x").source)
    assert [label for _, label in diagram.lanes.values()] == ["outside", "end", "fan-out"]
    assert diagram.title == "What happened to c#1; x"


def test_a_message_waiting_for_a_killed_service_is_drawn_as_waiting():
    sim = order_system(seed=0)
    place_order(sim, "o-1")
    sim.run_for(1)
    sim.kill("inventory")
    sim.run_until_idle()
    diagram = parse_sequence(sequence_diagram(sim, "o-1").source)
    assert diagram.arrows[-1] == ("payment", "-->>", "inventory",
                                  "PaymentCompleted<br/>(waiting: inventory is down)")
    assert (["inventory"], "killed at t=1") in diagram.notes
    # a trace alone cannot know who subscribes, so it draws only what happened
    assert "waiting" not in sequence_diagram(sim.trace, "o-1").source


def test_a_message_delayed_and_overtaken_says_so():
    sim = one_order(faults=[Reorder(service="payment", by=20, times=1)])
    arrows = parse_sequence(sequence_diagram(sim, "o-1").source).arrows
    assert ("order", "->>", "payment", "OrderPlaced<br/>(reordered +20 ms)") in arrows


def test_a_delivery_still_being_handled_is_an_open_arrow_that_says_so():
    class Uploaded(Event):
        name: str

    slow = Service("transcoder", processing_time=50)
    slow.handles(Uploaded)(lambda event, ctx: None)
    sim = Simulation([slow], seed=1)
    sim.publish(Uploaded(name="cat.mp4"), correlation_id="u-1")
    sim.run_for(10)
    arrows = parse_sequence(sequence_diagram(sim, "u-1").source).arrows
    assert arrows == [("outside", "-)", "transcoder", "Uploaded<br/>(being handled)")]


def test_an_event_nobody_subscribes_to_and_a_redrive_are_noted():
    class Asked(Event):
        n: int

    class Noticed(Event):
        n: int

    flaky = Service("flaky")
    flaky.handles(Asked)(lambda event, ctx: 1 / 0)
    sim = Simulation([flaky], seed=1, max_attempts=1)
    sim.publish(Asked(n=1), correlation_id="w-1")
    sim.publish(Noticed(n=1), correlation_id="w-1")
    sim.run_until_idle()
    sim.redrive()
    notes = parse_sequence(sequence_diagram(sim, "w-1").source).notes
    assert (["outside"], "nobody subscribes to Noticed yet (kept in the log)") in notes
    expected = ("nack: ZeroDivisionError: division by zero<br/>"
                "Asked DEAD-LETTERED after 1 attempt<br/>"
                "Asked re-driven from the dead letters")
    assert notes[-1] == (["flaky"], expected)


# -- compensations -----------------------------------------------------------------------------
def test_out_of_stock_shades_the_failure_and_the_refund_as_compensation():
    diagram = parse_sequence(sequence_diagram(one_order(item="unicorn"), "o-1").source)
    assert inside_rect(diagram) == ["OutOfStock", "OutOfStock", "PaymentRefunded"]
    assert "compensation after OutOfStock" in [text for _, text in diagram.notes]
    assert ("order", "->>", "payment", "OrderPlaced") in diagram.arrows  # the normal part, unshaded


def test_unshippable_order_shades_shipment_failure_refund_and_release():
    diagram = parse_sequence(sequence_diagram(one_order(address="Atlantis"), "o-1").source)
    assert inside_rect(diagram) == ["ShipmentFailed", "ShipmentFailed", "ShipmentFailed",
                                    "PaymentRefunded", "InventoryReleased"]
    assert ("compensation after ShipmentFailed"
            in [text for _, text in diagram.notes])


def test_declined_payment_is_a_failure_even_with_nothing_to_undo():
    diagram = parse_sequence(sequence_diagram(one_order(customer="mallory"), "o-1").source)
    assert inside_rect(diagram) == ["PaymentDeclined"]


def test_failures_are_what_the_events_declare_whatever_their_names():
    class NoRooms(Event, role="failure"):          # a failure whose name does not say so
        trip: str

    class RoomCancelled(Event):                     # a plain step, whatever its name says
        trip: str

    hotel, travel_desk = Service("hotel"), Service("desk")

    @hotel.handles(RoomCancelled, publishes=(NoRooms,))
    def find_room(event, ctx):
        return NoRooms(trip=event.trip)

    @travel_desk.handles(NoRooms)
    def tell_traveller(event, ctx):
        return None

    sim = Simulation([hotel, travel_desk])
    sim.publish(RoomCancelled(trip="t-1"), correlation_id="t-1")
    sim.run_until_idle()
    diagram = parse_sequence(sequence_diagram(sim, "t-1").source)
    assert inside_rect(diagram) == ["NoRooms"]


# -- several workflows -------------------------------------------------------------------------
def test_a_few_workflows_are_drawn_in_full_with_their_ids_on_each_arrow():
    sim = order_system(seed=7)
    place_order(sim, "o-1")
    place_order(sim, "o-2", item="unicorn")
    sim.run_until_idle()
    diagram = parse_sequence(sequence_diagram(sim, ["o-1", "o-2"]).source)
    texts = [text for _, _, _, text in diagram.arrows]
    assert texts.count("o-1 · OrderRequested") == 1 and texts.count("o-2 · OrderRequested") == 1
    assert "o-2 · PaymentRefunded" in inside_rect(diagram)
    # o-2: requested, placed, paid (to order and inventory), out of stock (to order and
    # payment), refunded
    assert len(diagram.arrows) == len(HAPPY_PATH) + 7


def fifty_orders() -> Simulation:
    sim = order_system(seed=3, faults=[Kill(service="inventory", at=5),
                                       Restart(service="inventory", at=60),
                                       Duplicate(service="payment", probability=0.1),
                                       Crash(service="shipping", probability=0.1)])
    for order in random_orders(50, seed=3):
        place_order(sim, **order)
    sim.run_until_idle()
    return sim


def test_fifty_orders_are_summarised_as_counted_arrows_in_few_lines():
    sim = fifty_orders()
    source = sequence_diagram(sim).source
    diagram = parse_sequence(source)
    assert len(source.splitlines()) < 60
    arrows = {}
    for source, _, target, text in diagram.arrows:
        event_type, count = text.split(" ×")
        arrows[(source, target, event_type)] = int(count)
    assert arrows[("customer", "order", "OrderRequested")] == 50
    assert arrows[("order", "payment", "OrderPlaced")] == 50
    # each count agrees with what the services themselves recorded
    declined = sim.state("payment")["declined"]
    out_of_stock = sim.state("inventory")["out_of_stock"]
    shipped = sim.state("shipping")["shipments"]
    assert arrows[("payment", "order", "PaymentDeclined")] == len(declined) > 0
    assert arrows[("inventory", "payment", "OutOfStock")] == len(out_of_stock) > 0
    assert arrows[("shipping", "order", "ShipmentScheduled")] == len(shipped) > 0
    assert diagram.notes[0][1].startswith("50 workflows summarised (o-1 … o-50)")
    assert (["inventory"], "killed ×1, restarted ×1") in diagram.notes
    assert "PaymentRefunded ×" in " ".join(inside_rect(diagram))
    assert "OrderPlaced ×" not in " ".join(inside_rect(diagram))


def test_summary_counts_faults_beside_the_arrow_they_hit():
    notes = [text for _, text in parse_sequence(sequence_diagram(fifty_orders()).source).notes]
    assert any(text.startswith("ack lost: it will come again ×") for text in notes)
    assert any("crashed before commit ×" in text for text in notes)


def test_more_than_the_detail_limit_is_summarised_unless_asked_otherwise():
    sim = fifty_orders()
    few = [f"o-{n}" for n in range(1, DETAIL_LIMIT + 1)]
    many = [f"o-{n}" for n in range(1, DETAIL_LIMIT + 2)]
    assert "summarised" not in sequence_diagram(sim, few).source
    assert f"{len(many)} workflows summarised" in sequence_diagram(sim, many).source
    assert "summarised" not in sequence_diagram(sim, many, summarise=False).source
    assert "1 workflows summarised" in sequence_diagram(sim, "o-1", summarise=True).source


# -- determinism and errors --------------------------------------------------------------------
def test_same_seed_same_diagram():
    assert sequence_diagram(fifty_orders()).source == sequence_diagram(fifty_orders()).source
    assert sequence_diagram(faulty_order(), "o-1").source == \
        sequence_diagram(faulty_order(), "o-1").source


def test_an_unknown_workflow_is_refused_with_the_known_ones_and_a_guess():
    with pytest.raises(ValueError, match=r"no workflow 'o-9'.*o-1.*Did you mean 'o-1'"):
        sequence_diagram(one_order(), "o-9")


def test_nothing_published_yet_is_refused_with_what_to_do():
    with pytest.raises(ValueError, match="nothing has been published yet"):
        sequence_diagram(order_system(seed=1))


def test_something_that_is_not_a_run_is_refused():
    with pytest.raises(TypeError, match="Simulation or its trace"):
        sequence_diagram("o-1")  # type: ignore[arg-type]
