"""The dashboard's widgets and their layout (what they do is wired in `board`)."""

from __future__ import annotations

from collections.abc import Iterable

import ipywidgets as widgets

from .snapshot import LOG_FILTERS

#: play speeds: label -> virtual ms one tick runs
SPEEDS = (("slow: 1 ms per tick", 1), ("normal: 5 ms per tick", 5),
          ("fast: 20 ms per tick", 20), ("faster: 100 ms per tick", 100))
TICK_INTERVAL = 250  # real ms between two play ticks (4 ticks a second)


def hidden() -> widgets.Layout:
    """A layout that hides its widget (a fresh one each time: widgets sharing one Layout
    would show and hide together)."""
    return widgets.Layout(display="none")


def wrapping() -> widgets.Layout:
    """A row layout that wraps onto the next line when the notebook is narrow."""
    return widgets.Layout(flex_flow="row wrap")


def button(description: str, tooltip: str = "", style: str = "",
           width: str = "auto") -> widgets.Button:
    """A button; `style` is one of ipywidgets' button styles ("danger", "info", ...)."""
    return widgets.Button(description=description, tooltip=tooltip, button_style=style,
                          layout=widgets.Layout(width=width))


def knob(name: str, tooltip: str) -> widgets.FloatSlider:
    """A chaos rate slider: 0 to 50 %, in steps of 5 %."""
    return widgets.FloatSlider(value=0.0, min=0.0, max=0.5, step=0.05, description=name,
                               readout_format=".0%", continuous_update=False, tooltip=tooltip,
                               layout=widgets.Layout(width="250px"))


def heading(text: str, width: str = "auto") -> widgets.HTML:
    """A bold label."""
    return widgets.HTML(f"<b>{text}</b>", layout=widgets.Layout(width=width))


class Controls:
    """Every widget of the dashboard except the service cards, laid out in `root`."""

    def __init__(self, action_labels: Iterable[str], seed: int,
                 speeds: tuple[tuple[str, int], ...] = SPEEDS) -> None:
        self.header = widgets.HTML()
        self.problem_banner = widgets.HTML()
        self.clear_problems_button = button("Clear", width="70px")
        self.problem_box = widgets.HBox([self.problem_banner, self.clear_problems_button],
                                        layout=hidden())
        self.cards_box = widgets.HBox(layout=wrapping())
        self.action_buttons = {label: button(label) for label in action_labels}
        self._run_controls(speeds)
        self._chaos_and_start_controls(seed)
        self.lamp = widgets.HTML()
        self.sagas = widgets.HTML()
        self.dead_letter_list = widgets.HTML()
        self.timer_list = widgets.HTML()
        self.redrive_button = button("Re-drive all dead letters", "Send every dead letter to its "
                                     "service again", "info", width="220px")
        self.log_filter = widgets.Dropdown(options=list(LOG_FILTERS), value="everything",
                                           description="show",
                                           layout=widgets.Layout(width="330px",
                                                                 margin="0 0 0 12px"))
        self.log = widgets.HTML()  # bounded by rows, not by a height that would cut a row
        self.root = self._layout()
        # CSS classes name the parts, for browser tests and for anyone inspecting the page
        for part, name in ((self.root, "dashboard"), (self.header, "header"), (self.log, "log"),
                           (self.sagas, "sagas"), (self.dead_letter_list, "dead-letters"),
                           (self.timer_list, "timers")):
            part.add_class(f"choreo-{name}")

    def _run_controls(self, speeds: tuple[tuple[str, int], ...]) -> None:
        self.step_button = button("Step", "Do the next scheduled thing (a delivery, an ack, "
                                          "a fault)")
        self.run_button = button("Run for", "Advance virtual time by the ms in the box")
        self.run_ms = widgets.BoundedIntText(value=100, min=1, max=1_000_000,
                                             layout=widgets.Layout(width="80px"))
        self.idle_button = button("Run until idle", "Deliver everything that can be delivered now")
        self.play_button = widgets.ToggleButton(value=False, description="▶ Play",
                                                layout=widgets.Layout(width="auto"),
                                                tooltip="Run continuously; click again to pause")
        default = 5 if any(ms == 5 for _, ms in speeds) else speeds[0][1]
        self.speed = widgets.Dropdown(options=speeds, value=default, description="speed",
                                      tooltip="Virtual ms each play tick runs (4 ticks a second)",
                                      layout=widgets.Layout(width="270px"))
        # The clock drives play mode from the browser: see the docstring of `board`.
        self.clock = widgets.Play(value=0, min=0, max=10**9, interval=TICK_INTERVAL,
                                  show_repeat=False, layout=hidden())

    def _chaos_and_start_controls(self, seed: int) -> None:
        self.duplicate_knob = knob("duplicate", "Chance that an ack is lost, so a message "
                                                "comes twice")
        self.delay_knob = knob("delay", "Chance that a delivery arrives 50 ms late")
        self.drop_knob = knob("drop", "Chance that a delivery is lost (it comes again after the "
                                      "ack timeout)")
        self.reset_button = button("Reset", "Start again from nothing with this seed", "primary")
        self.seed_box = widgets.IntText(value=seed, description="seed",
                                        layout=widgets.Layout(width="140px"))
        self.seed_note = widgets.HTML()

    def _layout(self) -> widgets.VBox:
        rows: list[widgets.Widget] = [self.header, self.problem_box, self.cards_box]
        if self.action_buttons:
            rows.append(widgets.HBox([heading("Act", "70px"), *self.action_buttons.values()],
                                     layout=wrapping()))
        rows.append(widgets.HBox([heading("Run", "70px"), self.step_button, self.run_button,
                                  self.run_ms, widgets.HTML("ms"), self.idle_button,
                                  self.play_button, self.speed, self.clock], layout=wrapping()))
        rows.append(widgets.HBox([heading("Chaos", "70px"), self.duplicate_knob, self.delay_knob,
                                  self.drop_knob], layout=wrapping()))
        rows.append(widgets.HBox([heading("Start", "70px"), self.reset_button, self.seed_box,
                                  self.seed_note], layout=wrapping()))
        self.lamp_box = widgets.VBox([heading("Consistency"), self.lamp])
        left = widgets.VBox([self.lamp_box, heading("Dead letters"),
                             self.dead_letter_list, self.redrive_button,
                             heading("Timers (pending, soonest first)"), self.timer_list],
                            layout=widgets.Layout(width="46%", margin="0 12px 0 0"))
        self.sagas_box = widgets.VBox([widgets.HTML(
            "<b>Workflows</b>, latest first: the status each one's <i>events</i> announce; "
            "the lamp checks the services' <i>states</i>"), self.sagas],
            layout=widgets.Layout(width="50%"))
        rows.append(widgets.HBox([left, self.sagas_box]))
        rows.append(widgets.HBox([widgets.HTML("<b>Event log</b> (latest first)"),
                                  self.log_filter]))
        rows.append(self.log)
        return widgets.VBox(rows)
