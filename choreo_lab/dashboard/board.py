"""The dashboard: ipywidgets over a running simulation, every button also a plain method.

Play mode uses an ipywidgets `Play` widget as the clock: the browser advances its value
every `interval` ms and each change runs one tick (`run_for(speed)`) in the kernel. Why
that and not an asyncio task on the kernel's loop: no background task or thread exists,
so nothing can print into another cell; ticks are ordinary widget messages, so other cells
run in between; stopping is setting `playing` to False; and a test drives play exactly by
changing the clock's value. (The cost: while a long cell runs, ticks wait and then arrive
together.)

Errors in a learner's code never escape a button: a handler that raises is retried and
dead-lettered by the runtime (it shows in the log and the dead-letter list); anything that
escapes a run (`RunawayError`, an invariant that raises) is shown in the problem banner
and kept in `dashboard.problems`. The plain methods raise only for their caller's own
mistakes (a misspelt service name), before anything runs.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

import ipywidgets as widgets

from ..errors import RunawayError, UnknownService
from ..faults import FaultPlan
from ..simulation import Simulation
from ..story import declared_outcomes, workflow_status
from ..text import describe_error, describe_value, plural
from . import render
from .cards import ServiceCard
from .chaos_knobs import chaos_plan, inject_chaos
from .controls import SPEEDS, Controls
from .snapshot import (
    ConsistencyOracle,
    LagHistory,
    LogBook,
    Snapshot,
    WorkflowStatuses,
    take_snapshot,
)
from .views import View, ViewPanel

T = TypeVar("T")
Action = Callable[[Simulation], object]


def workflow_statuses(sim: Simulation) -> dict[str, str]:
    """Every workflow's status, derived from the declared roles of its events."""
    return {workflow: workflow_status(sim, workflow) for workflow in sim.trace.correlation_ids()}


def takes_two(function: Callable[..., Any]) -> bool:
    """Can `function` be called as function(seed, faults)?"""
    try:
        inspect.signature(function).bind(0, None)
    except TypeError:
        return False
    except ValueError:
        return True  # no signature to read: let the call tell
    return True


class Dashboard:
    """A live view of a simulation with controls: kill and restart services, run, play, chaos.

    - `system(seed, faults)` builds the simulation (called again by Reset, with the seed
      box's value); the same kind of function the chaos explorer takes.
    - `oracle`: anything with `check(sim)` returning a consistency report (the lamp).
    - `workflows(sim)`: workflow id -> status, shown per workflow. By default the status
      derived from the events' declared roles (running / compensating / completed /
      compensated / stuck), if the system declares outcomes.
    - `actions`: button label -> function of the simulation (e.g. start a workflow).
    - `scalable`: services that get instance buttons (default: those starting with more
      than one instance).
    - `views`: panel title -> function of the simulation returning what to show (a chart,
      HTML, text), redrawn when virtual time moves (see `dashboard.views`).
    - `speeds`: the play speeds offered, (label, virtual ms per tick) pairs, 4 ticks a
      second (default `controls.SPEEDS`, 1 to 100 ms a tick); a slow system can offer
      minutes a tick.

    Display it as the last line of a cell. Every control is also a method (`kill`, `step`,
    `run_until_idle`, `set_chaos`, ...), so a notebook or a test can drive it without clicks;
    the widgets themselves are in `dashboard.controls` and `dashboard.cards`, and
    `dashboard.button("Kill payment")` finds any button by its label.
    """

    def __init__(self, system: Callable[[int, FaultPlan], Simulation], *, seed: int = 0,
                 oracle: ConsistencyOracle | None = None, workflows: WorkflowStatuses | None = None,
                 actions: Mapping[str, Action] | None = None, scalable: Iterable[str] | None = None,
                 views: Mapping[str, View] | None = None,
                 title: str = "choreo-lab dashboard",
                 speeds: Iterable[tuple[str, int]] | None = None) -> None:
        if isinstance(system, Simulation) or not callable(system) or not takes_two(system):
            raise TypeError("Dashboard takes a function that builds the simulation from a seed "
                            "and a fault plan (Reset calls it again), e.g. Dashboard(lambda "
                            "seed, faults: Simulation(services, seed=seed, faults=faults)); got "
                            f"{describe_value(system)}")
        self.system = system
        self.oracle = oracle
        self.workflows = workflows
        self.actions: dict[str, Action] = dict(actions or {})
        self.scalable = None if scalable is None else list(scalable)
        self.title = title
        #: errors raised by learner code during actions and refreshes, oldest first
        self.problems: list[str] = []
        self.last_action = ""
        self.cards: dict[str, ServiceCard] = {}
        chosen = SPEEDS if speeds is None else tuple((str(label), ms) for label, ms in speeds)
        if not chosen or any(type(ms) is not int or ms < 1 for _, ms in chosen):
            raise ValueError("speeds are (label, virtual ms per tick) pairs with whole ms >= 1, "
                             f"e.g. [('1 min per tick', 60_000)]; got {speeds!r}")
        self.controls = Controls(self.actions, seed, chosen)
        self.views = [ViewPanel(name, view) for name, view in (views or {}).items()]
        self.controls.root.children = (*self.controls.root.children,
                                       *(panel.box for panel in self.views))
        self.widget = self.controls.root
        self._wire()
        self._start(seed)

    def _wire(self) -> None:
        c = self.controls
        c.clear_problems_button.on_click(self._button(self.clear_problems))
        for label, button in c.action_buttons.items():
            button.on_click(self._button(self.act, label))
        c.step_button.on_click(self._button(self.step))
        c.run_button.on_click(self._button(lambda: self.run_for(c.run_ms.value)))
        c.idle_button.on_click(self._button(self.run_until_idle))
        c.reset_button.on_click(self._button(self.reset))
        c.redrive_button.on_click(self._button(self.redrive))
        widgets.link((c.play_button, "value"), (c.clock, "playing"))
        c.play_button.observe(self._guarded(self._on_play), "value")
        c.clock.observe(self._guarded(self._on_clock), "value")
        for knob in (c.duplicate_knob, c.delay_knob, c.drop_knob):
            knob.observe(self._guarded(self._on_chaos), "value")
        c.log_filter.observe(self._guarded(lambda change: self.refresh()), "value")

    def _start(self, seed: int) -> None:
        sim = self.system(seed, FaultPlan())
        if not isinstance(sim, Simulation):
            raise TypeError(f"the dashboard's system({seed!r}, faults) must return a Simulation, "
                            f"got {describe_value(sim)}; e.g. lambda seed, faults: "
                            "Simulation(services, seed=seed, faults=faults)")
        self.sim = sim
        if self.workflows is None and declared_outcomes(sim):
            self.workflows = workflow_statuses
        self._base_faults = sim.faults
        self._logbook = LogBook(sim.trace)
        self._lags = LagHistory()
        inject_chaos(sim, self._base_faults, self._chaos_knobs())
        self._make_cards()
        # A panel with nothing to say is hidden rather than shown with advice for authors
        self.controls.lamp_box.layout.display = "none" if self.oracle is None else "flex"
        self.controls.sagas_box.layout.display = "none" if self.workflows is None else "flex"
        self.refresh()

    def _make_cards(self) -> None:
        stats = self.sim.stats()
        scalable = self.scalable if self.scalable is not None else [
            name for name, s in stats.items() if s["instances"] > 1]
        self.cards = {name: ServiceCard(name, scalable=name in scalable) for name in stats}
        for name, card in self.cards.items():
            card.kill_button.on_click(self._button(self.kill, name))
            card.pause_button.on_click(self._button(self._pause_or_resume, name))
            card.restart_button.on_click(self._button(self.restart, name))
            if card.more_button is not None and card.fewer_button is not None:
                card.more_button.on_click(self._button(self._add_instances, name, 1))
                card.fewer_button.on_click(self._button(self._add_instances, name, -1))
        self.controls.cards_box.children = [card.box for card in self.cards.values()]

    # -- error handling: nothing escapes a button ------------------------------------------------
    def _button(self, method: Callable[..., object],
                *args: Any) -> Callable[[widgets.Button], None]:
        """A click handler calling `method(*args)`; what it raises goes to the problem banner."""
        def on_click(_button: widgets.Button) -> None:
            self._safely(lambda: method(*args))
        return on_click

    def _guarded(self, callback: Callable[[Any], object]) -> Callable[[Any], None]:
        """An observer that never raises into the widget machinery."""
        def observer(change: Any) -> None:
            self._safely(lambda: callback(change))
        return observer

    def _safely(self, action: Callable[[], object]) -> None:
        try:
            action()
        except Exception as error:  # noqa: BLE001 - a button callback must never raise
            self._problem(describe_error(error))
            try:
                self.refresh()
            except Exception as again:  # noqa: BLE001 - the simulation itself is broken: say so
                self._problem(f"refreshing failed: {describe_error(again)}; press Reset")
                self._show_problems()

    def _problem(self, message: str) -> None:
        """Keep an error to show; stop playing so one error does not repeat every tick."""
        if not self.problems or self.problems[-1] != message:
            self.problems.append(message)
        self.stop()

    def _do(self, what: str, action: Callable[[Simulation], T]) -> T | None:
        """Run `action` on the simulation, show any error it raises, then refresh."""
        try:
            result = action(self.sim)
        except Exception as error:  # noqa: BLE001 - learner code: handlers, invariants, cycles
            self._problem(f"t={self.sim.now} ms, {what}: {describe_error(error)}")
            result = None
        else:
            self.last_action = f"{what} (t = {self.sim.now} ms)"
        self.refresh()
        return result

    def _require(self, name: str) -> None:
        if name not in self.sim.services:
            raise UnknownService(name, self.sim.services)

    # -- services -------------------------------------------------------------------------------
    def kill(self, name: str) -> None:
        """Kill a service: it consumes nothing; messages for it wait in its backlog."""
        self._require(name)
        self._do(f"killed {name}", lambda sim: sim.kill(name))

    def restart(self, name: str) -> None:
        """Restart a service: it keeps its committed state and drains its backlog."""
        self._require(name)
        self._do(f"restarted {name}", lambda sim: sim.restart(name))

    def pause(self, name: str) -> None:
        """Pause a service: it finishes what it holds and takes nothing new."""
        self._require(name)
        self._do(f"paused {name}", lambda sim: sim.pause(name))

    def resume(self, name: str) -> None:
        """Let a paused service take messages again."""
        self._require(name)
        self._do(f"resumed {name}", lambda sim: sim.resume(name))

    def scale(self, name: str, instances: int) -> None:
        """Run `instances` competing instances of a service."""
        self._require(name)
        if instances < 1:
            raise ValueError(f"instances must be at least 1, got {instances}; kill() stops a "
                             "service")
        self._do(f"scaled {name} to {instances}", lambda sim: sim.scale(name, instances))

    def _pause_or_resume(self, name: str) -> None:
        (self.resume if self.sim.status(name) == "paused" else self.pause)(name)

    def _add_instances(self, name: str, change: int) -> None:
        self.scale(name, max(1, self.sim.stats()[name]["instances"] + change))

    # -- acting and running ----------------------------------------------------------------------
    def act(self, label: str) -> object:
        """Do the action behind the button `label` (e.g. place an order); returns its result."""
        if label not in self.actions:
            raise ValueError(f"no action {label!r}; this dashboard has {list(self.actions)}")
        return self._do(label, self.actions[label])

    def step(self) -> bool:
        """Do the next scheduled thing. False if nothing was scheduled."""
        return bool(self._do("step", lambda sim: sim.step()))

    def run_for(self, ms: int) -> None:
        """Advance virtual time by `ms`, delivering everything due until then."""
        if not isinstance(ms, int) or ms < 0:
            raise ValueError(f"run_for takes a number of virtual ms >= 0, got {ms!r}")
        self._do(f"ran for {ms} ms", lambda sim: self._sampled_run_for(sim, ms))

    def run_until_idle(self) -> None:
        """Deliver until nothing is scheduled (messages for a stopped service keep waiting)."""
        self._do("ran until idle", self._sampled_run_until_idle)

    def _samplers(self) -> list[Any]:
        """The views sampled while the simulation runs (see `dashboard.views`)."""
        return [panel.view for panel in self.views
                if callable(getattr(panel.view, "sample", None)) and getattr(panel.view, "every", 0)]

    def _sampled_run_for(self, sim: Simulation, ms: int) -> None:
        samplers = self._samplers()
        if not samplers:
            return sim.run_for(ms)
        every, end = min(view.every for view in samplers), sim.now + ms
        for view in samplers:
            view.sample(sim)
        while sim.now < end:
            sim.run_for(min(every, end - sim.now))
            for view in samplers:
                view.sample(sim)
        return None

    def _sampled_run_until_idle(self, sim: Simulation, max_steps: int = 1_000_000) -> None:
        samplers = self._samplers()
        if not samplers:
            return sim.run_until_idle()
        every, last, steps = min(view.every for view in samplers), sim.now, 0
        for view in samplers:
            view.sample(sim)
        while (due := sim.next_due()) is not None:
            # a quiet stretch longer than `every` is crossed in slices, so ages are sampled as
            # they grow
            if due - sim.now > every:
                sim.run_for(every)  # nothing is due in it
            else:
                sim.step()
                steps += 1
            if sim.now - last >= every:
                last = sim.now
                for view in samplers:
                    view.sample(sim)
            if steps >= max_steps and not sim.idle:
                raise RunawayError(f"run_until_idle stopped after {max_steps} steps without the "
                                   "system settling; it may be retrying forever or growing. "
                                   "Look at the end of sim.trace.")
        for view in samplers:
            view.sample(sim)
        return None

    def tick(self) -> None:
        """One play tick: run for the chosen speed's virtual ms; stop playing once nothing is
        scheduled (the status line says why, and what waits for a stopped service)."""
        if not self.sim.idle:
            self.run_for(self.controls.speed.value)
        if self.sim.idle and self.playing:
            self.stop()
            self.last_action = f"stopped playing at t = {self.sim.now} ms: {self._why_idle()}"
            self.refresh()

    def _why_idle(self) -> str:
        """Nothing is scheduled: say so, and name the stopped services that messages wait for."""
        waiting = [f"{name} is {stats['status']} with {stats['backlog']} waiting"
                   for name, stats in self.sim.stats().items()
                   if stats["status"] != "up" and stats["backlog"]]
        if not waiting:
            return "nothing is scheduled (start some work, then Play again)"
        return (f"nothing is scheduled; {', '.join(waiting)} (Restart / Resume it, then Play "
                "again)")

    def play(self) -> None:
        """Start play mode: the browser ticks the clock, each tick runs `tick()`."""
        self.controls.play_button.value = True

    def stop(self) -> None:
        """Stop play mode."""
        self.controls.play_button.value = False

    @property
    def playing(self) -> bool:
        return self.controls.play_button.value

    def _on_play(self, change: Any) -> None:
        self.controls.play_button.description = "Pause" if change["new"] else "▶ Play"

    def _on_clock(self, change: Any) -> None:
        # the clock's stop button rewinds it (no tick then); a late tick after a stop is ignored
        if change["new"] > change["old"] and self.playing:
            self.tick()

    def reset(self, seed: int | None = None) -> None:
        """Start again: a fresh simulation with `seed` (default: the seed box), chaos kept."""
        if seed is not None:
            self.controls.seed_box.value = seed
        self.stop()
        self.problems.clear()
        self.last_action = f"reset with seed {self.controls.seed_box.value}"
        self._start(self.controls.seed_box.value)

    def clear_problems(self) -> None:
        """Hide the problem banner."""
        self.problems.clear()
        self.refresh()

    # -- chaos and dead letters ------------------------------------------------------------------
    def set_chaos(self, *, duplicate: float | None = None, delay: float | None = None,
                  drop: float | None = None) -> None:
        """Set chaos rates (probabilities 0..0.5 per delivery); None leaves a knob as it is."""
        c = self.controls
        for knob, rate in ((c.duplicate_knob, duplicate), (c.delay_knob, delay),
                           (c.drop_knob, drop)):
            if rate is None:
                continue
            if not knob.min <= rate <= knob.max:
                raise ValueError(f"{knob.description} rate must be between {knob.min} and "
                                 f"{knob.max}, got {rate}")
            knob.value = rate

    def _chaos_knobs(self) -> FaultPlan:
        c = self.controls
        return chaos_plan(c.duplicate_knob.value, c.delay_knob.value, c.drop_knob.value)

    def _on_chaos(self, change: Any) -> None:
        knobs = self._chaos_knobs()
        shown = knobs.describe().replace("\n", ", ")
        self._do(f"set chaos: {shown}", lambda sim: inject_chaos(sim, self._base_faults, knobs))

    def redrive(self, message_id: str | None = None) -> int:
        """Send the dead letters (or those of one message) to their services again; how many."""
        letters = list(self.sim.dead_letters)
        if message_id is not None:
            letters = [letter for letter in letters if letter.envelope.message_id == message_id]
            if not letters:
                known = [letter.envelope.message_id for letter in self.sim.dead_letters]
                raise ValueError(f"no dead letter for message {message_id!r}; "
                                 f"dead letters: {known or 'none'}")
        redriven = self._do(f"re-drove {len(letters)} dead letter(s)",
                            lambda sim: sum(sim.redrive(letter) for letter in letters))
        return redriven or 0

    # -- finding a button -------------------------------------------------------------------------
    def buttons(self) -> dict[str, widgets.Button]:
        """Every button shown now, by its label ("Kill payment", "Run until idle", ...)."""
        c = self.controls
        shown: list[widgets.Button] = [*c.action_buttons.values(), c.step_button, c.run_button,
                                       c.idle_button, c.reset_button, c.redrive_button]
        for card in self.cards.values():
            shown += card.buttons
        return {button.description: button for button in shown}

    def button(self, label: str) -> widgets.Button:
        """The button with this label, e.g. ``dash.button("Kill payment").click()``."""
        buttons = self.buttons()
        if label not in buttons:
            raise ValueError(f"no button {label!r} on this dashboard; its buttons are "
                             f"{list(buttons)}")
        return buttons[label]

    # -- showing ----------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Redraw everything from the simulation (bounded: the log shows the latest records)."""
        c = self.controls
        snapshot = take_snapshot(self.sim, self._logbook, log_filter=c.log_filter.value,
                                 oracle=self.oracle, workflows=self.workflows,
                                 lags=self._lags)
        for problem in snapshot.problems:
            self._problem(problem)
        self.snapshot: Snapshot = snapshot
        if [view.name for view in snapshot.services] != list(self.cards):
            self._make_cards()  # a service was added to the simulation
        c.header.value = render.header(snapshot, self.title, self.last_action)
        for view in snapshot.services:
            self.cards[view.name].show(view)
        c.log.value = render.event_log(snapshot.log, len(self.sim.trace))
        c.lamp.value = render.lamp(snapshot.report, snapshot.services,
                                   has_oracle=self.oracle is not None)
        c.sagas.value = render.workflow_table(snapshot.workflows, snapshot.last_events,
                                              snapshot.report,
                                              has_workflows=self.workflows is not None)
        c.dead_letter_list.value = render.dead_letter_table(snapshot.dead_letters,
                                                            snapshot.dead_letter_count)
        c.redrive_button.disabled = snapshot.dead_letter_count == 0
        c.timer_list.value = render.timer_table(snapshot.timers, snapshot.timer_count,
                                                snapshot.now)
        c.seed_note.value = render.seed_note(snapshot.seed)
        for panel in self.views:
            try:
                panel.draw(self.sim)
            except Exception as error:  # noqa: BLE001 - a view is code of its own: report it
                self._problem(f"the view {panel.title!r} failed: {describe_error(error)}")
        self._show_problems()

    def _show_problems(self) -> None:
        self.controls.problem_banner.value = render.problems(self.problems)
        self.controls.problem_box.layout.display = "flex" if self.problems else "none"

    @property
    def report(self) -> Any | None:
        """The consistency report the lamp shows (None without an oracle)."""
        return self.snapshot.report

    @property
    def lamp_state(self) -> str:
        """green (converged), amber (pending), red (invariant broken) or grey (no report)."""
        return render.lamp_state(self.snapshot.report)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        """The live widgets, with a short text summary where widgets cannot show (and for nbval)."""
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = repr(self)
        return bundle

    def __repr__(self) -> str:
        """A short line (it fits an output area): the services not up are named, not all."""
        statuses = {name: stats["status"] for name, stats in self.sim.stats().items()}
        stopped = [f"{name} {status}" for name, status in statuses.items() if status != "up"]
        up = len(statuses) - len(stopped)
        if not stopped:
            services = f"all {plural(up, 'service')} up" if up != 1 else "its service up"
        else:
            services = ", ".join(stopped) + (f", {up} up" if up else "")
        return (f"<{self.title}: t={self.sim.now} ms, seed {self.sim.seed!r}; {services}; "
                f"lamp {self.lamp_state}>")
