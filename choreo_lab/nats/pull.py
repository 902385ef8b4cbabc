"""A pull consumer that streams: one pull request of up to BATCH messages kept open at a time.

nats-py's `fetch()` hands messages over one by one through a queue with a timeout each (a
task per message). Here the messages of a pull request land in a list as they arrive, and
`take()` returns all that have arrived, waiting only while there are none. A new request
goes out when the last one is used up, answered with a status (no messages, expired,
leadership change...) or lost in a reconnect (nothing heard for longer than it lives).
"""

from __future__ import annotations

import asyncio
import json
import time

from nats.aio.client import Client
from nats.aio.msg import Msg

#: Status codes the server answers a pull request with, instead of a message.
_STATUS = "Status"


class Puller:
    """Pulls from one durable consumer of one stream, `batch` messages per request."""

    def __init__(self, nc: Client, stream: str, durable: str, batch: int,
                 expires: float = 1.0) -> None:
        self.nc = nc
        self.subject = f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{durable}"
        self.batch = batch
        self.expires = expires
        self.arrived: list[Msg] = []
        self.ready = asyncio.Event()
        self.remaining = 0        # messages the open request may still bring
        self.asked_at = 0.0

    async def start(self) -> None:
        self.inbox = self.nc.new_inbox()
        await self.nc.subscribe(self.inbox, cb=self._arrive)

    async def _arrive(self, msg: Msg) -> None:
        if msg.headers and _STATUS in msg.headers and not msg.data:
            self.remaining = 0  # the request is over (404, 408, 409); heartbeats (100) too
        else:
            self.arrived.append(msg)
            self.remaining -= 1
        self.ready.set()

    async def _ask(self) -> None:
        request = {"batch": self.batch, "expires": int(self.expires * 1e9)}
        await self.nc.publish(self.subject, json.dumps(request).encode(), reply=self.inbox)
        self.remaining, self.asked_at = self.batch, time.monotonic()

    async def take(self) -> list[Msg]:
        """The messages that have arrived (waiting up to `expires` for the first); maybe []."""
        if self.remaining <= 0 or time.monotonic() - self.asked_at > self.expires + 1:
            await self._ask()
        if not self.arrived:
            self.ready.clear()
            try:
                await asyncio.wait_for(self.ready.wait(), self.expires + 1)
            except asyncio.TimeoutError:
                return []
        taken, self.arrived = self.arrived, []
        return taken


def delivery_count(msg: Msg) -> tuple[int, int]:
    """(attempt, stream sequence) of a JetStream message, read from its reply subject."""
    tokens = (msg.reply or "").split(".")
    if len(tokens) == 9:  # $JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>...
        return int(tokens[4]), int(tokens[5])
    metadata = msg.metadata  # the longer form with a domain and an account: let nats-py read it
    return metadata.num_delivered, metadata.sequence.stream
