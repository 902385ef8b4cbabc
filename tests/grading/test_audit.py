"""The ledgers are audited as they are written: an entry once committed is never taken back."""

from __future__ import annotations

from choreo_lab import Event, Service
from choreo_lab.faults import Duplicate
from choreo_lab.grading.audit import AuditedSimulation


class Charge(Event):
    order_id: str


class Charged(Event):
    order_id: str


def payment(after_charge: str) -> Service:
    """A payment service that charges on every delivery, and then does `after_charge` when it
    hears its own Charged: "nothing", "erase" (drops the repeats) or "edit" (halves them)."""
    service = Service("payment", {"ledger": {}})

    @service.handles(Charge, publishes=(Charged,))
    def charge(event: Charge, ctx) -> list[Event]:
        ctx.state["ledger"].setdefault(event.order_id, []).append(
            {"kind": "charge", "amount": 10, "at": ctx.now})
        return [Charged(order_id=event.order_id)]

    @service.handles(Charged)
    def tidy(event: Charged, ctx) -> None:
        entries = ctx.state["ledger"][event.order_id]
        if after_charge == "erase":
            del entries[1:]
        elif after_charge == "edit" and len(entries) > 1:
            entries[1]["amount"] = 0

    return service


def run(after_charge: str) -> AuditedSimulation:
    sim = AuditedSimulation([payment(after_charge)], seed=1,
                            faults=[Duplicate(service="payment", event_type="Charge", times=1)])
    sim.publish(Charge(order_id="o-1"), correlation_id="o-1")
    sim.run_until_idle()
    return sim


def test_a_ledger_that_only_grows_passes_the_audit() -> None:
    sim = run("nothing")
    assert len(sim.state("payment")["ledger"]["o-1"]) == 2  # charged twice: the checks say so
    assert sim.problem is None


def test_an_entry_removed_in_the_same_step_as_it_was_added_is_found() -> None:
    # The repeat's Charged waits for the key of the redelivered Charge, so the erasing handler
    # runs in the very step that committed the second charge.
    sim = run("erase")
    assert sim.state("payment")["ledger"]["o-1"] == [{"kind": "charge", "amount": 10, "at": 1}]
    assert sim.problem is not None and sim.subject == "o-1"
    assert "payment's ledger took an entry back: o-1's dict {'kind': 'charge', 'amount': 10, " \
           "'at': 31} was gone at t=31, while payment handled m" in sim.problem


def test_an_entry_changed_afterwards_is_found() -> None:
    sim = run("edit")
    assert sim.problem is not None
    assert "was changed to dict {'kind': 'charge', 'amount': 0" in sim.problem


def test_an_entry_changed_inside_a_nested_value_by_a_relay_is_found() -> None:
    # A relay changes the committed state itself, in place: the audit must keep copies of
    # what it saw all the way down, or it would compare the changed value with itself.
    service = Service("payment", {"ledger": {}})

    @service.handles(Charge)
    def charge(event: Charge, ctx) -> None:
        ctx.state["ledger"].setdefault(event.order_id, []).append(
            {"kind": "charge", "amount": 10, "at": ctx.now, "card": {"last4": "4242"}})

    @service.relay(every=1)
    def tidy(ctx) -> None:
        for entries in ctx.state["ledger"].values():
            entries[0]["card"]["last4"] = "0000"

    sim = AuditedSimulation([service], seed=1)
    sim.publish(Charge(order_id="o-1"), correlation_id="o-1")
    sim.run_until_idle()
    assert sim.problem is not None and "'last4': '0000'" in sim.problem
    assert "while payment's relay ran" in sim.problem


def test_the_first_problem_of_a_run_is_the_one_kept_and_said_once() -> None:
    from choreo_lab.grading.audit import audited_runs

    inventory = Service("inventory", {"stock": {"book": 5}, "received": {"book": 5},
                                      "reservations": {}, "ledger": {}})

    @inventory.handles(Charge, publishes=(Charged,))
    def note(event: Charge, ctx) -> list[Event]:
        ctx.state["ledger"][event.order_id] = [{"kind": "note", "at": ctx.now}]
        return [Charged(order_id=event.order_id)]

    @inventory.handles(Charged)
    def both_wrong(event: Charged, ctx) -> None:  # stock taken without a reservation, and an
        ctx.state["stock"]["book"] -= 1           # entry taken back, in one commit
        ctx.state["ledger"][event.order_id].clear()

    with audited_runs() as found:
        sim = AuditedSimulation([inventory], seed=1)
        sim.publish(Charge(order_id="o-1"), correlation_id="o-1")
        sim.run_until_idle()
    assert sim.problem is not None and sim.problem.startswith("inventory's stock did not add up")
    assert len(found) == 1 and "stock did not add up" in found[0]


def test_an_inventory_that_drops_a_key_the_stock_audit_reads_is_a_problem_not_a_skip() -> None:
    inventory = Service("inventory", {"stock": {"book": 5}, "received": {"book": 5},
                                      "reservations": {}})

    @inventory.handles(Charge, publishes=(Charged,))
    def drop_received(event: Charge, ctx) -> list[Event]:
        ctx.state["stock"]["book"] -= 1  # taken without a reservation, and the record dropped
        ctx.state.pop("received")
        return [Charged(order_id=event.order_id)]

    sim = AuditedSimulation([inventory], seed=1)
    sim.publish(Charge(order_id="o-1"), correlation_id="o-1")
    sim.run_until_idle()
    assert sim.problem is not None and "had no `received`" in sim.problem


def test_an_inventory_that_starts_without_received_is_audited_against_its_start() -> None:
    inventory = Service("inventory", {"stock": {"book": 5}, "reservations": {}})

    @inventory.handles(Charge, publishes=(Charged,))
    def take_without_reserving(event: Charge, ctx) -> list[Event]:
        ctx.state["stock"]["book"] -= 1
        return [Charged(order_id=event.order_id)]

    sim = AuditedSimulation([inventory], seed=1)
    sim.publish(Charge(order_id="o-1"), correlation_id="o-1")
    sim.run_until_idle()
    assert sim.problem is not None and "but it had received 5" in sim.problem


def rewriting_received(change: str) -> AuditedSimulation:
    """An inventory that takes a book without a reservation and makes `received` match it:
    "lower" (5 -> 4), "drop" (no book in it any more) or "add" (a lamp it never had)."""
    inventory = Service("inventory", {"stock": {"book": 5}, "received": {"book": 5},
                                      "reservations": {}})

    @inventory.handles(Charge, publishes=(Charged,))
    def take_and_rewrite(event: Charge, ctx) -> list[Event]:
        ctx.state["stock"]["book"] -= 1
        if change == "lower":
            ctx.state["received"]["book"] -= 1
        elif change == "drop":
            del ctx.state["received"]["book"]
        else:
            ctx.state["received"]["lamp"] = 0
        return [Charged(order_id=event.order_id)]

    sim = AuditedSimulation([inventory], seed=1)
    sim.publish(Charge(order_id="o-1"), correlation_id="o-1")
    sim.run_until_idle()
    return sim


def test_an_inventory_that_rewrites_received_to_add_up_is_found() -> None:
    said = {"lower": "'book' went from 5 to 4", "drop": "'book' was dropped from it (it was 5)",
            "add": "'lamp' went from not in it to 0"}
    for change, words in said.items():
        sim = rewriting_received(change)
        assert sim.problem is not None, change
        assert sim.problem.startswith("inventory's state['received'] changed at t="), sim.problem
        assert words in sim.problem and "while inventory handled m1 (Charge)" in sim.problem


def test_received_left_as_it_started_is_no_problem() -> None:
    inventory = Service("inventory", {"stock": {"book": 5}, "received": {"book": 5},
                                      "reservations": {}})

    @inventory.handles(Charge, publishes=(Charged,))
    def reserve(event: Charge, ctx) -> list[Event]:
        ctx.state["stock"]["book"] -= 1
        ctx.state["reservations"][event.order_id] = {"item": "book", "quantity": 1}
        return [Charged(order_id=event.order_id)]

    sim = AuditedSimulation([inventory], seed=1)
    sim.publish(Charge(order_id="o-1"), correlation_id="o-1")
    sim.run_until_idle()
    assert sim.problem is None
