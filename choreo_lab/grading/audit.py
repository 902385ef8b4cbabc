"""The order saga's records, audited as they are written, not only at the end of a run.

The outcome checks and the order oracle read the services' states when a run is over. Two
things must hold at every moment, though, and a service that broke them and mended the
damage later (from another handler, or from a relay) would look right at the end:

- a ledger records what happened, so a service only ever adds to it (one that charged an
  order twice and then removed the second charge still charged it twice);
- the inventory's stock is conserved: on the shelf + reserved - released == received, per
  item (one that took stock twice for an order and put the extra back later had refused
  other orders meanwhile);
- `received`, the record of the stock that came in, stays as the run started it: no service
  of the saga receives stock, so the books the stock audit trusts do not change (one that
  lowered `received` while it held stock taken twice would add up).

`AuditedSimulation` checks them after every commit and every step, and remembers the first
problem, and what ran when it appeared. A check that passed on how its runs ended still fails
if one of its runs had such a problem (`audited_runs`, used by the judge): the check's own
message, about the end of a run, comes first when both are wrong.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from ..envelope import Delivery
from ..simulation import Simulation
from ..state import StateChanges, copy_state
from ..text import describe_value
from .feedback import explain
from .tasks import Failed

#: The services of the order saga that keep a ledger: {order_id: [entry, ...]} in "ledger".
LEDGER_KEEPERS = ("payment", "inventory")

STOCK_HINT = ("take stock from the shelf only with a reservation for the order in "
              "state['reservations'] (once per order), and put back only what "
              "state['released'] records.")

#: What the stock audit reads from the inventory's state, each a dict. `released` too, when the
#: inventory starts with it (exercise 1's cell does not: nothing is released there yet).
STOCK_BOOKS = ("stock", "received", "reservations")

BOOKS_HINT = ("keep every key the cell you started from gives the inventory's state (stock, "
              "received, reservations, and released where it has one), each a dict, for the "
              "whole run: add to them, never drop or replace one. The checks read them to see "
              "that stock is taken once per order.")

RECEIVED_HINT = ("leave state['received'] as the cell you started from sets it: it records "
                 "the stock that came into the warehouse, and none comes in during the saga. "
                 "Take and put back stock in state['stock'], with a record in "
                 "state['reservations'] or state['released'].")

TAKEN_BACK_HINT = ("a ledger records what happened: add entries, never remove or change one. "
                   "To keep a repeat out, do not add it (remember which orders you handled).")


#: The problems the runs of the check now being judged found (see `audited_runs`).
_collected: list[str] | None = None


@contextlib.contextmanager
def audited_runs() -> Iterator[list[str]]:
    """Collect, as feedback, the first problem of each audited run made inside the block."""
    global _collected
    outer, _collected = _collected, []
    try:
        yield _collected
    finally:
        _collected = outer


def expect_runs_kept_records(found: list[str]) -> None:
    """Fail with the first problem the check's runs found (nothing if none)."""
    if found:
        raise Failed(found[0])


class AuditedSimulation(Simulation):
    """A `Simulation` that checks, after every commit of a handler and after every step (a
    relay's run is one), that no ledger entry was taken back and the stock adds up.

    `problem` is the first problem found (None while there is none), `hint` how to avoid it
    and `subject` the order it is about, if any. Cost per check: the two services' records,
    a handful of entries in a check's run.
    """

    def __init__(self, *args: Any, **options: Any) -> None:
        self.problem: str | None = None
        self.hint = ""  # how to keep what `problem` says
        self.subject: str | None = None
        self._kept: dict[tuple[str, Any], list[Any]] = {}  # (service, order) -> entries seen
        super().__init__(*args, **options)
        self._books: tuple[str, ...] = STOCK_BOOKS  # what the stock audit reads, kept all run
        self._received: dict[Any, Any] | None = None  # what came in, if the state has no record
        self._received_at_start: dict[Any, Any] | None = None  # the state's record, kept as is
        if "inventory" in self.services:
            started = self.state("inventory")
            if isinstance(started, dict):
                self._books = tuple(key for key in (*STOCK_BOOKS, "released")
                                    if key in started or key in ("stock", "reservations"))
                if isinstance(started.get("received"), dict):
                    self._received_at_start = copy_state(started["received"])
                if "received" not in started:
                    # An inventory that keeps no goods-in record is still audited: what came
                    # in is what it started with, on the shelf and held. (Dropping a key it
                    # started with, later, is a problem said below.)
                    held = held_stock(dict(started, received={}))
                    if isinstance(started.get("stock"), dict) and held is not None:
                        self._received = {item: count + held.get(item, 0)
                                          for item, count in started["stock"].items()}
            self._check_stock("at the start of the run")

    def _commit_state(self, running: Any, delivery: Delivery,
                      saved: StateChanges | None) -> None:
        # One step may commit several handlers (a message that waited for its key is handled
        # as soon as the one before is acked), so each commit is audited on its own.
        super()._commit_state(running, delivery, saved)
        envelope = delivery.envelope
        self._audit(running.name, f"while {running.name} handled {envelope.message_id} "
                                  f"({envelope.event_type})")

    def step(self) -> bool:
        stepped = super().step()
        for service in LEDGER_KEEPERS:
            if service in self.services and self.problem is None:
                self._audit(service, self._outside_handlers(service))
        return stepped

    def _found(self, problem: str, hint: str, subject: str | None) -> None:
        """Keep the run's first problem, and hand it, as feedback, to the check being judged."""
        self.problem, self.hint, self.subject = problem, hint, subject
        if _collected is not None:
            from .scenarios import excerpt_heading, shown_records  # scenarios builds on this
            excerpt = ([excerpt_heading(subject), *shown_records(self.trace, subject)[:15]]
                       if subject is not None else [])
            _collected.append(explain(
                f"Each run ended as it should, but during one (simulation seed {self.seed}) "
                f"{problem}", hint, self.faults, excerpt, "" if self.outbox else "outbox=False"))

    def _outside_handlers(self, service: str) -> str:
        """Who changed a ledger between commits: the service's relay, if it has one."""
        if self.definition(service).outbox_relay is not None:
            return f"while {service}'s relay ran"
        return f"outside {service}'s handlers (by code that kept hold of its committed state)"

    def _audit(self, service: str, what_ran: str) -> None:
        if self.problem is not None or service not in LEDGER_KEEPERS or service not in self.services:
            return
        if service == "inventory":
            self._check_stock(what_ran)
            if self.problem is not None:
                return  # the run's first problem is the one said
        ledger = self.state(service).get("ledger")
        if not isinstance(ledger, dict):
            return  # a ledger of another shape is named by the checks that read it
        seen_before = [key for (name, key) in self._kept if name == service]
        # in a fixed order (not a set's), so that the same run reports the same entry
        for order_id in dict.fromkeys([*seen_before, *ledger]):
            if self._taken_back(service, order_id, ledger.get(order_id, []), what_ran):
                return

    def _check_stock(self, what_ran: str) -> None:
        """Say the first item whose stock does not add up (the inventory's own words)."""
        state = self.state("inventory")
        missing = missing_books(state, self._books)
        if missing:
            self._found(f"inventory's state had no {said(missing)} (as a dict) at t={self.now}, "
                        f"{what_ran}. The checks read {said(self._books)} to see that the "
                        "stock adds up (on the shelf + reserved - released == received, per "
                        "item), so without them they cannot tell whether stock was taken "
                        "twice.", BOOKS_HINT, None)
            return
        if self._received is not None:
            state = dict(state, received=self._received)
        elif self._received_changed(state["received"], what_ran):
            return
        held = held_stock(state)
        if held is None:
            self._found(f"inventory's state['reservations'] or state['released'] held a record "
                        f"that is not {{'item': ..., 'quantity': <an int>}} at t={self.now}, "
                        f"{what_ran}. The checks read these records to see that the stock adds "
                        "up, so they cannot tell whether stock was taken twice.", BOOKS_HINT,
                        None)
            return
        for item, received in state["received"].items():
            on_shelf = state["stock"].get(item, 0)
            if on_shelf + held.get(item, 0) != received:
                self._found(f"inventory's stock did not add up at t={self.now}, {what_ran}: "
                            f"{on_shelf} x {item} on the shelf and {held.get(item, 0)} "
                            f"reserved (and not released), but it had received {received}.",
                            STOCK_HINT, None)
                return

    def _received_changed(self, received: dict[Any, Any], what_ran: str) -> bool:
        """True (and `problem` said) if the inventory's `received` is not what it started as."""
        started = self._received_at_start
        if started is None or received == started:
            return False
        item = next(item for item in (*started, *received)
                    if item not in started or item not in received
                    or received[item] != started[item])
        if item not in received:
            change = f"{shown(item)} was dropped from it (it was {shown(started[item])})"
        else:
            was = shown(started[item]) if item in started else "not in it"
            change = f"{shown(item)} went from {was} to {shown(received[item])}"
        self._found(f"inventory's state['received'] changed at t={self.now}, {what_ran}: "
                    f"{change}. It records the stock that came in, and none comes in during "
                    "the saga; the checks read it to see that the stock adds up (on the shelf "
                    "+ reserved - released == received, per item), so it must stay as it "
                    "started.", RECEIVED_HINT, None)
        return True

    def _taken_back(self, service: str, order_id: Any, entries: Any, what_ran: str) -> bool:
        """Record `entries` as seen; True (and `problem` said) if one seen before is gone."""
        if not isinstance(entries, list):
            return False
        seen = self._kept.get((service, order_id), [])
        for index, entry in enumerate(seen):
            if index >= len(entries) or entries[index] != entry:
                now = (f"changed to {describe_value(entries[index], 80)}"
                       if index < len(entries) else "gone")
                self._found(f"{service}'s ledger took an entry back: {order_id}'s "
                            f"{describe_value(entry, 80)} was {now} at t={self.now}, "
                            f"{what_ran}.", TAKEN_BACK_HINT,
                            order_id if isinstance(order_id, str) else None)
                return True
        self._kept[(service, order_id)] = copy_state(entries)  # entries are plain data
        return False


def missing_books(state: Any, books: tuple[str, ...] = STOCK_BOOKS) -> list[str]:
    """The keys of `books` an inventory's state lacks (or keeps as something not a dict)."""
    if not isinstance(state, dict):
        return list(books)
    return [key for key in books if not isinstance(state.get(key), dict)]


def shown(value: Any) -> str:
    """A key or count of `received` as the learner wrote it: 'book', 98, else its type too."""
    return repr(value) if type(value) in (str, int) else describe_value(value, 40)


def said(keys: Any) -> str:
    """e.g. "`received` and `reservations`"."""
    named = [f"`{key}`" for key in keys]
    return named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]


def held_stock(state: dict[str, Any]) -> dict[str, int] | None:
    """Per item, the quantity reserved and not released, from an inventory's state; None if
    the state has no `stock`, `received` and `reservations` of the saga's shape."""
    stock, received, reservations = (state.get(key) for key in ("stock", "received",
                                                                 "reservations"))
    released = state.get("released", {})
    if not all(isinstance(part, dict) for part in (stock, received, reservations, released)):
        return None
    held: dict[str, int] = {}
    for records, sign in ((reservations, 1), (released, -1)):
        for record in records.values():
            if not (isinstance(record, dict) and type(record.get("quantity")) is int):
                return None
            item = record.get("item")
            held[item] = held.get(item, 0) + sign * record["quantity"]
    return held

