"""The simulation: a seeded, virtual-time scheduler that delivers messages to services.

Nothing here uses threads or the wall clock. `publish` appends to a topic's log and
schedules one delivery per consumer group that handles the message's type; `step`,
`run_for` and `run_until_idle` carry out what is scheduled, in time order. One delivery:

    arrive in the group's backlog -> taken by a free instance (its key is held) ->
    the handler runs on a copy of the state -> state, events and timers are committed
    together (the outbox) -> ack (the key is released)

A handler that raises, a crash or a lost ack means the message comes again (at-least-once);
after `max_attempts` it is dead-lettered. Latency, jitter and faults come from seeded
random streams, so the same seed and the same code give the same trace, ids and times.
"""

from __future__ import annotations

import heapq
import random
from collections import Counter, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from . import vocabulary as words
from .broker import ConsumerGroup, DeadLetter
from .context import Context, RelayContext, RelayCrashed, TimerRequest
from .envelope import Delivery, Envelope
from .errors import FaultPlanError, HandlerError, RunawayError, UnknownService
from .events import Message, check_event
from .faults import CRASH_POINTS, SCHEDULED_KINDS, AnyFault, FaultInjector, FaultPlan, _Fault
from .runtime import Features, Start
from .service import Handler, Handling, Service, produced_events, with_middleware
from .state import StateChanges, commit_changes, state_changes
from .text import describe_error, describe_value
from .trace import Trace

#: A cycle that fans out (a handler returning two events that lead back to it) grows wide
#: rather than long, so a run also stops when the messages descending from one outside
#: message exceed RUNAWAY_WIDTH x max_chain.
RUNAWAY_WIDTH = 50
BEFORE_COMMIT, AFTER_COMMIT, AFTER_WRITE = CRASH_POINTS


class RunningService:
    """A service inside one simulation (internal): its committed state, status and counters."""

    def __init__(self, definition: Service) -> None:
        self.name = definition.name
        self.state: dict[str, Any] = definition.fresh_state()
        self.load(definition)
        self.group = ConsumerGroup(definition.name, definition.topics, frozenset(self.handlings))
        self.status = words.UP
        self.instances = definition.instances
        self.processing_time = definition.processing_time
        self.busy: list[Delivery] = []  # deliveries being processed (processing_time > 0)
        self.incarnation = 0            # bumped by kill: completions from before are ignored
        self.handled = self.retried = self.dead_lettered = 0
        self.unsettled = 0              # messages sent to the group, not yet acked or dead-lettered
        self.relay_pending = False      # a run of the relay is scheduled
        self.relay_failures = 0         # its runs in a row that crashed
        self.relay_owed: set[str] = set()  # workflows with a commit the relay has not run after

    def load(self, definition: Service) -> None:
        """Take the code of `definition`: its handlers in its middleware, and its relay."""
        self.definition = definition
        self.handlings: dict[str, Handling] = dict(definition.handlers)
        #: event type name -> the handler wrapped in the service's middleware
        self.handlers: dict[str, Handler] = {
            name: with_middleware(handling.handler, definition.middleware)
            for name, handling in self.handlings.items()}
        self.relay = definition.outbox_relay

    @property
    def free(self) -> bool:
        """Up, with an instance free to take a message."""
        return self.status == words.UP and len(self.busy) < self.instances

    def stats(self) -> dict[str, Any]:
        return {"status": self.status, "instances": self.instances,
                "backlog": len(self.group.backlog), "in_flight": self.group.in_flight,
                "handled": self.handled, "retried": self.retried,
                "dead_lettered": self.dead_lettered}


@dataclass
class Timer:
    """An event a handler scheduled for later; kept by the broker, so it outlives a kill."""

    service: str
    name: str
    event: Message
    due: int
    origin: Envelope  # the message whose handler set it: the timer's workflow, key and cause


# -- what the agenda holds: typed steps, carried out in time order ---------------------------
# (named tuples: typed and matched by name like dataclasses, and cheap to make by the thousand)
class Arrival(NamedTuple):
    """A delivery reaches its consumer group."""
    service: RunningService
    delivery: Delivery


class Completion(NamedTuple):
    """An instance finishes processing a delivery (services with a processing_time)."""
    service: RunningService
    incarnation: int
    delivery: Delivery


class PlannedFault(NamedTuple):
    """A kill, restart, pause or resume from the fault plan."""
    fault: Any


class TimerDue(NamedTuple):
    """A timer's time has come."""
    timer: Timer


class Dispatch(NamedTuple):
    """A service looks at its backlog again (after an interrupt stopped it mid-way)."""
    service: RunningService


class RelayDue(NamedTuple):
    """A service's relay runs (unless the service was killed since it was scheduled)."""
    service: RunningService
    incarnation: int


Step = Arrival | Completion | PlannedFault | TimerDue | Dispatch | RelayDue


class Agenda:
    """The steps still to do, taken in time order, and at one time in the order scheduled.

    A queue of steps per due time, and a heap of the due times. Many steps share a time
    (a publish to six groups schedules six arrivals for the same moment), so taking the
    next step is mostly taking it off the front of a queue.
    """

    def __init__(self) -> None:
        self._due: dict[int, deque[Step]] = {}  # due time -> its steps, first scheduled first
        self._times: list[int] = []             # a heap of the due times

    def __bool__(self) -> bool:
        return bool(self._times)

    def next_time(self) -> int:
        """When the next step is due (the agenda must not be empty)."""
        return self._times[0]

    def add(self, time: int, step: Step) -> None:
        if time not in self._due:
            self._due[time] = deque()
            heapq.heappush(self._times, time)
        self._due[time].append(step)

    def take(self) -> tuple[int, Step]:
        """The next step and its due time, off the agenda."""
        time = self._times[0]
        due = self._due[time]
        step = due.popleft()
        if not due:
            del self._due[time]
            heapq.heappop(self._times)
        return time, step


class Simulation:
    """Runs services together over an in-memory broker, deterministically.

    - `seed`: drives jitter and probabilistic faults. Same seed, same trace.
    - `latency`, `jitter`: virtual ms from publish to arrival (latency + 0..jitter).
    - `max_attempts`: deliveries of one message to one group before it is dead-lettered.
    - `backoff`, `max_backoff`: after a handler fails or crashes, retry n waits
      ``min(backoff * 2**(n-1), max_backoff)`` ms: each wait at least as long as the last,
      doubling until the cap. A lost delivery or a lost ack is noticed after `ack_timeout`.
    - `outbox`: commit state and outgoing events together (True), or write state first and
      publish after (False: the dual-write bug, for teaching).
    - `faults`: a `FaultPlan` or a list of faults to inject.
    - `max_chain`: the longest causal chain allowed before a run stops as a cycle.
    """

    features = Features(**{name: True for name in Features.__dataclass_fields__})

    def __init__(self, services: Iterable[Service], *, seed: int | str = 0, latency: int = 1,
                 jitter: int = 0, max_attempts: int = 5, backoff: int = 10, max_backoff: int = 1000,
                 ack_timeout: int = 30, outbox: bool = True,
                 faults: FaultPlan | Sequence[AnyFault] | None = None, max_chain: int = 200) -> None:
        for name, value, least in (("latency", latency, 0), ("jitter", jitter, 0),
                                   ("max_attempts", max_attempts, 1), ("backoff", backoff, 0),
                                   ("max_backoff", max_backoff, 0), ("ack_timeout", ack_timeout, 0),
                                   ("max_chain", max_chain, 1)):
            _require_whole(name, value, least)
        if max_backoff < backoff:
            raise ValueError(f"max_backoff ({max_backoff} ms) is the cap on backoff ({backoff} ms) "
                             "and cannot be smaller; raise max_backoff or lower backoff")
        self.seed = seed
        self.latency, self.jitter = latency, jitter
        self.max_attempts, self.backoff, self.max_backoff = max_attempts, backoff, max_backoff
        self.ack_timeout, self.outbox, self.max_chain = ack_timeout, outbox, max_chain
        self.now = 0
        self.trace = Trace()
        #: topic -> every message published on it (the retained log)
        self.topics: dict[str, list[Envelope]] = {}
        #: the dead-letter queue: messages a group gave up on, until re-driven
        self.dead_letters: list[DeadLetter] = []
        self._services: dict[str, RunningService] = {}
        self._groups_by_topic: dict[str, list[RunningService]] = {}
        self._agenda = Agenda()
        self._ids = 0
        self._workflows = 0  # the last generated workflow id: c1, c2, ...
        self._timers: dict[tuple[str, str], Timer] = {}
        self._open: Counter[str] = Counter()    # workflow -> deliveries not settled + timers
        self._descendants: Counter[str] = Counter()  # outside message -> messages it caused
        self._handling: tuple[str, Handling] | None = None  # the handler running now, if any
        self._latency = random.Random(f"latency/{seed}").random
        for service in _services_given(services):
            self.add_service(service, start="now")
        self.faults = self._checked_plan(faults)
        self._injector = FaultInjector(self.faults, seed)
        self._chaos = self._injector.active()  # any delivery fault planned at all?
        for fault in self.faults.faults:
            if fault.kind in SCHEDULED_KINDS:
                self._schedule(fault.at, PlannedFault(fault))

    # -- fault plans -----------------------------------------------------------------------
    def _checked_plan(self, faults: object) -> FaultPlan:
        """The fault plan as a `FaultPlan`, checked against this simulation's services."""
        if isinstance(faults, _Fault) and not isinstance(faults, FaultPlan):
            raise FaultPlanError(f"faults takes a list of faults (or a FaultPlan), got one "
                                 f"{type(faults).__name__}; write faults=[{type(faults).__name__}(...)]")
        if faults is None or isinstance(faults, FaultPlan):
            plan = faults or FaultPlan()
        elif isinstance(faults, (list, tuple)):
            plan = FaultPlan(faults=tuple(faults))
        else:
            raise FaultPlanError(f"faults takes a list of faults or a FaultPlan, got "
                                 f"{describe_value(faults)}")
        handled = sorted({name for running in self._services.values() for name in running.handlers})
        for fault in plan.faults:
            self._check_fault(fault, handled)
        self._check_outages(plan)
        return plan

    def _check_fault(self, fault: Any, handled: list[str]) -> None:
        if fault.kind == "crash" and fault.point == AFTER_WRITE and self.outbox:
            raise FaultPlanError(
                "crash point 'after_write_before_publish' needs Simulation(outbox=False): "
                "with the outbox, state and outgoing events are committed together, so "
                "there is no moment between them to crash in")
        if fault.service is not None and fault.service not in self._services:
            raise FaultPlanError(f"the fault plan names {fault.service!r}: "
                                 f"{UnknownService(fault.service, self.services)}")
        if fault.kind == words.RELAY_CRASH:
            relays = [name for name, running in self._services.items() if running.relay]
            if fault.service not in (None, *relays):
                raise FaultPlanError(f"RelayCrash(service={fault.service!r}) targets a service "
                                     "without a relay, so it could never fire; services with a "
                                     f"relay: {', '.join(relays) or 'none'} (see Service.relay)")
            return  # it targets what a relay publishes, which nobody need handle
        event_type = getattr(fault, "event_type", None)
        if event_type is not None and event_type not in handled:
            raise FaultPlanError(f"the fault plan targets event type {event_type!r}, which no "
                                 f"service handles, so it could never fire; handled event "
                                 f"types: {', '.join(handled)}")

    @staticmethod
    def _check_outages(plan: FaultPlan) -> None:
        """Refuse a planned Restart (Resume) that comes before its Kill (Pause): it would do nothing."""
        planned = sorted((f.at, index, f) for index, f in enumerate(plan.faults)
                         if f.kind in SCHEDULED_KINDS)
        for position, (_, _, fault) in enumerate(planned):
            ends = {"restart": "kill", "resume": "pause"}
            start = ends.get(fault.kind)
            if start is None:
                continue
            earlier = [f for _, _, f in planned[:position] if f.service == fault.service]
            later = [f for _, _, f in planned[position + 1:] if f.service == fault.service]
            if not any(f.kind == start for f in earlier) and any(f.kind == start for f in later):
                raise FaultPlanError(
                    f"{type(fault).__name__}(service={fault.service!r}, at={fault.at}) comes before "
                    f"the {start} of {fault.service!r} it should end, so the service would stay "
                    f"{'down' if start == 'kill' else 'paused'}; give it a later `at`")

    def set_delivery_faults(self, plan: FaultPlan) -> None:
        """From now on, inject these delivery faults instead of the current ones.

        For turning chaos up or down mid-run. A fault that stays in the plan keeps its
        `times` budget, and the coin tosses continue the seeded stream, so the same calls at
        the same moments give the same run. Scheduled faults (kills, restarts, ...) stay as
        planned: call `kill()` etc. for new ones.
        """
        scheduled = [f for f in plan.faults if f.kind in SCHEDULED_KINDS]
        if scheduled:
            raise FaultPlanError(f"set_delivery_faults() takes delivery faults only, got "
                                 f"{scheduled[0].kind}; call sim.{scheduled[0].kind}(...) instead")
        kept = tuple(f for f in self.faults.faults if f.kind in SCHEDULED_KINDS)
        self.faults = FaultPlan(faults=kept + self._checked_plan(plan).faults)
        self._injector.replace(self.faults)
        self._chaos = self._injector.active()

    # -- services ------------------------------------------------------------------------
    def add_service(self, service: Service, *, start: Start | int = "beginning") -> None:
        """Add a service: a new consumer group. Where it starts in the retained log:

        "beginning" replays every message of the types it handles, "now" only gets what is
        published from now on, and a time `t` replays what was published at or after `t`.
        """
        if not isinstance(service, Service):
            raise TypeError(f"add_service() takes a Service, got {describe_value(service)}")
        if start not in ("beginning", "now") and not (type(start) is int and start >= 0):
            raise ValueError(f"start must be 'beginning', 'now' or a virtual time >= 0, got {start!r}")
        if service.name in self._services:
            raise ValueError(f"a service named {service.name!r} is already in this simulation")
        self._check_commands(service)
        running = RunningService(service)
        self._services[service.name] = running
        for topic in running.group.topics:
            self._groups_by_topic.setdefault(topic, []).append(running)
        if start != "now":
            since = 0 if start == "beginning" else start
            for envelope in list(self.trace.messages.values()):
                if envelope.published_at >= since and running.group.wants(envelope):
                    self._send(running, Delivery(envelope, running.name))
        self._wake_relay(running)  # its initial state may hold rows to send

    def _check_commands(self, service: Service) -> None:
        """A command has exactly one handler in a system."""
        for command in service.commands:
            owner = next((r.name for r in self._services.values() if command in r.handlers), None)
            if owner is not None:
                raise HandlerError(f"{command} is a command: exactly one service handles it, but "
                                   f"both {owner!r} and {service.name!r} do. Make it an Event if "
                                   "every interested service should get it.")

    @property
    def services(self) -> list[str]:
        return list(self._services)

    def _require(self, name: str) -> RunningService:
        running = self._services.get(name)
        if running is None:
            raise UnknownService(name, list(self._services))
        return running

    def state(self, name: str) -> dict[str, Any]:
        """The committed state of one service (its own database; nothing else holds it)."""
        return self._require(name).state

    def status(self, name: str) -> str:
        """up, down or paused."""
        return self._require(name).status

    def definition(self, name: str) -> Service:
        """The `Service` a running service was built from."""
        return self._require(name).definition

    def handles(self, name: str, envelope: Envelope) -> bool:
        """Does the service's consumer group get this message (does it handle its type)?"""
        return self._require(name).group.wants(envelope)

    def stats(self) -> dict[str, dict[str, Any]]:
        """Per service: status, instances, backlog, in flight, handled, retried, dead-lettered."""
        return {name: running.stats() for name, running in self._services.items()}

    def backlog(self, name: str) -> dict[str, int]:
        """Messages waiting for one service, per subscribed topic."""
        return self._require(name).group.backlog_by_topic()

    def oldest_waiting(self, name: str) -> int:
        """How long (virtual ms since it was published) the oldest message waiting in the
        service's backlog has waited; 0 when nothing waits. Messages in flight do not count."""
        backlog = self._require(name).group.backlog
        return max((self.now - d.envelope.published_at for d in backlog), default=0)

    def lag(self, name: str) -> int:
        """The consumer group's lag: messages sent to it that it has not finished with yet.

        Waiting in its backlog, in flight, still on their way, or waiting for a retry; a
        message leaves the lag when it is acked or dead-lettered.
        """
        return self._require(name).unsettled

    def open_messages(self, workflow: str | None = None) -> int:
        """Deliveries not yet acked or dead-lettered, pending timers, and commits a service's
        relay has not run after yet (their rows may still be sent): of one workflow, or all.

        Zero means nothing about the workflow is left to happen by itself.
        """
        return self._open[workflow] if workflow is not None else sum(self._open.values())

    @property
    def timers(self) -> list[Timer]:
        """Pending timers, soonest first."""
        return sorted(self._timers.values(), key=lambda timer: (timer.due, timer.service, timer.name))

    # -- faults you trigger by hand ------------------------------------------------------
    def kill(self, name: str) -> None:
        """Stop a service: it consumes nothing; what it was processing is redelivered later."""
        running = self._require(name)
        if running.status == words.DOWN:
            return
        running.status = words.DOWN
        running.incarnation += 1
        running.relay_pending = False  # a scheduled run is void; the restart wakes it again
        self.trace.add(self.now, words.KILL, name)
        for delivery in reversed(running.busy):
            self._record(words.ABANDON, running, delivery, "killed while processing")
            self._retry(running, delivery, "killed while processing", delay=None)
        running.busy.clear()

    def restart(self, name: str) -> None:
        """Bring a killed (or paused) service back; it keeps the state it had committed."""
        running = self._require(name)
        if running.status != words.UP:
            running.status = words.UP
            self.trace.add(self.now, words.RESTART, name)
            self._wake_relay(running)
            self._dispatch(running)

    def pause(self, name: str) -> None:
        """The service finishes what it holds but takes nothing new."""
        running = self._require(name)
        if running.status == words.UP:
            running.status = words.PAUSED
            self.trace.add(self.now, words.PAUSE, name)

    def resume(self, name: str) -> None:
        """A paused service takes messages again."""
        running = self._require(name)
        if running.status == words.PAUSED:
            running.status = words.UP
            self.trace.add(self.now, words.RESUME, name)
            self._wake_relay(running)
            self._dispatch(running)

    def scale(self, name: str, instances: int) -> None:
        """Run `instances` competing consumers for the service."""
        _require_whole("instances", instances, 1, "; use kill() to stop it")
        running = self._require(name)
        running.instances = instances
        self.trace.add(self.now, words.SCALE, name, detail=f"{instances} instances")
        self._dispatch(running)

    def deploy(self, service: Service) -> None:
        """Roll out a new version of a running service's code (a fix, say).

        From now on its messages - those waiting in its backlog, those that come again and
        those re-driven from the dead letters - go to the handlers (and middleware and relay)
        of `service`. What the service has kept stays: its committed state, its status, its
        instances, its backlog and its place in the log. The new version handles the same
        message types: a deploy does not change what its consumer group subscribes to.
        """
        self._refuse_inside_handler("sim.deploy()", "deploy from outside the services")
        if not isinstance(service, Service):
            raise TypeError(f"deploy() takes a Service (the new version), got "
                            f"{describe_value(service)}")
        running = self._require(service.name)
        if set(service.handlers) != set(running.handlings):
            raise HandlerError(
                f"the new version of {service.name!r} handles {sorted(service.handlers)}, the "
                f"running one {sorted(running.handlings)}; a deploy replaces the code for the "
                "same messages. Handle the same event types (add a service for new ones).")
        running.load(service)
        if running.relay is None:
            self._relay_ran(running)  # the new version has no relay: nothing will run
        names = ", ".join(f"{h.name}()" for h in running.handlings.values())
        self.trace.add(self.now, words.DEPLOY, service.name, detail=f"new code: {names}")
        self._wake_relay(running)

    def redrive(self, dead_letter: DeadLetter | None = None) -> int:
        """Send one dead letter (or all) to its group again, attempts counted from zero.

        A re-driven message joins the back of its group's backlog, after later messages of
        its key that were handled meanwhile: per-key order does not hold across a redrive.
        """
        if dead_letter is not None and not isinstance(dead_letter, DeadLetter):
            raise TypeError(f"redrive() takes one of sim.dead_letters (or nothing, for all of "
                            f"them), got {describe_value(dead_letter)}; e.g. "
                            "sim.redrive(sim.dead_letters[0])")
        if dead_letter is not None and dead_letter not in self.dead_letters:
            raise ValueError(f"{dead_letter.envelope.message_id} for {dead_letter.group!r} is not "
                             "in the dead-letter queue (re-driven already?); pick one from "
                             "sim.dead_letters")
        chosen = [dead_letter] if dead_letter is not None else list(self.dead_letters)
        for letter in chosen:
            self.dead_letters.remove(letter)
            running = self._require(letter.group)
            self.trace.add(self.now, words.REDRIVE, letter.group, letter.envelope.message_id,
                           workflow=letter.envelope.correlation_id)
            self._send(running, Delivery(letter.envelope, letter.group))
        return len(chosen)

    # -- publishing ----------------------------------------------------------------------
    def publish(self, event: Message, *, key: str | None = None, correlation_id: str | None = None,
                producer: str = "outside") -> Envelope:
        """Publish an event from outside the services (a customer, a test, a notebook).

        The event is validated first. `correlation_id` names the workflow it starts or joins
        (a new, unused one by default); `key` defaults to it. An event nobody handles is
        still kept in its topic's log (a group added later can replay it) and marked in the
        trace.
        """
        self._refuse_inside_handler("sim.publish()", "return the event instead (the runtime "
                                    "publishes what a handler returns, with its state: the outbox)")
        event = check_event(event, "publish()")
        if correlation_id is None:
            correlation_id = self._new_workflow_id()
        return self._publish(event, key if key is not None else correlation_id, correlation_id,
                             None, producer)

    def _new_workflow_id(self) -> str:
        """c1, c2, ...: the next one that no message uses yet."""
        self._workflows += 1
        while self.trace.has_workflow(f"c{self._workflows}"):
            self._workflows += 1
        return f"c{self._workflows}"

    def _publish(self, event: Message, key: str, correlation_id: str, cause: Envelope | None,
                 producer: str, message_id: str | None = None) -> Envelope:
        """Append to the topic's log and send to every group that handles it.

        A `message_id` given by the producer (a relay's) that the broker has already is kept
        once: the publish is recorded as a dedup and nothing is sent.
        """
        if message_id is None:
            self._ids += 1
            message_id = f"m{self._ids}"
        elif message_id in self.trace.messages:
            kept = self.trace.messages[message_id]
            self.trace.add(self.now, words.DEDUP, producer, message_id, 0,
                           f"has this id already; dropped {event}", workflow=kept.correlation_id)
            return kept
        envelope = Envelope(message_id, event, key, correlation_id,
                            cause.message_id if cause else None, producer, self.now,
                            cause.depth + 1 if cause else 0, cause.root_id if cause else None)
        self.topics.setdefault(envelope.topic, []).append(envelope)
        self.trace.remember(envelope)
        self.trace.add(self.now, words.PUBLISH, producer, envelope.message_id, 0, str(event),
                       workflow=correlation_id)
        groups = [g for g in self._groups_by_topic.get(envelope.topic, ()) if g.group.wants(envelope)]
        if not groups:
            self.trace.add(self.now, words.NO_SUBSCRIBER, producer, envelope.message_id, 0,
                           f"nobody handles {envelope.event_type} yet; kept in its log",
                           workflow=correlation_id)
        for running in groups:
            self._send(running, Delivery(envelope, running.name))
        return envelope

    def _send(self, running: RunningService, delivery: Delivery) -> None:
        """Schedule a new delivery's arrival at a group, in key order unless reordered."""
        envelope = delivery.envelope
        self._open[envelope.correlation_id] += 1
        running.unsettled += 1
        arrival = self.now + self.latency
        if self.jitter:
            arrival += int(self._latency() * (self.jitter + 1))
        overtakable = False
        for kind in (words.DELAY, words.REORDER) if self._chaos else ():
            fault = self._fault(kind, running, delivery)
            if fault is not None:
                arrival += fault.by
                overtakable = overtakable or kind == words.REORDER
                self._record(kind, running, delivery, f"+{fault.by} ms")
        if not overtakable:  # nothing of the same key may arrive before it
            arrival = max(arrival, running.group.last_arrival.get(envelope.key, arrival))
            running.group.last_arrival[envelope.key] = arrival
        self._schedule(arrival, Arrival(running, delivery))

    # -- delivering ----------------------------------------------------------------------
    def _arrive(self, running: RunningService, delivery: Delivery) -> None:
        """A delivery reaches its group: it waits in the backlog for a free instance."""
        running.group.backlog.append(delivery)
        self._dispatch(running)

    def _dispatch(self, running: RunningService) -> None:
        """Hand waiting messages to free instances, oldest first, one per key at a time."""
        backlog = running.group.backlog
        while backlog and running.free:
            delivery = running.group.take()
            if delivery is None:
                return  # every waiting message's key is held by one in flight
            self._attempt(running, delivery)

    def _attempt(self, running: RunningService, delivery: Delivery) -> None:
        """One delivery attempt: count it; it may be lost on the way; else process it."""
        delivery.attempt += 1
        self._record(words.DELIVER if delivery.attempt == 1 else words.REDELIVER, running, delivery)
        if self._chaos and self._fault(words.DROP, running, delivery):
            self._record(words.DROP, running, delivery,
                         f"lost on the way; redelivered after the {self.ack_timeout} ms ack timeout")
            self._retry(running, delivery, "delivery lost (no ack)", delay=self.ack_timeout)
        elif running.processing_time:
            running.busy.append(delivery)
            self._schedule(self.now + running.processing_time,
                           Completion(running, running.incarnation, delivery))
        else:
            self._handle(running, delivery)

    def _complete(self, running: RunningService, incarnation: int, delivery: Delivery) -> None:
        if incarnation != running.incarnation:
            return  # the service was killed meanwhile; the delivery was abandoned
        running.busy.remove(delivery)
        self._handle(running, delivery)
        self._dispatch(running)

    def _handle(self, running: RunningService, delivery: Delivery) -> None:
        """Run the handler; commit state, events and timers together (the outbox); then ack."""
        ran = self._run_handler(running, delivery)
        if ran is None:
            return  # it raised: nacked, and retried later
        context, produced, saved = ran
        if produced:
            self._stop_runaway(running, delivery, produced)
        crash = self._fault(words.CRASH, running, delivery) if self._chaos else None
        point = crash.point if crash is not None else None
        if point == BEFORE_COMMIT:
            return self._crash(running, delivery, point)
        self._commit_state(running, delivery, saved)
        if point == AFTER_WRITE:
            return self._crash(running, delivery, point)
        self._commit_messages(running, delivery, context, produced)
        running.handled += 1
        if point == AFTER_COMMIT:
            return self._crash(running, delivery, point)
        if self._chaos and self._fault(words.DUPLICATE, running, delivery):
            self._record(words.DUPLICATE, running, delivery,
                         "ack lost; the broker will deliver it again")
            return self._retry(running, delivery, "handled, but its ack was lost",
                               delay=self.ack_timeout)
        self._record(words.ACK, running, delivery)
        self._settle(running, delivery)

    def _run_handler(self, running: RunningService,
                     delivery: Delivery) -> tuple[Context, list[Message], StateChanges | None] | None:
        """Call the handler on a working copy of the state; return it, the events it produced and
        the state it leaves (None if untouched). If it raises (anything), nack: nothing is kept.

        An interrupt (KeyboardInterrupt, SystemExit) is treated like a crash at that point -
        the message will come again - and then passes on to whoever runs the simulation.
        """
        envelope = delivery.envelope
        handling = running.handlings[envelope.event_type]
        context = Context(running.name, envelope, delivery.attempt, self.now, running.state)
        self._handling = (running.name, handling)
        try:
            event = envelope.event
            if type(event) is not handling.event_type:  # another version of its schema
                event = handling.event_type.read(event)
            result = running.handlers[envelope.event_type](event, context)
            produced = produced_events(handling.name, running.name, result)
            working = context.working_state()
            saved = state_changes(working, running.name) if working is not None else None
        except BaseException as error:  # a learner's handler may raise anything: retry
            context.close()
            reason = describe_error(error)
            self._record(words.NACK, running, delivery, reason)
            self._retry(running, delivery, reason, delay=self._backoff(delivery.attempt))
            if not isinstance(error, Exception):
                self._schedule(self.now, Dispatch(running))  # what waits behind it goes on later
                raise
            return None
        finally:
            self._handling = None
        return context, produced, saved

    def _stop_runaway(self, running: RunningService, delivery: Delivery,
                      produced: list[Message]) -> None:
        """Before anything is committed: stop a cycle of events causing events, dead-lettering
        the delivery that would continue it, and raise `RunawayError`."""
        envelope = delivery.envelope
        if envelope.depth + 1 > self.max_chain:
            problem = (f"one causal chain of workflow {envelope.correlation_id!r} reached "
                       f"{self.max_chain} messages (max_chain)")
        elif self._descendants[envelope.root_id] + len(produced) > RUNAWAY_WIDTH * self.max_chain:
            problem = (f"the messages caused by {envelope.root_id} passed "
                       f"{RUNAWAY_WIDTH * self.max_chain} ({RUNAWAY_WIDTH} x max_chain)")
        else:
            return
        self._dead_letter(running, delivery, f"runaway: {problem}")
        raise RunawayError(self._describe_cycle(envelope, problem))

    def _commit_state(self, running: RunningService, delivery: Delivery,
                      saved: StateChanges | None) -> None:
        if saved is not None:
            commit_changes(running.state, saved)
            if running.relay is not None:
                self._owe_relay_run(running, delivery.envelope.correlation_id)
                self._wake_relay(running)

    def _commit_messages(self, running: RunningService, delivery: Delivery, context: Context,
                         produced: list[Message]) -> None:
        """Publish what the handler returned and set or cancel its timers (the outbox's part)."""
        envelope = delivery.envelope
        if produced:
            self._descendants[envelope.root_id] += len(produced)
        for event in produced:
            self._publish(event, envelope.key, envelope.correlation_id, envelope, running.name)
        for request in context.timers_set:
            self._set_timer(running, envelope, request)
        for name in context.timers_cancelled:
            self._cancel_timer(running, envelope, name)
        context.close()

    def _crash(self, running: RunningService, delivery: Delivery, point: str) -> None:
        self._record(words.CRASH, running, delivery, point)
        self._retry(running, delivery, f"crashed {point.replace('_', ' ')}",
                    delay=self._backoff(delivery.attempt))

    def _backoff(self, attempt: int) -> int:
        """The wait before retry number `attempt` after a failure: doubling, capped."""
        return min(self.backoff * 2 ** (attempt - 1), self.max_backoff)

    def _retry(self, running: RunningService, delivery: Delivery, reason: str,
               delay: int | None) -> None:
        """Redeliver after `delay` ms (None: first in line), or dead-letter when attempts run out.

        The message keeps its key held meanwhile, so later messages of the key wait for it.
        """
        if delivery.attempt >= self.max_attempts:
            return self._dead_letter(running, delivery, reason)
        running.retried += 1
        if delay is None:
            running.group.backlog.appendleft(delivery)
        else:
            self._schedule(self.now + delay, Arrival(running, delivery))

    def _dead_letter(self, running: RunningService, delivery: Delivery, reason: str) -> None:
        self.dead_letters.append(DeadLetter(delivery.envelope, running.name, reason,
                                            delivery.attempt, self.now))
        running.dead_lettered += 1
        self._record(words.DEAD_LETTER, running, delivery, reason)
        self._settle(running, delivery)

    def _settle(self, running: RunningService, delivery: Delivery) -> None:
        """The group is done with the message (acked or dead-lettered): free its key."""
        running.group.release(delivery)
        running.unsettled -= 1
        self._open[delivery.envelope.correlation_id] -= 1

    def _fault(self, kind: str, running: RunningService, delivery: Delivery) -> Any:
        """The delivery fault of `kind` that fires for this delivery now, or None."""
        if not self._injector.plans(kind):
            return None
        envelope = delivery.envelope
        return self._injector.fire(kind, running.name, envelope.event_type, envelope.correlation_id,
                                   delivery.attempt)

    def _record(self, kind: str, running: RunningService, delivery: Delivery,
                detail: str = "") -> None:
        envelope = delivery.envelope
        self.trace.add(self.now, kind, running.name, envelope.message_id, delivery.attempt, detail,
                       envelope.correlation_id)

    # -- timers --------------------------------------------------------------------------
    def _set_timer(self, running: RunningService, origin: Envelope, request: TimerRequest) -> None:
        replaced = self._timers.get((running.name, request.name))
        if replaced is not None:
            self._open[replaced.origin.correlation_id] -= 1
        timer = Timer(running.name, request.name, request.event, self.now + request.after, origin)
        self._timers[(running.name, request.name)] = timer
        self._open[origin.correlation_id] += 1
        self.trace.add(self.now, words.TIMER_SET, running.name, origin.message_id, 0,
                       f"{request.name} at t={timer.due}: {request.event}",
                       workflow=origin.correlation_id)
        self._schedule(timer.due, TimerDue(timer))

    def _cancel_timer(self, running: RunningService, origin: Envelope, name: str) -> None:
        timer = self._timers.pop((running.name, name), None)
        if timer is not None:
            self._open[timer.origin.correlation_id] -= 1
            self.trace.add(self.now, words.TIMER_CANCEL, running.name, origin.message_id, 0,
                           f"{name} (was due at t={timer.due})", workflow=origin.correlation_id)

    def _fire_timer(self, timer: Timer) -> None:
        if self._timers.get((timer.service, timer.name)) is not timer:
            return  # cancelled, or replaced by a newer timer of the same name
        del self._timers[(timer.service, timer.name)]
        self._open[timer.origin.correlation_id] -= 1
        self.trace.add(self.now, words.TIMER_FIRE, timer.service, timer.origin.message_id, 0,
                       timer.name, workflow=timer.origin.correlation_id)
        self._publish(timer.event, timer.origin.key, timer.origin.correlation_id, timer.origin,
                      timer.service)

    # -- relays ----------------------------------------------------------------------------
    def _owe_relay_run(self, running: RunningService, workflow: str) -> None:
        """A commit may have left rows for the relay: until it has run, the workflow has
        something due (it is not stuck, and the system not quiescent)."""
        if workflow not in running.relay_owed:
            running.relay_owed.add(workflow)
            self._open[workflow] += 1

    def _relay_ran(self, running: RunningService) -> None:
        """The relay ran after those commits (or rests, or is gone): nothing more is due."""
        for workflow in running.relay_owed:
            self._open[workflow] -= 1
        running.relay_owed.clear()

    def _wake_relay(self, running: RunningService, after: int | None = None) -> None:
        """Schedule a run of the service's relay (`every` ms from now), unless one is pending."""
        if running.relay is not None and not running.relay_pending:
            running.relay_pending = True
            self._schedule(self.now + (after or running.relay.every),
                           RelayDue(running, running.incarnation))

    def _run_relay(self, running: RunningService, incarnation: int) -> None:
        """Run the relay on the committed state; after a crash, run it again later.

        After `max_attempts` crashes in a row it rests until the state changes or the
        service restarts, so a relay that always fails cannot keep the run going forever.
        """
        if incarnation != running.incarnation:
            return  # scheduled before a kill
        running.relay_pending = False
        if running.status != words.UP or running.relay is None:
            return  # a restart or resume wakes it

        def send(event: Message, message_id: str | None, cause: str | None) -> None:
            self._relay_send(running, event, message_id, cause)

        context = RelayContext(running.name, self.now, running.state, send)
        failure = interrupt = None
        try:
            running.relay.function(context)
        except RelayCrashed:
            context.crashed = True
        except BaseException as error:  # a learner's relay may raise anything: run it again
            failure = f"{running.relay.name}() raised {describe_error(error)}"
            interrupt = None if isinstance(error, Exception) else error
        finally:
            context.close()
        if context.state_at_crash is not None:  # the process died there: nothing after it
            running.state.clear()
            running.state.update(context.state_at_crash)
        if context.crashed or failure:
            running.relay_failures += 1
            if failure:
                self.trace.add(self.now, words.RELAY_CRASH, running.name, None, 0, failure)
            if running.relay_failures < self.max_attempts:
                self._wake_relay(running, self._backoff(running.relay_failures))
            else:
                running.relay_failures = 0
                self._relay_ran(running)
                self.trace.add(self.now, words.RELAY_CRASH, running.name, None, 0,
                               f"{self.max_attempts} runs in a row failed; the relay rests "
                               "until its service's state changes or it restarts")
        else:
            running.relay_failures = 0
            self._relay_ran(running)
        if interrupt is not None:
            raise interrupt

    def _relay_send(self, running: RunningService, event: Message, message_id: str | None,
                    cause_id: str | None) -> None:
        """One `ctx.publish` of a relay, with the relay crashes the fault plan holds."""
        if message_id is not None and message_id[:1] == "m" and message_id[1:].isdigit():
            raise HandlerError(f"{running.name}: message ids m1, m2, ... are the broker's own; "
                               f"give your row an id of your own, e.g. 'payment/o-1' (got "
                               f"{message_id!r})")
        cause = self.trace.messages.get(cause_id) if cause_id is not None else None
        if cause_id is not None and cause is None:
            raise HandlerError(f"{running.name}: relay ctx.publish(cause={cause_id!r}): no "
                               "message has that id; pass the ctx.message_id the handler had "
                               "when it wrote the row")
        correlation_id = cause.correlation_id if cause else self._new_workflow_id()
        crash = (self._injector.fire(words.RELAY_CRASH, running.name, event.event_type,
                                     correlation_id) if self._chaos else None)
        if crash is not None and crash.point == "before_publish":
            self._relay_crash(running, message_id, crash.point, correlation_id)
        envelope = self._publish(event, cause.key if cause else correlation_id, correlation_id,
                                 cause, running.name, message_id)
        if crash is not None:
            self._relay_crash(running, envelope.message_id, crash.point, correlation_id)

    def _relay_crash(self, running: RunningService, message_id: str | None, point: str,
                     correlation_id: str) -> None:
        known = self.trace.has_workflow(correlation_id)  # not yet, for a first message
        self.trace.add(self.now, words.RELAY_CRASH, running.name, message_id, 0,
                       point.replace("_", " "), workflow=correlation_id if known else None)
        raise RelayCrashed(point)

    # -- running -------------------------------------------------------------------------
    def _schedule(self, time: int, step: Step) -> None:
        self._agenda.add(time, step)

    def _execute(self, step: Step) -> None:
        match step:
            case Arrival(running, delivery):
                self._arrive(running, delivery)
            case Completion(running, incarnation, delivery):
                self._complete(running, incarnation, delivery)
            case PlannedFault(fault):
                actions = {words.KILL: self.kill, words.RESTART: self.restart,
                           words.PAUSE: self.pause, words.RESUME: self.resume}
                actions[fault.kind](fault.service)
            case TimerDue(timer):
                self._fire_timer(timer)
            case Dispatch(running):
                self._dispatch(running)
            case RelayDue(running, incarnation):
                self._run_relay(running, incarnation)

    def step(self) -> bool:
        """Do the next scheduled thing (an arrival, a completion, a planned fault, a timer).

        Returns False if nothing is scheduled.
        """
        if self._handling is not None:
            self._refuse_inside_handler("sim.step()", "handlers only react to their event")
        if not self._agenda:
            return False
        time, step = self._agenda.take()
        if time > self.now:
            self.now = time
        self._execute(step)
        return True

    def run_for(self, duration: int) -> None:
        """Advance virtual time by `duration` ms, doing everything scheduled until then."""
        _require_whole("duration", duration, 0, "; run_for() takes virtual ms, and time never goes back")
        end = self.now + duration
        while self._agenda and self._agenda.next_time() <= end:
            self.step()
        self.now = end

    def run_until_idle(self, max_steps: int = 1_000_000) -> None:
        """Run until nothing is scheduled. Messages for a down service stay in its backlog.

        Raises `RunawayError` if a causal chain grows past `max_chain` (a cycle) or
        `max_steps` pass without the run settling.
        """
        steps = 0
        while self.step():
            steps += 1
            if steps >= max_steps and self._agenda:
                raise RunawayError(f"run_until_idle stopped after {max_steps} steps without the "
                                   "system settling; it may be retrying forever or growing. "
                                   "Look at the end of sim.trace, or pass a larger max_steps.")

    def next_due(self) -> int | None:
        """When the next scheduled step is due (virtual ms), or None if nothing is scheduled."""
        return self._agenda.next_time() if self._agenda else None

    @property
    def idle(self) -> bool:
        """Nothing scheduled (there may still be a backlog for a service that is down)."""
        return not self._agenda

    def _refuse_inside_handler(self, what: str, instead: str) -> None:
        if self._handling is not None:
            service, handling = self._handling
            raise HandlerError(f"{what} was called from inside the handler "
                               f"{service}.{handling.name}(); {instead}.")

    def _describe_cycle(self, envelope: Envelope, problem: str) -> str:
        chain = self.trace.causal_chain(envelope.message_id)
        links = [f"{e.producer} publishes {e.event_type}" for e in chain[-12:]]
        period = next((p for p in range(1, len(links) // 2 + 1)
                       if links[-p:] == links[-2 * p:-p]), None)
        cycle = " -> ".join(links[-period:] + links[-period:][:1]) if period else " -> ".join(links)
        return (f"run stopped: {problem}, so events keep causing events.\n"
                f"The cycle: {cycle}\n"
                "The message that would continue it is dead-lettered; nothing it did was kept. "
                "Break the cycle: make a handler in it stop producing (e.g. react once per "
                "workflow), or raise max_chain if the chain is really that long.")

    def __repr__(self) -> str:
        return (f"Simulation(t={self.now}, services={self.services}, seed={self.seed!r}, "
                f"messages={self._ids}, dead_letters={len(self.dead_letters)})")


def _require_whole(name: str, value: object, least: int, advice: str = "") -> None:
    """Refuse a setting that is not a whole number >= `least`, saying how to write it."""
    if type(value) is not int or value < least:  # type: ignore[operator]
        hint = (f" (text, not a number: write {name}={value.strip()})"
                if isinstance(value, str) and value.strip().isdigit() else "")
        raise ValueError(f"{name} must be a whole number, at least {least}; got "
                         f"{value!r}{hint}{advice}")


def _services_given(services: object) -> list[Service]:
    """The services a Simulation is built from, or a clear error for what was given instead."""
    if isinstance(services, Service):
        raise TypeError(f"Simulation takes a list of services, got one; write "
                        f"Simulation([{services.name}])")
    if not isinstance(services, Iterable) or isinstance(services, (str, bytes, dict)):
        raise TypeError(f"Simulation takes a list of services, got {describe_value(services)}")
    given = list(services)
    bad = [item for item in given if not isinstance(item, Service)]
    if bad:
        raise TypeError(f"Simulation takes a list of services; one item is {describe_value(bad[0])}")
    return given
