"""A small ticket-booking saga with a bug that no single fault reveals, for the pair phase.

    customer --TicketRequested--> seats --SeatsHeld--> billing --TicketIssued (completed)

Billing skips a message it has seen twice already, as if a third delivery could only be a
poison message. One lost try is harmless; two lost tries of the same SeatsHeld (a drop, or a
crash before the commit, twice) make billing skip the only delivery left, and the booking
never finishes.
"""

from __future__ import annotations

from choreo_lab import Context, Event, FaultPlan, Service, Simulation
from choreo_lab.consistency import Oracle, Violation


class TicketRequested(Event):
    booking_id: str
    seats: int


class SeatsHeld(Event):
    booking_id: str
    seats: int


class TicketIssued(Event, outcome="completed"):
    booking_id: str


def seats_service() -> Service:
    seats = Service("seats", {"held": {}})

    @seats.handles(TicketRequested, publishes=(SeatsHeld,))
    def hold_seats(event: TicketRequested, ctx: Context) -> list[Event]:
        if event.booking_id not in ctx.state["held"]:
            ctx.state["held"][event.booking_id] = event.seats
        return [SeatsHeld(booking_id=event.booking_id, seats=event.seats)]

    return seats


def billing_service(planted_bug: bool = True) -> Service:
    billing = Service("billing", {"charged": {}})

    @billing.handles(SeatsHeld, publishes=(TicketIssued,))
    def charge_for_seats(event: SeatsHeld, ctx: Context) -> list[Event]:
        if planted_bug and ctx.attempt > 2:
            return []  # BUG: "tried twice already, so it must be poison": the work is never done
        if event.booking_id not in ctx.state["charged"]:
            ctx.state["charged"][event.booking_id] = 20 * event.seats
        return [TicketIssued(booking_id=event.booking_id)]

    return billing


def booking_system(seed: int, faults: FaultPlan) -> Simulation:
    return Simulation([seats_service(), billing_service()], seed=seed, jitter=2, faults=faults)


def two_bookings(sim: Simulation) -> None:
    for booking, seats in (("b-1", 2), ("b-2", 1)):
        sim.publish(TicketRequested(booking_id=booking, seats=seats), correlation_id=booking)


def charged_for_every_held_seat(sim: Simulation):
    """Every booking whose seats are held is charged for exactly those seats."""
    charged = sim.state("billing")["charged"]
    for booking, seats in sim.state("seats")["held"].items():
        if booking in charged and charged[booking] != 20 * seats:
            yield Violation("charged for every held seat", booking,
                            f"charged {charged[booking]} for {seats} seats")


def booking_oracle() -> Oracle:
    return Oracle([charged_for_every_held_seat])
