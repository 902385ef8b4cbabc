"""The broker's picture: topics, who publishes, consumer groups and how far each got."""

from __future__ import annotations

from choreo_lab import Event, Service, Simulation
from choreo_lab.diagrams import broker_diagram

from .mermaid_rules import parse_flowchart


class OrderPlaced(Event):
    order_id: str


class PaymentCompleted(Event):
    order_id: str


def shop() -> Simulation:
    payment, receipts = Service("payment"), Service("receipts")
    payment.handles(OrderPlaced)(lambda event, ctx: PaymentCompleted(order_id=event.order_id))
    receipts.handles(PaymentCompleted)(lambda event, ctx: None)
    return Simulation([payment, receipts], seed=1)


def publish(sim: Simulation, count: int) -> None:
    for n in range(1, count + 1):
        sim.publish(OrderPlaced(order_id=f"o-{n}"), correlation_id=f"o-{n}")


def test_each_group_shows_its_position_in_each_topic_it_reads():
    sim = shop()
    publish(sim, 3)
    sim.kill("receipts")
    sim.run_until_idle()
    chart = parse_flowchart(broker_diagram(sim).source)
    assert chart.title == "The broker at t=" + str(sim.now) + " ms"
    edges = {(chart.nodes[a], label, chart.nodes[b]) for a, _, label, b in chart.edges}
    assert ("topic OrderPlaced<br/>3 kept: m1 m2 m3", "done 3 of 3",
            "payment<br/>group, 1 instance<br/>up") in edges
    assert ("topic PaymentCompleted<br/>3 kept: m4 m5 m6", "done 0 of 3, 3 waiting",
            "receipts<br/>group, 1 instance<br/>down") in edges
    assert ("outside", "publishes", "topic OrderPlaced<br/>3 kept: m1 m2 m3") in edges
    assert ("payment<br/>group, 1 instance<br/>up", "publishes",
            "topic PaymentCompleted<br/>3 kept: m4 m5 m6") in edges


def test_positions_move_as_a_restarted_group_catches_up():
    sim = shop()
    publish(sim, 2)
    sim.kill("receipts")
    sim.run_until_idle()
    sim.restart("receipts")
    sim.run_until_idle()
    labels = [label for _, kind, label, _ in parse_flowchart(broker_diagram(sim).source).edges
              if kind == "-->"]
    assert labels == ["done 2 of 2", "done 2 of 2"]


def test_an_empty_broker_shows_the_subscribed_topics_with_empty_logs():
    chart = parse_flowchart(broker_diagram(shop()).source)
    assert "topic OrderPlaced<br/>empty" in chart.nodes.values()
    assert {label for _, _, label, _ in chart.edges} == {"done 0 of 0"}


def test_a_long_log_lists_its_first_messages_and_counts_them_all():
    sim = shop()
    publish(sim, 9)
    assert "topic OrderPlaced<br/>9 kept: m1 m2 m3 m4 m5 m6 …" in parse_flowchart(
        broker_diagram(sim).source).nodes.values()


def test_the_same_run_draws_the_same_picture():
    def picture() -> str:
        sim = shop()
        publish(sim, 4)
        sim.run_for(3)
        return broker_diagram(sim).source
    assert picture() == picture()
