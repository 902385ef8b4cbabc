"""The trace: everything the runtime did, in virtual time, with causal links between messages."""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from .envelope import Envelope

#: Record kinds, in the words the diagrams and tables use.
KINDS = ("publish", "no-subscriber", "deliver", "redeliver", "ack", "nack", "crash", "abandon",
         "dead-letter", "redrive", "drop", "duplicate", "delay", "reorder",
         "kill", "restart", "pause", "resume", "scale")


class TraceRecord(NamedTuple):
    """One thing that happened. `service` is the producer for a publish, else the consumer group."""

    time: int
    kind: str
    service: str
    message_id: str | None
    attempt: int
    detail: str

    def __str__(self) -> str:
        mid = self.message_id or "-"
        attempt = f" #{self.attempt}" if self.attempt else ""
        detail = f"  {self.detail}" if self.detail else ""
        return f"t={self.time:>6} {self.kind:<13} {self.service:<14} {mid}{attempt}{detail}"


class Trace:
    """An append-only record of a run. Same seed, same code: the same records, byte for byte."""

    def __init__(self) -> None:
        self._rows: list[tuple[int, str, str, str | None, int, str]] = []
        self.messages: dict[str, Envelope] = {}
        self._children: dict[str, list[str]] | None = None
        #: The fast path used by the runtime: append a raw (time, kind, service, message_id,
        #: attempt, detail) tuple.
        self.append_row = self._rows.append

    def record(self, time: int, kind: str, service: str, message_id: str | None = None,
               attempt: int = 0, detail: str = "") -> None:
        self._rows.append((time, kind, service, message_id, attempt, detail))

    def remember(self, envelope: Envelope) -> None:
        self.messages[envelope.message_id] = envelope
        self._children = None

    # -- reading ---------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._rows)

    def __iter__(self) -> Iterator[TraceRecord]:
        return self.since(0)

    def since(self, index: int) -> Iterator[TraceRecord]:
        """Records from position `index` on (for readers that follow a growing trace)."""
        rows = self._rows
        for position in range(index, len(rows)):
            time, kind, service, message_id, attempt, detail = rows[position]
            # a publish row keeps the event itself; it becomes text only when read
            yield TraceRecord(time, kind, service, message_id, attempt,
                              detail if type(detail) is str else str(detail))

    @property
    def records(self) -> list[TraceRecord]:
        return list(self)

    def where(self, *, kind: str | None = None, service: str | None = None,
              correlation_id: str | None = None, event_type: str | None = None,
              message_id: str | None = None) -> list[TraceRecord]:
        """Records matching every given filter (kind may be one kind or several, '|'-separated)."""
        kinds = set(kind.split("|")) if kind else None
        unknown = sorted(kinds - set(KINDS)) if kinds else []
        if unknown:
            raise ValueError(f"no trace record kind {', '.join(map(repr, unknown))}; "
                             f"the kinds are: {', '.join(KINDS)}")
        found = []
        for record in self:
            if kinds is not None and record.kind not in kinds:
                continue
            if service is not None and record.service != service:
                continue
            if message_id is not None and record.message_id != message_id:
                continue
            if correlation_id is not None or event_type is not None:
                envelope = self.messages.get(record.message_id or "")
                if envelope is None:
                    continue
                if correlation_id is not None and envelope.correlation_id != correlation_id:
                    continue
                if event_type is not None and envelope.event_type != event_type:
                    continue
            found.append(record)
        return found

    def for_correlation(self, correlation_id: str) -> list[TraceRecord]:
        return self.where(correlation_id=correlation_id)

    def for_service(self, service: str) -> list[TraceRecord]:
        return self.where(service=service)

    def for_event_type(self, event_type: str) -> list[TraceRecord]:
        return self.where(event_type=event_type)

    def correlation_ids(self) -> list[str]:
        """Workflows in the order they first appeared."""
        return list(dict.fromkeys(e.correlation_id for e in self.messages.values()))

    # -- causality -------------------------------------------------------------------------
    def parent(self, message_id: str) -> Envelope | None:
        """The message whose handler produced this one (None for messages from outside)."""
        cause = self.messages[message_id].causation_id
        return self.messages.get(cause) if cause else None

    def children(self, message_id: str) -> list[Envelope]:
        """The messages produced by handlers of this one, in publication order."""
        if self._children is None:
            self._children = {}
            for envelope in self.messages.values():
                if envelope.causation_id:
                    self._children.setdefault(envelope.causation_id, []).append(envelope.message_id)
        return [self.messages[m] for m in self._children.get(message_id, [])]

    def causal_chain(self, message_id: str) -> list[Envelope]:
        """From the first cause down to this message."""
        chain = [self.messages[message_id]]
        while (parent := self.parent(chain[-1].message_id)) is not None:
            chain.append(parent)
        return chain[::-1]

    def dump(self) -> str:
        """The whole trace as text, one record per line (the determinism tests compare this)."""
        return "\n".join(str(record) for record in self)
