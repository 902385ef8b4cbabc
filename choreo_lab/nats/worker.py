"""A service as an OS process of its own: fetch, handle, commit, publish, ack.

    python -m choreo_lab.nats.worker choreo_lab.examples.orders:order_services payment \\
        --server nats://127.0.0.1:4222 --database run/payment.sqlite

The worker builds its service from the source (the same code the simulation runs), binds
to the service's durable consumer (created beforehand by the runtime; competing instances
bind the same one) and loops over batches:

    fetch up to BATCH messages -> run each handler on the state -> commit state and the
    events they returned in one SQLite transaction (the outbox) -> publish the outbox rows,
    each with Nats-Msg-Id = its message id -> ack the messages (nak the failed ones, with
    a growing delay)

If a handler in the batch raises, the transaction is rolled back and the batch is handled
again one message per transaction, so the others still commit (pure handlers run twice
then; what the first run did is gone). The failure's reason is published on the failures
subject, where the runtime finds it if the message ends in the dead letters.

Settings that belong to the group (backoff, the clock's epoch, max_chain) come from the
durable consumer's metadata, so every instance uses the same ones.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from dataclasses import dataclass

import nats
import nats.errors
from nats.aio.msg import Msg
from nats.js import JetStreamContext

from ..envelope import Envelope
from ..errors import HandlerError, RunawayError
from ..events import Message
from ..service import Service, produced_events
from ..service import with_middleware
from ..text import describe_error
from . import wire
from .context import LiveContext
from .names import Names
from .pull import Puller, delivery_count
from .sources import ServiceSource
from .store import OutboxRow, ServiceStore

#: Messages pulled (and committed) together at most; a slow service (processing_time) takes one.
BATCH = 256
#: Seconds a pull request lives on the server while no message comes.
FETCH_WAIT = 1.0
#: Seconds to wait for the broker to confirm the outbox rows before sending them again.
CONFIRM_WAIT = 5.0


@dataclass(frozen=True)
class Received:
    """A message as this worker got it: the NATS message, its envelope, the attempt number."""

    msg: Msg
    envelope: Envelope | None  # None if it could not be read (then `problem` says why)
    attempt: int
    sequence: int              # its place in the stream
    problem: str = ""


@dataclass(frozen=True)
class Handled:
    received: Received
    produced: list[Message]


@dataclass(frozen=True)
class Failed:
    received: Received
    reason: str


Outcome = Handled | Failed


@dataclass(frozen=True)
class GroupSettings:
    """What every instance of a group agrees on, read from the durable consumer's metadata."""

    epoch: float = 0.0        # wall-clock time (s) of the run's t=0: ctx.now is ms since then
    backoff: int = 10         # ms before the first retry after a failure; doubling...
    max_backoff: int = 1000   # ... up to this
    max_chain: int = 200      # the longest causal chain before a message is refused

    @classmethod
    def from_metadata(cls, metadata: dict[str, str] | None) -> GroupSettings:
        given = metadata or {}
        return cls(float(given.get("epoch", 0.0)), int(given.get("backoff", 10)),
                   int(given.get("max_backoff", 1000)), int(given.get("max_chain", 200)))

    def retry_delay(self, attempt: int) -> float:
        """Seconds before retry number `attempt` after a failure (the simulation's rule)."""
        return min(self.backoff * 2 ** (attempt - 1), self.max_backoff) / 1000


class Worker:
    """One instance of one service, bound to the service's durable consumer."""

    def __init__(self, service: Service, store: ServiceStore, names: Names,
                 servers: list[str]) -> None:
        self.service = service
        self.name = service.name
        self.store = store
        self.names = names
        self.servers = servers
        self.handlings = dict(service.handlers)
        self.handlers = {name: with_middleware(handling.handler, service.middleware)
                         for name, handling in self.handlings.items()}
        self.classes = {name: handling.event_type for name, handling in self.handlings.items()}
        self.batch = 1 if service.processing_time else BATCH
        self.settings = GroupSettings()
        self.js: JetStreamContext

    # -- the loop -------------------------------------------------------------------------
    async def run(self) -> None:
        """Connect, publish what a previous life left in the outbox, then handle forever."""
        self.nc = await nats.connect(servers=self.servers, name=f"{self.name}-{os.getpid()}",
                                     max_reconnect_attempts=-1, reconnect_time_wait=0.2)
        self.js = self.nc.jetstream()
        consumer = await self.js.consumer_info(self.names.stream, self.name)
        self.settings = GroupSettings.from_metadata(consumer.config.metadata)
        await self.relay(self.store.unsent())
        puller = Puller(self.nc, self.names.stream, self.name, self.batch, FETCH_WAIT)
        await puller.start()
        while True:
            try:
                messages = await puller.take()
            except nats.errors.Error as error:  # reconnecting: ask again
                print(f"{self.name}: pulling failed ({describe_error(error)}); retrying",
                      file=sys.stderr)
                await asyncio.sleep(0.1)
                continue
            if messages:
                await self.handle([self.receive(msg) for msg in messages])

    def receive(self, msg: Msg) -> Received:
        attempt, sequence = delivery_count(msg)
        try:
            return Received(msg, wire.decode(msg.data, self.classes), attempt, sequence)
        except Exception as error:  # a message this service cannot read: it fails like a handler
            return Received(msg, None, attempt, sequence, describe_error(error))

    async def handle(self, batch: list[Received]) -> None:
        """One batch: the slow part outside the transaction, then commit, publish, settle."""
        if self.service.processing_time:
            await asyncio.sleep(self.service.processing_time / 1000 * len(batch))
        outcomes, rows = self.commit(batch)
        await self.relay(rows)
        await self.settle(outcomes)

    # -- handling and committing (synchronous: SQLite and the handlers) ----------------------
    def commit(self, batch: list[Received]) -> tuple[list[Outcome], list[OutboxRow]]:
        """Handle the batch in one transaction; if anything fails, one transaction per message."""
        self.store.begin()
        outcomes = [self.run_handler(item) for item in batch]
        if all(isinstance(outcome, Handled) for outcome in outcomes):
            try:
                return outcomes, self.store.commit(self.outbox(outcomes), len(outcomes))
            except Exception:  # noqa: BLE001 - the state could not be stored: find out for which
                pass
        self.store.rollback()
        return self.commit_one_by_one(batch)

    def commit_one_by_one(self, batch: list[Received]) -> tuple[list[Outcome], list[OutboxRow]]:
        outcomes: list[Outcome] = []
        rows: list[OutboxRow] = []
        for item in batch:
            self.store.begin()
            outcome = self.run_handler(item)
            if isinstance(outcome, Handled):
                try:
                    rows += self.store.commit(self.outbox([outcome]), 1)
                except Exception as error:  # noqa: BLE001 - e.g. a value pickle cannot store
                    outcome = Failed(item, f"its state cannot be stored: {describe_error(error)}")
            else:
                self.store.rollback()
            outcomes.append(outcome)
        return outcomes, rows

    def run_handler(self, item: Received) -> Outcome:
        """Call the handler on the live state; any exception is a failure of this message."""
        envelope = item.envelope
        if envelope is None:
            return Failed(item, item.problem)
        handling = self.handlings.get(envelope.event_type)
        if handling is None:
            return Failed(item, f"{self.name} has no handler for {envelope.event_type}")
        context = LiveContext(self.name, envelope, item.attempt, self.now(), self.store.state)
        try:
            result = self.handlers[envelope.event_type](envelope.event, context)
            produced = produced_events(handling.name, self.name, result)
            self.refuse_what_is_not_supported(envelope, context, produced)
        except Exception as error:  # a learner's handler may raise anything: nak, retry later
            return Failed(item, describe_error(error))
        finally:
            context.close()
        return Handled(item, produced)

    def refuse_what_is_not_supported(self, envelope: Envelope, context: LiveContext,
                                     produced: list[Message]) -> None:
        if context.timers_set or context.timers_cancelled:
            raise HandlerError(f"{self.name}: timers (ctx.schedule / ctx.cancel) do not run on "
                               "the NATS backend yet (NatsRuntime.features.timers is False)")
        if produced and envelope.depth + 1 > self.settings.max_chain:
            raise RunawayError(f"one causal chain of workflow {envelope.correlation_id!r} reached "
                               f"{self.settings.max_chain} messages (max_chain): events keep "
                               "causing events")

    def outbox(self, outcomes: list[Outcome]) -> list[tuple[str, str, bytes]]:
        """The outbox rows for what the handlers returned: (message id, subject, body)."""
        produced = [(outcome.received.envelope, event) for outcome in outcomes
                    if isinstance(outcome, Handled) for event in outcome.produced]
        if not produced:
            return []
        now = self.now()
        rows = []
        numbers = self.store.next_message_numbers(len(produced))
        for number, (cause, event) in zip(numbers, produced, strict=True):
            assert cause is not None
            envelope = Envelope(f"{self.name}-{number}", event, cause.key, cause.correlation_id,
                                cause.message_id, self.name, now, cause.depth + 1, cause.root_id)
            subject = self.names.event_subject(event.topic, event.event_type)
            rows.append((envelope.message_id, subject, wire.encode(envelope)))
        return rows

    def now(self) -> int:
        """ms since the run began (wall clock): what ctx.now and published_at say."""
        return int((time.time() - self.settings.epoch) * 1000)

    # -- talking to the broker ------------------------------------------------------------
    async def relay(self, rows: list[OutboxRow]) -> None:
        """Publish outbox rows until the broker confirms them all; then they leave the outbox.

        A row sent twice (no confirmation came, or a crash before `sent`) carries the same
        Nats-Msg-Id, so the stream keeps it once.
        """
        while rows:
            futures = [await self.js.publish_async(row.subject, row.body,
                                                   headers={"Nats-Msg-Id": row.message_id})
                       for row in rows]
            try:
                await asyncio.wait_for(asyncio.gather(*futures), CONFIRM_WAIT)
            except Exception as error:  # noqa: BLE001 - timeouts, a leader election: send again
                for future in futures:
                    future.cancel()
                print(f"{self.name}: publishing {len(rows)} outbox rows failed "
                      f"({describe_error(error)}); sending them again", file=sys.stderr)
                await asyncio.sleep(0.2)
                continue
            self.store.sent(rows)
            return

    async def settle(self, outcomes: list[Outcome]) -> None:
        """Ack what was committed; nak each failure with its delay, after noting its reason.

        An ack lost on the way (the connection failing over) is no loss: the message comes
        again after ack_wait, and the handler sees it a second time (at-least-once).
        """
        try:
            for outcome in outcomes:
                if isinstance(outcome, Handled):
                    await outcome.received.msg.ack()
                else:
                    await self.fail(outcome)
            await self.nc.flush()
        except nats.errors.Error as error:
            print(f"{self.name}: acks may be lost ({describe_error(error)}); those messages "
                  "will come again", file=sys.stderr)

    async def fail(self, failure: Failed) -> None:
        msg = failure.received.msg
        subject = self.names.failure_subject(self.name, failure.received.sequence)
        try:
            await self.js.publish(subject, failure.reason.encode())
        except Exception as error:  # noqa: BLE001 - the reason is a courtesy; the nak matters
            print(f"{self.name}: could not note a failure ({describe_error(error)})",
                  file=sys.stderr)
        await msg.nak(delay=self.settings.retry_delay(failure.received.attempt))


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m choreo_lab.nats.worker",
                                     description="Run one service as a NATS JetStream consumer.")
    parser.add_argument("source", help="where the service is defined, package.module:name")
    parser.add_argument("service", help="the name of the service to run")
    parser.add_argument("--arguments", default="{}",
                        help="keyword arguments for the source, as a Python dict literal")
    parser.add_argument("--server", required=True,
                        help="NATS server URL(s), comma-separated for a cluster")
    parser.add_argument("--database", required=True, help="the service's SQLite file")
    parser.add_argument("--run", default="CHOREO", help="the run's name (its stream)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    import ast

    options = parse_arguments(argv)
    source = ServiceSource(options.source, ast.literal_eval(options.arguments))
    service = source.service(options.service)
    store = ServiceStore(options.database, service.fresh_state())
    worker = Worker(service, store, Names(options.run), options.server.split(","))
    try:
        asyncio.run(worker.run())
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
