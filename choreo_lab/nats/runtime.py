"""`NatsRuntime`: the course's runtime interface on NATS JetStream, services as OS processes.

    from choreo_lab.nats import NatsRuntime, services_from

    with NatsRuntime(services_from("choreo_lab.examples.orders:order_services")) as runtime:
        runtime.publish(OrderRequested(...), correlation_id="o-1")
        runtime.run_until_idle()          # real time: waits until nothing is left to deliver
        runtime.kill("payment")           # kill -9 of its processes
        runtime.restart("payment")
        runtime.state("payment")          # read from payment's own SQLite file
        runtime.log()                     # the messages the stream kept, read back

It starts a `nats-server` unless given `server=` URL(s), creates the run's streams, one
durable consumer per service, and starts `instances` worker processes per service. Every
call is synchronous: the NATS client lives on a loop in a background thread, so this works
the same in a script, a test or a notebook cell.

What it does not promise (see `features`): virtual time, injected faults and crash points,
a trace (the stream keeps the messages, not a record of every step), determinism, timers,
and per-key order (JetStream redelivers a failed message after later ones of its key).
"""

from __future__ import annotations

import asyncio
import itertools
import shutil
import tempfile
import time
import weakref
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import nats
import nats.errors

from .. import vocabulary as words
from ..broker import DeadLetter
from ..envelope import Envelope
from ..errors import ChoreoError, UnknownService
from ..events import Message, check_event
from ..runtime import Features, Start
from ..service import Service
from ..text import describe_value
from . import wire
from .features import NATS_FEATURES
from .jetstream import GroupOptions, JetStream, ParkedLetter
from .loop import LoopThread
from .names import Names
from .processes import ServiceProcesses
from .server import NatsServer
from .snapshot import MessageLog, NoTrace
from .sources import source_of
from .store import read_counters, read_state

#: Seconds between two looks at the broker while waiting for quiet.
POLL = 0.02


#: Seconds the runtime tries to reach its server(s) before giving up.
CONNECT_WITHIN = 5.0


class NotQuiet(ChoreoError, TimeoutError):
    """run_until_idle() ran out of (real) time with messages still waiting or in flight."""


class NatsUnreachable(ChoreoError, ConnectionError):
    """No server answered at the URL(s) given within `CONNECT_WITHIN` seconds."""

    def __init__(self, servers: list[str], reason: str) -> None:
        self.servers, self.reason = servers, reason
        super().__init__(f"cannot connect to {', '.join(servers)}: {reason}; start a server "
                         "there, or leave out server= to have the runtime start one")


async def connect_within(servers: list[str], seconds: float) -> nats.NATS:
    """A client connected to one of `servers`, or `NatsUnreachable` after `seconds`.

    Once connected it reconnects for ever (a cluster fails over). Errors are kept, not
    logged: nats-py logs a traceback for every refused attempt, dozens a second.
    """
    errors: list[BaseException] = []

    async def keep(error: BaseException) -> None:
        errors.append(error)

    client = nats.NATS()
    try:
        await asyncio.wait_for(client.connect(servers=servers, name="choreo-lab runtime",
                                              error_cb=keep, max_reconnect_attempts=-1,
                                              reconnect_time_wait=0.2), seconds)
    except asyncio.TimeoutError:
        await client.close()
        raise NatsUnreachable(servers, _reason(errors[-1] if errors else None)) from None
    return client


def _reason(error: BaseException | None) -> str:
    """A refused connection in words ("connection refused"), else the error's own text."""
    if error is None:
        return "no answer"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    return str(error) or type(error).__name__


class NatsRuntime:
    """Runs services as OS processes over NATS JetStream, behind the course's `Runtime` interface.

    - `server`: URL(s) of a running server or cluster; None starts a server of its own.
    - `directory`: where the databases, logs and (own) server data go; a temporary folder
      by default, removed by `close()`.
    - `run`: the run's name: its streams and subjects. A run owns its name on a server.
    - `replicas`: stream replicas (3 on a three-node cluster survives losing one node).
    - `max_attempts`, `backoff`, `max_backoff` (ms): as in the simulation.
    - `ack_wait` (ms): how long the broker waits for an ack before delivering again (a
      killed worker's messages come back after this).
    """

    features: Features = NATS_FEATURES

    def __init__(self, services: Iterable[Service] = (), *,
                 server: str | Sequence[str] | None = None, directory: str | Path | None = None,
                 run: str = "CHOREO", replicas: int = 1, max_attempts: int = 5, backoff: int = 10,
                 max_backoff: int = 1000, ack_wait: int = 1000, max_chain: int = 200) -> None:
        self.names = Names(run)
        self._own_directory = directory is None
        self.directory = Path(directory or tempfile.mkdtemp(prefix="choreo-nats-run-"))
        self.directory.mkdir(parents=True, exist_ok=True)
        self.epoch = time.time()
        self.options = GroupOptions(max_attempts, ack_wait, backoff, max_backoff, max_chain,
                                    self.epoch)
        self.server = None if server is not None else NatsServer(self.directory / "server").start()
        if server is None:
            self.servers = [self.server.url]  # type: ignore[union-attr]
        else:
            self.servers = [server] if isinstance(server, str) else list(server)
        self._loop = LoopThread()
        self._closed = False
        self._services: dict[str, Service] = {}
        self._processes: dict[str, ServiceProcesses] = {}
        self._status: dict[str, str] = {}
        self._classes: dict[str, type[Message]] = {}   # the types the services handle
        self._declared: dict[str, type[Message]] = {}  # and those published or declared
        self._ids = itertools.count(1)
        self._workflows = itertools.count(1)
        self._finalizer = weakref.finalize(self, _shutdown, self._processes, self._loop,
                                           self.server)
        self._nc: nats.NATS | None = None
        try:
            self._connect(replicas)
            for service in services:
                self._add_group(service, "now")
            self._start(self.services)
        except BaseException:
            self.close()  # no workers, loop or server left behind, and no asyncio noise at exit
            raise

    def _connect(self, replicas: int) -> None:
        async def connect() -> JetStream:
            self._nc = await connect_within(self.servers, CONNECT_WITHIN)
            jetstream = JetStream(self._nc.jetstream(timeout=2), self.names)
            await jetstream.create_streams(replicas)
            return jetstream
        self._broker = self._call(connect())

    def _call(self, coroutine: Any, timeout: float | None = 60) -> Any:
        return self._loop.run(coroutine, timeout)

    # -- services ----------------------------------------------------------------------------
    def add_service(self, service: Service, *, start: Start | int = "beginning") -> None:
        """Add a consumer group (a durable consumer) and start its worker processes.

        "beginning" replays every retained message of the types it handles, "now" only gets
        what is published from now on, a time `t` (ms) what was published at or after `t`.
        """
        if not isinstance(service, Service):
            raise TypeError(f"add_service() takes a Service, got {describe_value(service)}")
        if start not in ("beginning", "now") and not (type(start) is int and start >= 0):
            raise ValueError(f"start must be 'beginning', 'now' or a time in ms >= 0, "
                             f"got {start!r}")
        self._add_group(service, start)
        self._start([service.name])

    def _add_group(self, service: Service, start: Start | int) -> None:
        if service.name in self._services:
            raise ValueError(f"a service named {service.name!r} is already in this runtime")
        if service.processing_time * 2 > self.options.ack_wait:
            raise ValueError(f"service {service.name!r} takes {service.processing_time} ms per "
                             f"message, too close to ack_wait ({self.options.ack_wait} ms): the "
                             "broker would deliver it again while it is still being handled. "
                             "Raise ack_wait.")
        source = source_of(service)
        self._call(self._broker.add_group(service, start, self.options))
        self._services[service.name] = service
        self._classes.update({name: h.event_type for name, h in service.handlers.items()})
        self._declared.update({cls.event_type: cls for h in service.handlers.values()
                               for cls in h.publishes})
        self._processes[service.name] = ServiceProcesses(
            service.name, service.instances, source, servers=self.servers,
            database=self.directory / f"{service.name}.sqlite", names=self.names,
            log=self.directory / f"{service.name}.log")
        self._status[service.name] = words.DOWN

    def _start(self, names: list[str], timeout: float = 30.0) -> None:
        """Start the services' workers and wait until each one is asking for messages."""
        for name in names:
            if not self._processes[name].pids:
                self._processes[name].start()
            self._status[name] = words.UP
        deadline = time.monotonic() + timeout
        waiting = list(names)
        while waiting:
            self._check_workers()
            waiting = [name for name in waiting if self._call(self._broker.group_info(name))
                       .num_waiting < len(self._processes[name].pids)]
            if waiting and time.monotonic() > deadline:
                raise NotQuiet(f"the workers of {', '.join(waiting)} did not start within "
                               f"{timeout:.0f} s; see their logs in {self.directory}")
            if waiting:
                time.sleep(POLL)

    @property
    def services(self) -> list[str]:
        return list(self._services)

    def _require(self, name: str) -> ServiceProcesses:
        if name not in self._processes:
            raise UnknownService(name, self.services)
        return self._processes[name]

    def status(self, name: str) -> str:
        """up or down."""
        self._require(name)
        return self._status[name]

    def pids(self, name: str) -> list[int]:
        """The process ids of the service's running workers."""
        return self._require(name).pids

    def kill(self, name: str) -> None:
        """kill -9 the service's processes. Unacked messages come again after `ack_wait`."""
        self._require(name).kill()
        self._status[name] = words.DOWN

    def restart(self, name: str) -> None:
        """Start the service's processes again (they open its database as last committed);
        returns once they ask for messages."""
        self._require(name)
        self._start([name])

    def state(self, name: str) -> dict[str, Any]:
        """The service's committed state, read from its SQLite file (initial state if none yet)."""
        database = self._require(name).database
        if not database.exists():
            return self._services[name].fresh_state()
        return read_state(database) or self._services[name].fresh_state()

    def stats(self) -> dict[str, dict[str, Any]]:
        """Per service: status, instances, backlog, in flight, handled, retried, dead-lettered."""
        letters = self.dead_letters
        report = {}
        for name, processes in self._processes.items():
            info = self._call(self._broker.group_info(name))
            counters = read_counters(processes.database) if processes.database.exists() else {}
            report[name] = {"status": self._status[name], "instances": len(processes.pids),
                            "backlog": info.num_pending, "in_flight": info.num_ack_pending,
                            "handled": counters.get("handled", 0),
                            "retried": info.num_redelivered,
                            "dead_lettered": sum(1 for letter in letters if letter.group == name)}
        return report

    # -- publishing and waiting ------------------------------------------------------------------
    def publish(self, event: Message, *, key: str | None = None, correlation_id: str | None = None,
                producer: str = "outside") -> Envelope:
        """Publish from outside; returns once the stream has stored it."""
        event = check_event(event, "publish()")
        self._declared.setdefault(event.event_type, type(event))
        if correlation_id is None:
            correlation_id = f"c{next(self._workflows)}"
        envelope = Envelope(f"outside-{next(self._ids)}", event,
                            key if key is not None else correlation_id, correlation_id, None,
                            producer, self.now)
        self._call(self._broker.publish(envelope))
        return envelope

    def publish_many(self, messages: Iterable[tuple[Message, str | None]], *,
                     producer: str = "outside") -> list[Envelope]:
        """Publish (event, correlation id) pairs together: one wait for all the confirmations.

        The key of each is its correlation id (a new one when None). Cost: one round trip
        to the broker in all, where `publish` takes one per message.
        """
        envelopes = []
        for event, correlation_id in messages:
            event = check_event(event, "publish_many()")
            self._declared.setdefault(event.event_type, type(event))
            workflow = correlation_id if correlation_id is not None else f"c{next(self._workflows)}"
            envelopes.append(Envelope(f"outside-{next(self._ids)}", event, workflow, workflow,
                                      None, producer, self.now))
        self._call(self._broker.publish_many(envelopes))
        return envelopes

    @property
    def now(self) -> int:
        """Real ms since the runtime started (what handlers see as ctx.now)."""
        return int((time.time() - self.epoch) * 1000)

    def run_until_idle(self, timeout: float = 30.0) -> None:
        """Wait until no up service has anything waiting or unacked (twice in a row).

        Real time: raises `NotQuiet` after `timeout` seconds, saying what still waits. A
        service that is down keeps its backlog and is not waited for.
        """
        deadline = time.monotonic() + timeout
        quiet_in_a_row = 0
        while quiet_in_a_row < 2:
            self._check_workers()
            up = [name for name in self._services if self._status[name] == words.UP]
            quiet_in_a_row = quiet_in_a_row + 1 if self._quiet(up) else 0
            if time.monotonic() > deadline:
                raise NotQuiet(f"not quiet after {timeout:.0f} s: {self._waiting()}")
            time.sleep(POLL)

    def quiet(self) -> bool:
        """Nothing waiting or unacked for any service (up or down), and nothing published
        while it was asked: no workflow has anything left to deliver."""
        return self._quiet(self.services)

    def _quiet(self, services: list[str]) -> bool:
        try:
            return self._call(self._broker.quiet(services))
        except nats.errors.Error:  # the server is failing over: ask again
            return False

    def _waiting(self) -> str:
        stats = self.stats()
        busy = [f"{name} has {row['backlog']} waiting and {row['in_flight']} in flight"
                for name, row in stats.items() if row["backlog"] or row["in_flight"]]
        return "; ".join(busy) or "the stream was still growing"

    def _check_workers(self) -> None:
        for name, processes in self._processes.items():
            codes = processes.exited()
            if self._status[name] == words.UP and codes:
                raise ChoreoError(f"a worker of {name!r} exited by itself (code {codes[0]}); "
                                  f"the end of its log ({processes.log}):\n{processes.log_tail()}")

    def stream_leader(self) -> str | None:
        """The name of the server that leads the run's stream (None on a single server)."""
        return self._call(self._broker.stream_leader())

    def log(self) -> MessageLog | NoTrace:
        """The messages the run's stream holds (JetStream keeps them: the retained log), read
        back with the services' classes, oldest first. A NoTrace saying why if some are of a
        type no service here handles or declares in `publishes=` (they cannot be rebuilt)."""
        classes = {**self._declared, **self._classes}
        sent = self._call(self._broker.published())
        unknown = sorted({name for name in map(wire.event_type_of, sent) if name not in classes})
        if unknown:
            return NoTrace(f"the broker's log holds messages of {', '.join(unknown)}, which no "
                           "service here handles or declares (publishes=), so it cannot be "
                           "read back")
        return MessageLog(wire.decode(data, classes) for data in sent)

    # -- dead letters ------------------------------------------------------------------------
    def _parked(self) -> list[ParkedLetter]:
        return self._call(self._broker.dead_letters(self._classes, self.epoch))

    @property
    def dead_letters(self) -> list[DeadLetter]:
        """Messages a group gave up on (from the dead-letter stream), oldest first."""
        return [parked.letter for parked in self._parked()]

    def redrive(self, dead_letter: DeadLetter | None = None) -> int:
        """Send one dead letter (or all) to its group again, attempts counted from zero."""
        parked = self._parked()
        if dead_letter is not None:
            # this letter, not only its message: a re-driven message that failed again is a new
            # letter, parked at a later time
            wanted = (dead_letter.group, dead_letter.envelope.message_id, dead_letter.time)
            parked = [p for p in parked
                      if (p.letter.group, p.letter.envelope.message_id, p.letter.time) == wanted]
            if not parked:
                raise ValueError(f"{dead_letter.envelope.message_id} for {dead_letter.group!r} is "
                                 "not in the dead-letter queue (re-driven already?); pick one "
                                 "from runtime.dead_letters")
        for letter in parked:
            self._call(self._broker.redrive(letter))
        return len(parked)

    # -- the end -------------------------------------------------------------------------------
    def close(self) -> None:
        """Kill the workers, disconnect, stop the own server, remove the own directory."""
        if self._closed:
            return
        self._closed = True
        try:
            if self._nc is not None:
                self._call(self._nc.close(), timeout=10)
        except Exception:  # noqa: BLE001 - closing what may already be gone
            pass
        self._finalizer()
        if self._own_directory:
            shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> NatsRuntime:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (f"NatsRuntime(services={self.services}, servers={self.servers}, "
                f"run={self.names.run!r})")


def _shutdown(processes: dict[str, ServiceProcesses], loop: LoopThread,
              server: NatsServer | None) -> None:
    """Leave nothing running: workers, the loop thread, the own server (also at exit)."""
    for service in processes.values():
        service.kill()
    loop.stop()
    if server is not None:
        server.stop()
