"""A service card: the service's numbers and its Kill / Pause / Restart (and scale) buttons.

Every button names the service it acts on ("Kill payment", "+ payment instance"): a screen
reader reads the label alone, and a browser test (or a learner) finds the one it means.
"""

from __future__ import annotations

import re

import ipywidgets as widgets

from . import render
from .snapshot import ServiceView


def css_name(name: str) -> str:
    """A CSS-class-safe version of a service name (for tests and browsers to find the card)."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", name)


class ServiceCard:
    """The widgets of one service's card. The dashboard wires the buttons to its methods."""

    def __init__(self, name: str, *, scalable: bool) -> None:
        self.name = name
        self.info = widgets.HTML()
        small = widgets.Layout(width="auto", height="24px", padding="0 5px", margin="1px 2px")
        font = {"font_size": "11px"}
        self.kill_button = widgets.Button(
            description=f"Kill {name}", button_style="danger", layout=small, style=font,
            tooltip=f"Kill {name}: it stops consuming; its messages wait in the backlog")
        self.pause_button = widgets.Button(
            description=f"Pause {name}", button_style="warning", layout=small, style=font,
            tooltip=f"Pause {name}: it finishes what it holds and takes nothing new")
        self.restart_button = widgets.Button(
            description=f"Restart {name}", button_style="success", layout=small, style=font,
            tooltip=f"Restart {name}: it comes back with its committed state, drains its backlog")
        rows: list[widgets.Widget] = [self.info, widgets.HBox(
            [self.kill_button, self.pause_button, self.restart_button],
            layout=widgets.Layout(flex_flow="row wrap"))]
        self.fewer_button = self.more_button = None
        if scalable:
            self.fewer_button = widgets.Button(
                description=f"− {name} instance", layout=small, style=font,
                tooltip=f"Run one instance of {name} fewer")
            self.more_button = widgets.Button(
                description=f"+ {name} instance", layout=small, style=font,
                tooltip=f"Run one more competing instance of {name}")
            rows.append(widgets.HBox([self.fewer_button, self.more_button],
                                     layout=widgets.Layout(flex_flow="row wrap")))
        self.box = widgets.VBox(rows, layout=widgets.Layout(
            width="205px", padding="4px 4px", margin="0 4px 4px 0",
            border=f"2px solid {render.GREY}"))
        self.box.add_class("choreo-card")
        self.box.add_class(f"choreo-card-{css_name(name)}")

    @property
    def buttons(self) -> list[widgets.Button]:
        """This card's buttons, in the order they are shown."""
        return [button for button in (self.kill_button, self.pause_button, self.restart_button,
                                      self.fewer_button, self.more_button) if button is not None]

    def show(self, view: ServiceView) -> None:
        """Update numbers, border colour and which buttons make sense in this status."""
        self.info.value = render.service_card(view)
        border = f"2px solid {render.SERVICE_COLOURS.get(view.status, render.GREY)}"
        if self.box.layout.border != border:
            self.box.layout.border = border
        self.kill_button.disabled = view.status == "down"
        self.pause_button.disabled = view.status == "down"
        verb = "Resume" if view.status == "paused" else "Pause"
        self.pause_button.description = f"{verb} {self.name}"
        self.restart_button.disabled = view.status != "down"
        if self.fewer_button is not None:
            self.fewer_button.disabled = view.instances <= 1
