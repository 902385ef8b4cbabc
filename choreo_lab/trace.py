"""The trace: everything the runtime did, in virtual time, with causal links between messages."""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from . import vocabulary as words
from .envelope import Envelope
from .text import did_you_mean, fit

DETAIL_COLUMN = 40  # where a trace line's detail starts (after time, kind, service and id)


class TraceRecord(NamedTuple):
    """One thing that happened. `service` is the producer for a publish, else the consumer group."""

    time: int
    kind: str
    service: str
    message_id: str | None
    attempt: int
    detail: str

    def __str__(self) -> str:
        """One aligned line; a long detail goes on, indented, on the next lines (`text.WIDTH`)."""
        mid = self.message_id or "-"
        attempt = f" #{self.attempt}" if self.attempt else ""
        detail = f"  {self.detail}" if self.detail else ""
        line = f"t={self.time:>6} {self.kind:<13} {self.service:<14} {mid}{attempt}{detail}"
        return fit(line, indent=DETAIL_COLUMN)


_record = TraceRecord._make  # a plain row as the record it stands for


class Trace:
    """An append-only record of a run. Same seed, same code: the same records, byte for byte.

    Records are indexed by workflow (correlation id) as they are added, so reading one
    workflow costs its own records, not the whole run.
    """

    def __init__(self) -> None:
        #: the records as plain tuples, handed out as TraceRecords (a run keeps a hundred
        #: thousand; Python's cycle collector walks a tuple subclass each time, a tuple of text
        #: and numbers never)
        self._rows: list[tuple[int, str, str, str | None, int, str]] = []
        self.messages: dict[str, Envelope] = {}
        self._by_workflow: dict[str, list[int]] = {}            # workflow -> its records' positions
        self._messages_by_workflow: dict[str, list[Envelope]] = {}  # workflow -> its messages
        self._children: dict[str, list[str]] = {}  # message id -> the messages it caused

    def add(self, time: int, kind: str, service: str, message_id: str | None = None,
            attempt: int = 0, detail: str = "", workflow: str | None = None) -> None:
        """Append one record (the runtime's only way of writing the trace).

        `workflow`: the correlation id of the message the record is about, for the index.
        """
        if workflow is not None:
            self._by_workflow[workflow].append(len(self._rows))
        self._rows.append((time, kind, service, message_id, attempt, detail))

    def remember(self, envelope: Envelope) -> None:
        """A new message: keep it, so records can name it and causality can be followed."""
        self.messages[envelope.message_id] = envelope
        self._by_workflow.setdefault(envelope.correlation_id, [])
        self._messages_by_workflow.setdefault(envelope.correlation_id, []).append(envelope)
        if envelope.causation_id:
            self._children.setdefault(envelope.causation_id, []).append(envelope.message_id)

    # -- reading ---------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._rows)

    def __iter__(self) -> Iterator[TraceRecord]:
        return map(_record, self._rows)

    def since(self, index: int) -> list[TraceRecord]:
        """Records from position `index` on (for readers that follow a growing trace)."""
        return [_record(row) for row in self._rows[index:]]

    @property
    def records(self) -> list[TraceRecord]:
        """Every record so far, as a list."""
        return [_record(row) for row in self._rows]

    def where(self, *, kind: str | None = None, service: str | None = None,
              correlation_id: str | None = None, event_type: str | None = None,
              message_id: str | None = None) -> list[TraceRecord]:
        """Records matching every given filter (kind may be one kind or several, '|'-separated)."""
        kinds = set(kind.split("|")) if kind else None
        unknown = sorted(kinds - set(words.TRACE_KINDS)) if kinds else []
        if unknown:
            raise ValueError(f"no trace record kind {', '.join(map(repr, unknown))}; the kinds "
                             f"are: {', '.join(words.TRACE_KINDS)}.{did_you_mean(unknown[0], words.TRACE_KINDS)}")
        records = (self.for_correlation(correlation_id) if correlation_id is not None
                   else self)
        return [record for record in records
                if (kinds is None or record.kind in kinds)
                and (service is None or record.service == service)
                and (message_id is None or record.message_id == message_id)
                and (event_type is None or self._event_type(record) == event_type)]

    def _event_type(self, record: TraceRecord) -> str | None:
        envelope = self.messages.get(record.message_id or "")
        return envelope.event_type if envelope is not None else None

    def for_correlation(self, correlation_id: str) -> list[TraceRecord]:
        """One workflow's records, in order. Cost: that workflow's records only."""
        return [_record(self._rows[i]) for i in self._by_workflow.get(correlation_id, ())]

    def of_kinds(self, *kinds: str) -> list[tuple[int, TraceRecord]]:
        """The records of these kinds with their positions, in order (one pass over the run,
        making only the records asked for)."""
        wanted = set(kinds)
        return [(i, _record(row)) for i, row in enumerate(self._rows) if row[1] in wanted]

    def count_of(self, correlation_id: str) -> int:
        """How many records one workflow has."""
        return len(self._by_workflow.get(correlation_id, ()))

    def indexed(self, correlation_id: str) -> list[tuple[int, TraceRecord]]:
        """One workflow's records with their positions in the whole trace."""
        return [(i, _record(self._rows[i])) for i in self._by_workflow.get(correlation_id, ())]

    def for_service(self, service: str) -> list[TraceRecord]:
        return self.where(service=service)

    def for_event_type(self, event_type: str) -> list[TraceRecord]:
        return self.where(event_type=event_type)

    def has_workflow(self, correlation_id: str) -> bool:
        """Has any message of this workflow been published?"""
        return correlation_id in self._by_workflow

    def correlation_ids(self) -> list[str]:
        """Workflows in the order they first appeared."""
        return list(self._by_workflow)

    def messages_of(self, correlation_id: str) -> list[Envelope]:
        """One workflow's messages, in publish order. Cost: those messages."""
        return list(self._messages_by_workflow.get(correlation_id, ()))

    # -- causality -------------------------------------------------------------------------
    def parent(self, message_id: str) -> Envelope | None:
        """The message whose handler produced this one (None for messages from outside)."""
        cause = self.messages[message_id].causation_id
        return self.messages.get(cause) if cause else None

    def children(self, message_id: str) -> list[Envelope]:
        """The messages produced by handlers of this one (or by its timers), in publication order."""
        return [self.messages[m] for m in self._children.get(message_id, [])]

    def causal_chain(self, message_id: str) -> list[Envelope]:
        """From the first cause down to this message."""
        chain = [self.messages[message_id]]
        while (parent := self.parent(chain[-1].message_id)) is not None:
            chain.append(parent)
        return chain[::-1]

    def dump(self) -> str:
        """The whole trace as text, a line per record (a long one goes on, indented, on the next
        lines); the determinism tests compare this."""
        return "\n".join(str(record) for record in self)
