"""The simulation: a seeded, virtual-time scheduler that delivers messages to services.

Nothing here uses threads or the wall clock. `publish` appends to a topic's log and
schedules one delivery per subscribed group; `step`, `run_for` and `run_until_idle`
deliver them. Latency, jitter and faults come from seeded random streams, so the same
seed and the same code give the same trace, ids and timestamps every time.
"""

from __future__ import annotations

import heapq
import random
from collections import deque
from collections.abc import Iterable, Sequence
from typing import Any, Literal

from .broker import ConsumerGroup, DeadLetter
from .envelope import Delivery, Envelope
from .errors import FaultPlanError, RunawayError, UnknownService
from .events import Event, check_event
from .runtime import Features
from .faults import SCHEDULED_KINDS, AnyFault, FaultInjector, FaultPlan
from .service import Context, Service, produced_events
from .trace import Trace

UP, DOWN, PAUSED = "up", "down", "paused"
_ARRIVE, _COMPLETE, _SCHEDULED = 0, 1, 2

#: A cycle that fans out (a handler returning two events that lead back to it) grows wide
#: rather than long, so a run also stops when one workflow's handlers have published more
#: than RUNAWAY_WIDTH x max_chain messages.
RUNAWAY_WIDTH = 50


class RunningService:
    """A service inside one simulation: its committed state, status and counters."""

    def __init__(self, definition: Service) -> None:
        self.definition = definition
        self.name = definition.name
        self.state: dict[str, Any] = definition.fresh_state()
        self.handlers = {event_type.topic: fn for event_type, fn in definition.handlers.items()}
        self.group = ConsumerGroup(definition.name, definition.topics)
        self.status = UP
        self.instances = definition.instances
        self.processing_time = definition.processing_time
        self.busy: list[Delivery] = []       # deliveries being processed (processing_time > 0)
        self.incarnation = 0                 # bumped by kill: late completions are ignored
        self.handled = self.retried = self.dead_lettered = 0

    def stats(self) -> dict[str, Any]:
        return {"status": self.status, "instances": self.instances,
                "backlog": len(self.group.backlog), "in_flight": self.group.in_flight,
                "handled": self.handled, "retried": self.retried,
                "dead_lettered": self.dead_lettered}


class Simulation:
    """Runs services together over an in-memory broker, deterministically.

    - `seed`: drives jitter and probabilistic faults. Same seed, same trace.
    - `latency`, `jitter`: virtual ms from publish to arrival (latency + 0..jitter).
    - `max_attempts`: deliveries of one message to one group before it is dead-lettered.
    - `backoff`: wait before the first retry; doubles on each retry, capped at `max_backoff`.
    - `ack_timeout`: how long the broker waits for an ack that never comes (drops, lost acks).
    - `outbox`: commit state and outgoing events together (True), or write state first and
      publish after (False: the dual-write bug, for teaching).
    - `faults`: a `FaultPlan` (or a list of faults) to inject.
    - `max_chain`: the longest causal chain allowed before a run stops as a cycle (and, times
      `RUNAWAY_WIDTH`, the most messages one workflow's handlers may publish).
    """

    features: Features = Features(**{name: name != "timers" for name in Features.__dataclass_fields__})

    def __init__(self, services: Iterable[Service], *, seed: int | str = 0, latency: int = 1,
                 jitter: int = 0, max_attempts: int = 5, backoff: int = 10, max_backoff: int = 1000,
                 ack_timeout: int = 30, outbox: bool = True,
                 faults: FaultPlan | Sequence[AnyFault] | None = None, max_chain: int = 200) -> None:
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {max_attempts}")
        self.seed = seed
        self.latency, self.jitter = latency, jitter
        self.max_attempts, self.backoff, self.max_backoff = max_attempts, backoff, max_backoff
        self.ack_timeout, self.outbox, self.max_chain = ack_timeout, outbox, max_chain
        self.now = 0
        self.trace = Trace()
        self.topics: dict[str, list[Envelope]] = {}
        self.dead_letters: list[DeadLetter] = []
        self._services: dict[str, RunningService] = {}
        self._subscribers: dict[str, list[RunningService]] = {}
        # The agenda: what is due at each virtual time, in the order it was scheduled, and a
        # heap of those times. Same order as one heap of (time, sequence number) entries, but
        # messages due at the same moment share one heap entry.
        self._agenda: dict[int, deque[tuple[int, Any]]] = {}
        self._times: list[int] = []
        self._ids = 0
        self._workflows = 0
        self._caused: dict[str, int] = {}  # workflow -> messages its handlers have published
        self._random = random.Random(f"latency/{seed}").random
        self._row = self.trace.append_row
        for service in services:
            self.add_service(service, start="now")
        self.faults = self._plan(faults)
        self._injector = FaultInjector(self.faults, seed) if self.faults.faults else None
        for fault in self.faults.faults:
            if fault.kind in SCHEDULED_KINDS:
                self._schedule(fault.at, _SCHEDULED, fault)

    def _plan(self, faults: FaultPlan | Sequence[AnyFault] | None) -> FaultPlan:
        plan = faults if isinstance(faults, FaultPlan) else FaultPlan(faults=tuple(faults or ()))
        topics = sorted({topic for running in self._services.values() for topic in running.handlers})
        for fault in plan.faults:
            if fault.kind == "crash" and fault.point == "after_write_before_publish" and self.outbox:
                raise FaultPlanError(
                    "crash point 'after_write_before_publish' needs Simulation(outbox=False): "
                    "with the outbox, state and outgoing events are committed together, so "
                    "there is no moment between them to crash in")
            service = getattr(fault, "service", None)
            if service is not None and service not in self._services:
                raise FaultPlanError(f"the fault plan names {service!r}: "
                                     f"{UnknownService(service, self.services)}")
            event_type = getattr(fault, "event_type", None)
            if event_type is not None and event_type not in topics:
                raise FaultPlanError(f"the fault plan targets event type {event_type!r}, which no "
                                     f"service handles, so it could never fire; handled event "
                                     f"types: {', '.join(topics)}")
        return plan

    def set_delivery_faults(self, plan: FaultPlan) -> None:
        """From now on, inject these delivery faults instead of the current ones.

        For turning chaos up or down mid-run; the coin tosses still come from the seed, so
        the same calls at the same moments give the same run. Scheduled faults (kills,
        restarts, ...) stay as planned: call `kill()` etc. for new ones.
        """
        scheduled = [f for f in plan.faults if f.kind in SCHEDULED_KINDS]
        if scheduled:
            raise FaultPlanError(f"set_delivery_faults() takes delivery faults only, got "
                                 f"{scheduled[0].kind}; call sim.{scheduled[0].kind}(...) instead")
        kept = tuple(f for f in self.faults.faults if f.kind in SCHEDULED_KINDS)
        self.faults = FaultPlan(faults=kept + self._plan(plan).faults)
        self._injector = FaultInjector(self.faults, self.seed) if plan.faults else None

    # -- services ------------------------------------------------------------------------
    def add_service(self, service: Service, *, start: Literal["beginning", "now"] = "beginning") -> None:
        """Add a service (a new consumer group). `start="beginning"` replays the retained log."""
        if start not in ("beginning", "now"):
            raise ValueError(f"start must be 'beginning' or 'now', got {start!r}")
        if service.name in self._services:
            raise ValueError(f"a service named {service.name!r} is already in this simulation")
        running = RunningService(service)
        self._services[service.name] = running
        for topic in running.group.topics:
            self._subscribers.setdefault(topic, []).append(running)
        if start == "beginning":
            for envelope in self.trace.messages.values():
                if envelope.topic in running.handlers:
                    self._send(running, Delivery(envelope, running.name))

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
        return self._require(name).status

    def stats(self) -> dict[str, dict[str, Any]]:
        """Per service: status, instances, backlog, in flight, handled, retried, dead-lettered."""
        return {name: running.stats() for name, running in self._services.items()}

    def backlog(self, name: str) -> dict[str, int]:
        """Messages waiting for one service, per subscribed topic."""
        return self._require(name).group.backlog_by_topic()

    # -- faults you trigger by hand ------------------------------------------------------
    def kill(self, name: str) -> None:
        """Stop a service: it consumes nothing; what it was processing is redelivered later."""
        running = self._require(name)
        if running.status == DOWN:
            return
        running.status = DOWN
        running.incarnation += 1
        self.trace.record(self.now, "kill", name)
        for delivery in reversed(running.busy):
            self.trace.record(self.now, "abandon", name, delivery.envelope.message_id,
                              delivery.attempt, "killed while processing")
            self._retry(running, delivery, "killed while processing", delay=None)
        running.busy.clear()

    def restart(self, name: str) -> None:
        """Bring a killed (or paused) service back; it keeps the state it had committed."""
        running = self._require(name)
        if running.status == UP:
            return
        running.status = UP
        self.trace.record(self.now, "restart", name)
        self._dispatch(running)

    def pause(self, name: str) -> None:
        """The service finishes what it holds but takes nothing new."""
        running = self._require(name)
        if running.status == UP:
            running.status = PAUSED
            self.trace.record(self.now, "pause", name)

    def resume(self, name: str) -> None:
        running = self._require(name)
        if running.status == PAUSED:
            running.status = UP
            self.trace.record(self.now, "resume", name)
            self._dispatch(running)

    def scale(self, name: str, instances: int) -> None:
        """Run `instances` competing consumers for the service."""
        if instances < 1:
            raise ValueError(f"instances must be at least 1, got {instances}; use kill() to stop it")
        running = self._require(name)
        running.instances = instances
        self.trace.record(self.now, "scale", name, detail=f"{instances} instances")
        self._dispatch(running)

    def redrive(self, dead_letter: DeadLetter | None = None) -> int:
        """Send one dead letter (or all) to its group again, attempts counted from zero."""
        chosen = [dead_letter] if dead_letter is not None else list(self.dead_letters)
        if dead_letter is not None and dead_letter not in self.dead_letters:
            raise ValueError(f"{dead_letter.envelope.message_id} for {dead_letter.group!r} is not "
                             "on the dead-letter topic (re-driven already?); pick one from "
                             "sim.dead_letters")
        for letter in chosen:
            self.dead_letters.remove(letter)
            running = self._require(letter.group)
            self.trace.record(self.now, "redrive", letter.group, letter.envelope.message_id)
            self._schedule(self.now, _ARRIVE, (running, Delivery(letter.envelope, letter.group)))
        return len(chosen)

    # -- publishing ----------------------------------------------------------------------
    def publish(self, event: Event, *, key: str | None = None, correlation_id: str | None = None,
                producer: str = "outside") -> Envelope:
        """Publish an event from outside the services (a customer, a test, a notebook).

        The event is validated first. `correlation_id` names the workflow it starts (a new
        one by default); `key` defaults to it. An event nobody subscribes to is still kept
        in its topic's log (a group added later can replay it) and marked in the trace.
        """
        event = check_event(event, "publish()")
        if correlation_id is None:
            self._workflows += 1
            correlation_id = f"c{self._workflows}"
        return self._publish(event, key if key is not None else correlation_id, correlation_id,
                             None, producer, 0)

    def _publish(self, event: Event, key: str, correlation_id: str, causation_id: str | None,
                 producer: str, depth: int) -> Envelope:
        self._ids += 1
        envelope = Envelope(f"m{self._ids}", event, key, correlation_id, causation_id,
                            producer, self.now, depth)
        topic = envelope.topic
        log = self.topics.get(topic)
        if log is None:
            log = self.topics[topic] = []
        log.append(envelope)
        trace = self.trace
        trace.remember(envelope)
        self._row((self.now, "publish", producer, envelope.message_id, 0, event))
        subscribers = self._subscribers.get(topic)
        if not subscribers:
            trace.record(self.now, "no-subscriber", producer, envelope.message_id, 0,
                         f"nobody subscribes to {topic} yet; kept in its log")
            return envelope
        for running in subscribers:
            self._send(running, Delivery(envelope, running.name))
        return envelope

    def _send(self, running: RunningService, delivery: Delivery) -> None:
        """Schedule a delivery's arrival at a group, keeping per-key order unless reordered."""
        arrival = self.now + self.latency
        if self.jitter:
            arrival += int(self._random() * (self.jitter + 1))
        envelope = delivery.envelope
        overtakable = False
        if self._injector is not None:
            event_type = envelope.event_type
            for kind in ("delay", "reorder"):
                fault = self._injector.fire(kind, running.name, event_type, envelope.correlation_id)
                if fault is not None:
                    arrival += fault.by  # type: ignore[union-attr]
                    overtakable = overtakable or kind == "reorder"
                    self.trace.record(self.now, kind, running.name, envelope.message_id, 0,
                                      f"+{fault.by} ms")  # type: ignore[union-attr]
        if not overtakable:
            last = running.group.last_arrival
            previous = last.get(envelope.key, arrival)
            if previous > arrival:
                arrival = previous
            last[envelope.key] = arrival
        self._schedule(arrival, _ARRIVE, (running, delivery))

    def _schedule(self, time: int, action: int, payload: Any) -> None:
        due = self._agenda.get(time)
        if due is None:
            due = self._agenda[time] = deque()
            heapq.heappush(self._times, time)
        due.append((action, payload))

    def _next(self) -> tuple[int, Any]:
        """Take the earliest scheduled thing off the agenda and move the clock to it."""
        time = self._times[0]
        due = self._agenda[time]
        item = due.popleft()
        if not due:
            del self._agenda[time]
            heapq.heappop(self._times)
        if time > self.now:
            self.now = time
        return item

    # -- delivering ----------------------------------------------------------------------
    def _dispatch(self, running: RunningService) -> None:
        """Hand waiting messages to free instances of a service."""
        group, backlog = running.group, running.group.backlog
        while backlog and running.status == UP and len(running.busy) < running.instances:
            delivery = group.take()
            if delivery is None:
                return  # every waiting message's key is held by one in flight
            self._attempt(running, delivery)

    def _arrive(self, running: RunningService, delivery: Delivery) -> None:
        """A delivery reaches its group: straight to an instance if nothing waits ahead of it."""
        group = running.group
        if group.backlog or running.status != UP or len(running.busy) >= running.instances:
            group.backlog.append(delivery)
            self._dispatch(running)
            return
        envelope = delivery.envelope
        holder = group.holder.get(envelope.key)
        if holder is None or holder == envelope.message_id:
            group.holder[envelope.key] = envelope.message_id
            self._attempt(running, delivery)
        else:
            group.backlog.append(delivery)  # its key waits for a message in flight

    def _attempt(self, running: RunningService, delivery: Delivery) -> None:
        """One delivery attempt: count it, maybe lose it on the way, else process it."""
        delivery.attempt = attempt = delivery.attempt + 1
        envelope, now = delivery.envelope, self.now
        self._row((now, "deliver" if attempt == 1 else "redeliver", running.name,
                   envelope.message_id, attempt, ""))
        if self._injector is not None and self._injector.fire(
                "drop", running.name, envelope.event_type, envelope.correlation_id):
            self.trace.record(now, "drop", running.name, envelope.message_id, attempt,
                              f"lost on the way; redelivered after the {self.ack_timeout} ms "
                              "ack timeout")
            self._retry(running, delivery, "delivery lost (no ack)", delay=self.ack_timeout)
        elif running.processing_time:
            running.busy.append(delivery)
            self._schedule(now + running.processing_time, _COMPLETE,
                           (running, running.incarnation, delivery))
        else:
            self._handle(running, delivery)

    def _handle(self, running: RunningService, delivery: Delivery) -> None:
        """Run the handler; commit state and outgoing events together (outbox), then ack."""
        envelope, attempt, name, now = delivery.envelope, delivery.attempt, running.name, self.now
        injector = self._injector
        handler = running.handlers[envelope.topic]
        context = Context(name, envelope, attempt, now, running.state)
        try:
            result = handler(envelope.event, context)
            produced = () if result is None else produced_events(handler, name, result)
        except Exception as error:  # a learner's handler may raise anything: retry, never crash
            reason = f"{type(error).__name__}: {error}"
            self.trace.record(now, "nack", name, envelope.message_id, attempt, reason)
            self._retry(running, delivery, reason, delay=self._backoff(attempt))
            return
        # Decided only now: a crash fault (with `times`) is used up by a handler that ran.
        crash = injector.fire("crash", name, envelope.event_type,
                              envelope.correlation_id) if injector is not None else None
        point = crash.point if crash is not None else None  # type: ignore[union-attr]
        if point == "before_commit":
            return self._crash(running, delivery, point)
        if context._working is not None:
            running.state.clear()
            running.state.update(context._working)
        if point == "after_write_before_publish":
            return self._crash(running, delivery, point)
        if produced:
            depth = envelope.depth + 1
            workflow = envelope.correlation_id
            caused = self._caused[workflow] = self._caused.get(workflow, 0) + len(produced)
            if depth > self.max_chain:
                raise RunawayError(self._describe_cycle(
                    envelope, f"one causal chain of workflow {workflow!r} reached "
                              f"{self.max_chain} messages (max_chain)"))
            if caused > RUNAWAY_WIDTH * self.max_chain:
                raise RunawayError(self._describe_cycle(
                    envelope, f"the handlers of workflow {workflow!r} published more than "
                              f"{RUNAWAY_WIDTH * self.max_chain} messages "
                              f"({RUNAWAY_WIDTH} x max_chain)"))
            for event in produced:
                self._publish(event, envelope.key, envelope.correlation_id, envelope.message_id,
                              name, depth)
        if point == "after_commit_before_ack":
            return self._crash(running, delivery, point)
        running.handled += 1
        if (injector is not None and attempt < self.max_attempts
                and injector.fire("duplicate", name, envelope.event_type, envelope.correlation_id)):
            self.trace.record(now, "duplicate", name, envelope.message_id, attempt,
                              "ack lost; the broker will deliver it again")
            self._schedule(now + self.ack_timeout, _ARRIVE, (running, delivery))
            return
        self._row((now, "ack", name, envelope.message_id, attempt, ""))
        holder = running.group.holder  # release the key (inlined ConsumerGroup.release)
        if holder.get(envelope.key) == envelope.message_id:
            del holder[envelope.key]

    def _crash(self, running: RunningService, delivery: Delivery, point: str) -> None:
        self.trace.record(self.now, "crash", running.name, delivery.envelope.message_id,
                          delivery.attempt, point)
        self._retry(running, delivery, f"crashed {point.replace('_', ' ')}",
                    delay=self._backoff(delivery.attempt))

    def _backoff(self, attempt: int) -> int:
        return min(self.backoff * 2 ** (attempt - 1), self.max_backoff)

    def _retry(self, running: RunningService, delivery: Delivery, reason: str,
               delay: int | None) -> None:
        """Redeliver after `delay` (None: first in line), or dead-letter when attempts run out."""
        if delivery.attempt >= self.max_attempts:
            letter = DeadLetter(delivery.envelope, running.name, reason, delivery.attempt, self.now)
            self.dead_letters.append(letter)
            running.dead_lettered += 1
            running.group.release(delivery)
            self.trace.record(self.now, "dead-letter", running.name, delivery.envelope.message_id,
                              delivery.attempt, reason)
            return
        running.retried += 1
        if delay is None:
            running.group.backlog.appendleft(delivery)
        else:
            self._schedule(self.now + delay, _ARRIVE, (running, delivery))

    def _describe_cycle(self, envelope: Envelope, problem: str) -> str:
        chain = self.trace.causal_chain(envelope.message_id)
        links = [f"{e.producer} publishes {e.event_type}" for e in chain[-12:]]
        period = next((p for p in range(1, len(links) // 2 + 1)
                       if links[-p:] == links[-2 * p:-p]), None)
        cycle = " -> ".join(links[-period:] + links[-period:][:1]) if period else " -> ".join(links)
        return (f"run stopped: {problem}, so events keep causing events.\n"
                f"The cycle: {cycle}\n"
                "Break it: make a handler in the cycle stop producing (e.g. react once per "
                "workflow), or raise max_chain if the chain is really that long.")

    def _execute(self, action: int, payload: Any) -> None:
        if action == _ARRIVE:
            self._arrive(*payload)
        elif action == _COMPLETE:
            running, incarnation, delivery = payload
            if incarnation != running.incarnation:
                return  # the service was killed meanwhile; the delivery was abandoned
            running.busy.remove(delivery)
            self._handle(running, delivery)
            self._dispatch(running)
        else:
            getattr(self, payload.kind)(payload.service)

    # -- running -------------------------------------------------------------------------
    def step(self) -> bool:
        """Do the next scheduled thing (an arrival, a completion, a planned fault). False if none."""
        if not self._times:
            return False
        self._execute(*self._next())
        return True

    def run_for(self, duration: int) -> None:
        """Advance virtual time by `duration` ms, doing everything scheduled until then."""
        if duration < 0:
            raise ValueError(f"run_for() needs a duration >= 0 ms, got {duration}; "
                             "virtual time never goes back")
        end = self.now + duration
        times = self._times
        while times and times[0] <= end:
            self.step()
        self.now = end

    def run_until_idle(self, max_steps: int = 1_000_000) -> None:
        """Run until nothing is scheduled. Messages for a down service stay in its backlog.

        Raises `RunawayError` if a causal chain grows past `max_chain` (a cycle) or
        `max_steps` pass without the run settling.
        """
        times, take, execute = self._times, self._next, self._execute
        steps = 0
        while times:
            action, payload = take()
            if action == _ARRIVE:  # the common case, inlined
                self._arrive(*payload)
            else:
                execute(action, payload)
            steps += 1
            if steps >= max_steps and times:
                raise RunawayError(f"run_until_idle stopped after {max_steps} steps without the "
                                   "system settling; it may be retrying forever or growing. "
                                   "Look at the end of sim.trace, or pass a larger max_steps.")

    @property
    def idle(self) -> bool:
        """Nothing scheduled (there may still be a backlog for a service that is down)."""
        return not self._times

    def __repr__(self) -> str:
        return (f"Simulation(t={self.now}, services={self.services}, seed={self.seed!r}, "
                f"messages={self._ids}, dead_letters={len(self.dead_letters)})")
