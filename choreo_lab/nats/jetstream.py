"""The runtime's side of JetStream (async, on the runtime's loop): streams, groups, dead letters.

- `create_streams`: the run's stream (every event, kept: the retained log), the dead-letter
  stream (the server's max-deliveries advisories, captured as they are published) and the
  failures stream (the last reason per failed message and group).
- `add_group`: one durable consumer per consumer group: explicit acks, `ack_wait`,
  `max_deliver`, filtered to the subjects of the types its service handles, starting at the
  beginning of the log or now (deliver policy).
- `published`: the events the run's stream holds, read back (what the broker kept).
- `dead_letters` / `redrive`: read the advisories back as `DeadLetter`s; send one back to
  its group alone (its redrive subject), then remove it from the queue.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import nats.errors

from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    ConsumerInfo,
    DeliverPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)
from nats.errors import NoRespondersError
from nats.js.errors import NoStreamResponseError, NotFoundError, ServiceUnavailableError

from ..broker import DeadLetter
from ..envelope import Envelope
from ..events import Message
from ..service import Service
from . import wire
from .names import Names


@dataclass(frozen=True)
class GroupOptions:
    """How a group retries: JetStream's consumer settings plus the worker's own (as metadata)."""

    max_attempts: int
    ack_wait: int      # ms the broker waits for an ack before delivering again
    backoff: int       # ms before the first retry after a failure (doubling)
    max_backoff: int
    max_chain: int
    epoch: float       # wall-clock time of the run's t=0


@dataclass(frozen=True)
class ParkedLetter:
    """A dead letter and where it sits in the dead-letter stream."""

    sequence: int
    letter: DeadLetter


class JetStream:
    """The streams and consumers of one run."""

    def __init__(self, js: JetStreamContext, names: Names) -> None:
        self.js = js
        self.names = names

    async def create_streams(self, replicas: int = 1) -> None:
        """Fresh streams for the run (a run owns its name: what an earlier run left is deleted)."""
        names = self.names
        for stream, subjects, per_subject in (
                (names.stream, [f"{names.prefix}.events.>", f"{names.prefix}.redrive.>"], -1),
                (names.dead_stream, [names.dead_letter_subjects], -1),
                (names.failures_stream, [f"{names.prefix}.failures.>"], 1)):
            await self._until_available(self._delete_stream, stream)
            await self._until_available(self.js.add_stream, StreamConfig(
                name=stream, subjects=subjects, retention=RetentionPolicy.LIMITS,
                storage=StorageType.FILE, num_replicas=replicas,
                max_msgs_per_subject=per_subject))

    async def _delete_stream(self, stream: str) -> None:
        try:
            await self.js.delete_stream(stream)
        except NotFoundError:
            pass

    @staticmethod
    async def _until_available(call: Any, *args: Any, within: float = 30.0) -> Any:
        """`call(*args)`, asked again while JetStream is not ready (a cluster electing leaders)."""
        deadline = time.monotonic() + within
        while True:
            try:
                return await call(*args)
            except (ServiceUnavailableError, NoStreamResponseError, nats.errors.TimeoutError,
                    NoRespondersError):
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.1)

    async def add_group(self, service: Service, start: str | int, options: GroupOptions) -> None:
        """The service's durable consumer; `start`: "beginning", "now" or a time in ms."""
        subjects = [self.names.event_subject(h.event_type.topic, name)
                    for name, h in service.handlers.items()]
        subjects.append(f"{self.names.prefix}.redrive.{service.name}.>")
        policy = {"beginning": DeliverPolicy.ALL, "now": DeliverPolicy.NEW}.get(
            start, DeliverPolicy.BY_START_TIME)  # type: ignore[call-overload]
        start_time = (datetime.datetime.fromtimestamp(options.epoch + start / 1000,
                                                      datetime.timezone.utc)
                      if policy is DeliverPolicy.BY_START_TIME else None)
        await self.js.add_consumer(self.names.stream, ConsumerConfig(
            durable_name=service.name, ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=policy, opt_start_time=start_time,
            ack_wait=options.ack_wait / 1000, max_deliver=options.max_attempts,
            filter_subjects=subjects, max_ack_pending=10_000,
            metadata={"epoch": repr(options.epoch), "backoff": str(options.backoff),
                      "max_backoff": str(options.max_backoff),
                      "max_chain": str(options.max_chain)}))

    async def publish(self, envelope: Envelope) -> None:
        """Publish from outside and wait for the stream to confirm it.

        Sent again while the cluster fails over: the message id makes a second copy a
        duplicate the stream drops.
        """
        await self._until_available(
            self.js.publish, self.names.event_subject(envelope.topic, envelope.event_type),
            wire.encode(envelope), None, None, {"Nats-Msg-Id": envelope.message_id})

    async def publish_many(self, envelopes: list[Envelope]) -> None:
        """Publish without waiting in between, then wait for every confirmation (again if
        some do not come: the message ids make repeats duplicates)."""
        while True:
            futures = [await self.js.publish_async(
                self.names.event_subject(envelope.topic, envelope.event_type),
                wire.encode(envelope), headers={"Nats-Msg-Id": envelope.message_id})
                for envelope in envelopes]
            try:
                await asyncio.wait_for(asyncio.gather(*futures), 10)
                return
            except (asyncio.TimeoutError, nats.errors.Error):
                for future in futures:
                    future.cancel()
                await asyncio.sleep(0.1)

    async def stream_leader(self) -> str | None:
        info = await self.js.stream_info(self.names.stream)
        return info.cluster.leader if info.cluster is not None else None

    async def group_info(self, group: str) -> ConsumerInfo:
        return await self.js.consumer_info(self.names.stream, group)

    async def last_sequences(self) -> tuple[int, int]:
        """The last sequence of the run's stream and of its dead-letter stream."""
        main = await self.js.stream_info(self.names.stream)
        dead = await self.js.stream_info(self.names.dead_stream)
        return main.state.last_seq, dead.state.last_seq

    async def quiet(self, groups: list[str]) -> bool:
        """Nothing waiting or unacked for any of `groups`, and nothing published meanwhile.

        The sequences are read before and after the groups, so a message published while
        they are asked (by a handler acked just then) makes this False.
        """
        before = await self.last_sequences()
        for group in groups:
            info = await self.group_info(group)
            if info.num_pending or info.num_ack_pending:
                return False
        return before == await self.last_sequences()

    async def published(self) -> list[bytes]:
        """Every event in the run's stream (the retained log), oldest first, as sent. The
        re-driven copies are left out: each repeats a message the log holds already."""
        info = await self.js.stream_info(self.names.stream)
        if not info.state.messages:
            return []
        found = []
        for sequence in range(info.state.first_seq, info.state.last_seq + 1):
            message = await self.js.get_msg(self.names.stream, sequence)
            if message.subject.startswith(f"{self.names.prefix}.events."):
                found.append(message.data)
        return found

    async def dead_letters(self, classes: Mapping[str, type[Message]],
                           epoch: float) -> list[ParkedLetter]:
        """Every dead letter, oldest first: the advisory, the message it names and its reason."""
        info = await self.js.stream_info(self.names.dead_stream)
        if not info.state.messages:
            return []
        parked = []
        for sequence in range(info.state.first_seq, info.state.last_seq + 1):
            try:
                notice = await self.js.get_msg(self.names.dead_stream, sequence)
                advisory = json.loads(notice.data)
            except NotFoundError:
                continue  # re-driven: removed from the queue
            parked.append(ParkedLetter(sequence, await self._letter(advisory, classes, epoch)))
        return parked

    async def _letter(self, advisory: dict, classes: Mapping[str, type[Message]],
                      epoch: float) -> DeadLetter:
        group, stream_sequence = advisory["consumer"], advisory["stream_seq"]
        original = await self.js.get_msg(self.names.stream, stream_sequence)
        envelope = wire.decode(original.data, classes)
        try:
            note = await self.js.get_last_msg(self.names.failures_stream,
                                              self.names.failure_subject(group, stream_sequence))
            reason = note.data.decode()
        except NotFoundError:
            reason = (f"no ack within ack_wait, {advisory['deliveries']} times (the service was "
                      "killed or took too long each time)")
        return DeadLetter(envelope, group, reason, advisory["deliveries"],
                          ms_since(epoch, advisory["timestamp"]))

    async def redrive(self, parked: ParkedLetter) -> None:
        """Send the message to its group again (attempts from zero) and take it off the queue."""
        envelope = parked.letter.envelope
        await self.js.publish(self.names.redrive_subject(parked.letter.group, envelope.event_type),
                              wire.encode(envelope),
                              headers={"Nats-Msg-Id": f"redrive-{parked.sequence}"})
        await self.js.delete_msg(self.names.dead_stream, parked.sequence)


def ms_since(epoch: float, timestamp: str) -> int:
    """ms from `epoch` (seconds) to an RFC 3339 timestamp with up to nanoseconds ("...Z")."""
    stamp = timestamp.rstrip("Z")
    whole, _, fraction = stamp.partition(".")
    moment = datetime.datetime.fromisoformat(whole).replace(tzinfo=datetime.timezone.utc)
    seconds = moment.timestamp() + float(f"0.{fraction or 0}")
    return int((seconds - epoch) * 1000)
