"""Deploying a new version of a service's code into a running simulation: the fix, then re-drive."""

from __future__ import annotations

import pytest

from choreo_lab import Event, HandlerError, Service, Simulation, UnknownService
from choreo_lab import vocabulary as words


class Parcel(Event):
    parcel_id: str
    address: str


class Other(Event):
    parcel_id: str


def courier(version: int) -> Service:
    """Version 1 cannot read an address without a house number; version 2 can."""
    service = Service("courier", {"labels": {}, "version": version}, processing_time=10)

    @service.handles(Parcel)
    def label(event: Parcel, ctx) -> None:
        if version == 1 and not event.address[0].isdigit():
            raise ValueError(f"cannot read the address {event.address!r}")
        ctx.state["labels"][event.parcel_id] = f"v{version}:{event.address}"

    return service


def test_after_a_deploy_waiting_and_redriven_messages_go_to_the_new_code_and_the_state_stays():
    sim = Simulation([courier(1)], max_attempts=2, backoff=1)
    sim.publish(Parcel(parcel_id="p-1", address="1 Main St"))
    sim.publish(Parcel(parcel_id="p-2", address="PO Box 7"))
    sim.run_until_idle()
    assert [letter.envelope.event.parcel_id for letter in sim.dead_letters] == ["p-2"]
    sim.publish(Parcel(parcel_id="p-3", address="Harbour Lane"))
    sim.deploy(courier(2))
    assert sim.redrive() == 1
    sim.run_until_idle()
    assert sim.state("courier")["labels"] == {"p-1": "v1:1 Main St", "p-2": "v2:PO Box 7",
                                              "p-3": "v2:Harbour Lane"}
    assert sim.state("courier")["version"] == 1  # state is kept: only the code changed
    deploys = sim.trace.where(kind=words.DEPLOY)
    assert [(r.service, r.detail) for r in deploys] == [("courier", "new code: label()")]
    assert sim.dead_letters == []


def test_a_deploy_must_handle_the_same_messages():
    sim = Simulation([courier(1)])
    other = Service("courier")
    other.handles(Other)(lambda event, ctx: None)
    with pytest.raises(HandlerError, match="handles the same event types|same messages"):
        sim.deploy(other)
    with pytest.raises(UnknownService):
        sim.deploy(Service("nobody"))
    with pytest.raises(TypeError, match="takes a Service"):
        sim.deploy("courier")  # type: ignore[arg-type]


def test_a_handler_cannot_deploy():
    service = Service("courier")
    sims: list[Simulation] = []

    @service.handles(Parcel)
    def sneaky(event: Parcel, ctx) -> None:
        sims[0].deploy(courier(2))

    sims.append(Simulation([service], max_attempts=1))
    sims[0].publish(Parcel(parcel_id="p-1", address="1 Main St"))
    sims[0].run_until_idle()
    assert "sim.deploy() was called from inside the handler" in sims[0].dead_letters[0].reason
