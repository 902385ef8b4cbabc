"""Small helpers for driving a dashboard the way a learner does: clicks and widget values."""

from __future__ import annotations

import html
import re

import ipywidgets as widgets

from choreo_lab import Event, Service, Simulation
from choreo_lab.dashboard import Dashboard


def text(widget_or_html: widgets.HTML | str) -> str:
    """The visible text of an HTML widget (tags dropped, entities decoded, spaces squeezed)."""
    value = widget_or_html if isinstance(widget_or_html, str) else widget_or_html.value
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", value)).split())


def click(dash: Dashboard, label: str, times: int = 1) -> None:
    """Click the dashboard's action button with this label."""
    for _ in range(times):
        dash.controls.action_buttons[label].click()


def card_text(dash: Dashboard, service: str) -> str:
    return text(dash.cards[service].info)


def log_rows(dash: Dashboard) -> list[str]:
    """The event log's rows as text, newest first (header row dropped)."""
    rows = re.findall(r"<tr>(.*?)</tr>", dash.controls.log.value)
    return [text(row) for row in rows[1:]]


# -- tiny systems with learner-style mistakes --------------------------------------------------
class PingSent(Event):
    n: int


class PongSent(Event):
    n: int


def ping_pong_system(seed: int, faults=None) -> Simulation:
    """Two services that answer each other forever: a cycle the runtime stops as runaway."""
    ping, pong = Service("ping"), Service("pong")

    @ping.handles(PongSent)
    def answer_pong(event: PongSent, ctx: object) -> PingSent:
        return PingSent(n=event.n + 1)

    @pong.handles(PingSent)
    def answer_ping(event: PingSent, ctx: object) -> PongSent:
        return PongSent(n=event.n + 1)

    return Simulation([ping, pong], seed=seed, max_chain=30)


class ParcelSent(Event):
    parcel: str


def flaky_system(broken: dict[str, bool]):
    """A courier whose handler raises while ``broken["yes"]`` is True (a learner's bug)."""
    def system(seed: int, faults=None) -> Simulation:
        courier = Service("courier", {"delivered": []})

        @courier.handles(ParcelSent)
        def deliver_parcel(event: ParcelSent, ctx) -> None:
            if broken["yes"]:
                raise KeyError(f"no address for {event.parcel}")
            ctx.state["delivered"].append(event.parcel)

        return Simulation([courier], seed=seed, max_attempts=3, backoff=5)
    return system


def send_parcel(name: str):
    return lambda sim: sim.publish(ParcelSent(parcel=name), correlation_id=name)
