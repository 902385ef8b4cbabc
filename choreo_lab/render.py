"""Tables for the terminal and notebooks: workflow status, each service's state, the event log.

Each function returns a `Rendering`: `print()` it for plain text, show it in a notebook for
the same text in colour, or `rich.print()` it in a terminal. Output is the same on every
machine: fixed width, no memory addresses, sets shown sorted.
"""

from __future__ import annotations

import bisect

from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from . import vocabulary as words
from .display import WIDTH, Rendering
from .simulation import Simulation
from .story import WorkflowStory, workflow_status
from .text import shorten
from .trace import Trace, TraceRecord

#: How each trace kind is coloured in the event log.
KIND_STYLES: dict[str, str] = {
    "publish": "bold", "no-subscriber": "dim", "deliver": "", "ack": "green",
    "redeliver": "yellow", "duplicate": "yellow", "redrive": "yellow",
    "drop": "magenta", "delay": "magenta", "reorder": "magenta",
    "nack": "red", "crash": "red", "abandon": "red", "dead-letter": "bold red",
    "kill": "bold red", "restart": "green", "pause": "yellow", "resume": "green", "scale": "cyan",
}

#: How workflow statuses are coloured (others are shown plain).
STATUS_STYLES: dict[str, str] = {
    "completed": "green", "compensated": "blue", "compensating": "yellow",
    "running": "cyan", "stuck": "bold red",
}

MAX_CELL = 60


def show(value: Any, limit: int = MAX_CELL) -> str:
    """A value as short, stable text: sets sorted, nested dicts and lists spelled out."""
    if isinstance(value, (set, frozenset)):
        text = "{" + ", ".join(sorted(show(item) for item in value)) + "}"
    elif isinstance(value, dict):
        text = ", ".join(f"{key}={show(item)}" for key, item in value.items())
    elif isinstance(value, (list, tuple)):
        text = ", ".join(show(item) for item in value)
    elif isinstance(value, (str, int, float, bool)) or value is None:
        text = str(value)
    else:  # an object whose repr might hold a memory address
        text = type(value).__name__
    return text if len(text) <= limit else text[:limit - 1] + "…"


# -- workflow status ---------------------------------------------------------------------------
def workflow_table(sim: Simulation, workflows: str | Iterable[str] | None = None, *,
                   status: Callable[[Simulation, str], str] = workflow_status,
                   max_rows: int | None = None,
                   times: Callable[[int], str] = str) -> Rendering:
    """One row per workflow: its status (by default from the events' declared roles), last
    event and its time, messages published and redeliveries.

    `max_rows`: show only the first rows of that many workflows (the caption still counts
    every workflow's status). `times`: how a time reads (virtual ms as a number by default;
    the terminal report passes `duration_text`).
    """
    story = WorkflowStory.of(sim, workflows, required=False)
    table = Table("workflow", "status", "last event", "at t=", "messages", "redeliveries",
                  title="Workflows", title_justify="left")
    statuses: Counter[str] = Counter()
    for row, workflow in enumerate(story.workflows):
        state = status(sim, workflow)
        statuses[state] += 1
        if max_rows is None or row < max_rows:
            table.add_row(workflow, Text(state, style=STATUS_STYLES.get(state, "")),
                          *_workflow_cells(sim.trace, workflow, times))
    hidden = len(story.workflows) - len(table.rows)
    table.caption = "  ".join(f"{name}: {count}" for name, count in statuses.most_common())
    if hidden:
        table.caption += f"  ({hidden} more workflows not shown)"
    table.caption_justify = "left"
    return Rendering(table)


def _workflow_cells(trace: Trace, workflow: str,
                    times: Callable[[int], str] = str) -> tuple[str, str, str, str]:
    """Its last event, the time of its last record, its messages and its redeliveries."""
    last_event, last_time, messages, retries = "-", "-", 0, 0
    for record in trace.for_correlation(workflow):
        if record.message_id is None:
            continue
        last_time = times(record.time)
        if record.kind == "publish":
            envelope = trace.messages[record.message_id]
            last_event = f"{envelope.event_type} by {envelope.producer}"
            messages += 1
        elif record.kind == "redeliver":
            retries += 1
    return last_event, last_time, str(messages), str(retries)


# -- each service's own state ------------------------------------------------------------------
def state_tables(sim: Simulation, services: Iterable[str] | None = None, *,
                 max_rows: int = 20) -> Rendering:
    """Each service's committed state, one panel per service; dicts of dicts become tables."""
    names = list(services) if services is not None else sim.services
    panels = [Panel(Group(*_state_parts(sim.state(name), max_rows)), expand=False,
                    title=f"{name} ({sim.status(name)})", title_align="left")
              for name in names]
    return Rendering(Group(*panels))


def _state_parts(state: dict[str, Any], max_rows: int) -> list[RenderableType]:
    if not state:
        return [Text("(empty state)", style="dim")]
    lines = Text()
    parts: list[RenderableType] = []
    for key, value in state.items():
        table = _as_table(key, value, max_rows)
        if table is None:
            lines.append(f"{key}: ", style="bold")
            lines.append(f"{show(value) if value not in ({}, []) else '(empty)'}\n")
        else:
            parts.append(table)
    if lines:
        lines.rstrip()
        parts.insert(0, lines)
    return parts


def _as_table(title: str, value: Any, max_rows: int) -> Table | None:
    """A table for a non-empty dict (by key) or list of dicts; None for anything else.

    A dict of dicts has a row per key; a dict of lists of dicts (a ledger per order, say) a
    row per entry, under its key (a key with no entries yet, one empty row); a list of dicts
    a row per dict.
    """
    if isinstance(value, dict) and value:
        rows = list(value.items())
        if all(isinstance(item, dict) for _, item in rows):
            return _records_table(title, rows, max_rows)
        if all(_is_records(item) for _, item in rows) and any(item for _, item in rows):
            return _records_table(title, [(key, entry) for key, item in rows
                                          for entry in (item or [{}])], max_rows)
        return _table(title, ["key", "value"], [[show(k), show(v)] for k, v in rows], max_rows)
    if _is_records(value) and value:
        columns = list(dict.fromkeys(column for item in value for column in item))
        cells = [[show(item.get(c, "")) for c in columns] for item in value]
        return _table(title, columns, cells, max_rows)
    return None


def _is_records(value: Any) -> bool:
    """A list of dicts: records that share (some) fields."""
    return isinstance(value, list) and all(isinstance(item, dict) for item in value)


def _records_table(title: str, rows: list[tuple[Any, dict[str, Any]]], max_rows: int) -> Table:
    """A table of keyed records: the key, then one column per field any record has."""
    columns = list(dict.fromkeys(column for _, item in rows for column in item))
    cells = [[show(key)] + [show(item.get(c, "")) for c in columns] for key, item in rows]
    return _table(title, ["key", *columns], cells, max_rows)


def _table(title: str, columns: list[str], cells: list[list[str]], max_rows: int) -> Table:
    table = Table(*columns, title=title, title_justify="left", title_style="bold")
    for row in cells[:max_rows]:
        table.add_row(*row)
    if len(cells) > max_rows:
        table.add_row(f"… {len(cells) - max_rows} more", *[""] * (len(columns) - 1))
    return table


# -- the event log, each message under the one that caused it ----------------------------------
def event_log(run: Simulation | Trace, workflows: str | Iterable[str] | None = None, *,
              max_rows: int | None = 100,
              more: str = "event_log(..., max_rows=None) shows all") -> Rendering:
    """The trace as a log: each message indented under the delivery that caused it.

    `workflows` picks correlation ids (None: all); kills and restarts of the services
    involved are shown where they happened. Kinds are coloured by outcome: ack green,
    nack and crash red, dead-letter bold red, redelivery and duplicate yellow. `more`: how
    to see the rows left out past `max_rows` (the terminal names its options).
    """
    story = WorkflowStory.of(run, workflows, required=False)
    rows = _causal_rows(story, max_rows)
    shown = rows if max_rows is None else rows[:max_rows]
    total = story.record_count  # every record is one row of the whole log
    lines = [("t", Text("what"), "service", "message", "detail")]
    lines += [_log_cells(story, depth, record) for depth, record in shown]
    # A log is plain columns of text: much faster for rich to render than a Table.
    widths = [min(max(len(line[n]) for line in lines), limit or WIDTH)
              for n, limit in enumerate(_LOG_WIDTHS)]
    detail_width = max(WIDTH - sum(widths) - 2 * len(widths), 10)
    log = Text(no_wrap=True, overflow="ellipsis")
    for number, (time, what, service, message, detail) in enumerate(lines):
        style = "bold" if number == 0 else ""
        log.append(time.rjust(widths[0]) + "  ", style=style)
        what.truncate(widths[1], overflow="ellipsis", pad=True)
        log.append_text(what.copy() if number else Text(what.plain, style=style))
        log.append(f"  {service[:widths[2]]:<{widths[2]}}  {message[:widths[3]]:<{widths[3]}}  ",
                   style=style)
        log.append(shorten(detail, detail_width).rstrip() + "\n", style=style)
    if len(shown) < total:
        log.append(f"… {total - len(shown)} more rows ({more})\n", style="dim")
    log.rstrip()
    return Rendering(log)


#: The widest what, service and message columns; t is as wide as its longest time (a
#: week-long run's 9 digits), so the columns stay aligned.
_LOG_WIDTHS = (None, 44, 14, 10)


def _causal_rows(story: WorkflowStory, limit: int | None = None) -> list[tuple[int, TraceRecord]]:
    """Depth first: each message's publish, its deliveries, and after the delivery that caused
    them, the messages it caused. Kills and restarts go before the first later record.

    `limit`: only the first `limit` rows are needed. A message and its consequences stay in
    their workflow, so workflows are read (and their rows ordered) one at a time, as their
    first message comes up, until there are enough rows; the run's other messages are only
    passed over. Showing the start of a long run reads what is shown.
    """
    chosen = set(story.workflows)
    read: dict[str, _WorkflowRecords] = {}
    rows: list[tuple[int, int, TraceRecord]] = []

    def records_of(workflow: str) -> _WorkflowRecords:
        if workflow not in read:
            read[workflow] = _WorkflowRecords(story.trace.indexed(workflow))
        return read[workflow]

    def visit(message_id: str, depth: int, workflow: _WorkflowRecords) -> None:
        index, record = workflow.published[message_id]
        rows.append((index, depth, record))
        own = workflow.others.get(message_id, [])
        items: list[tuple[int, int, int, str | TraceRecord]] = [(i, 0, i, r) for i, r in own]
        for child in story.trace.children(message_id):
            if child.message_id in workflow.published:
                born = workflow.published[child.message_id][0]
                # after the outcome (ack, crash...) of the delivery whose handler published it
                after = next((i for i, r in own if r.service == child.producer and i > born), born)
                items.append((after, 1, born, child.message_id))
        for _, _, at, item in sorted(items, key=lambda entry: entry[:3]):
            if isinstance(item, str):
                visit(item, depth + 1, workflow)
            else:
                rows.append((at, depth + 1, item))

    for envelope in story.trace.messages.values():  # in publish order
        if limit is not None and len(rows) >= limit:
            break
        if envelope.correlation_id not in chosen:
            continue
        workflow = records_of(envelope.correlation_id)
        if envelope.message_id in workflow.published and envelope.causation_id not in workflow.published:
            visit(envelope.message_id, 0, workflow)
    return _with_service_records(rows, story)


class _WorkflowRecords:
    """One workflow's records by message: its publish, and everything else that happened to it."""

    def __init__(self, indexed: list[tuple[int, TraceRecord]]) -> None:
        self.published: dict[str, tuple[int, TraceRecord]] = {}
        self.others: dict[str, list[tuple[int, TraceRecord]]] = {}
        for index, record in indexed:
            if record.message_id is None:
                continue
            if record.kind == "publish":
                self.published[record.message_id] = (index, record)
            else:
                self.others.setdefault(record.message_id, []).append((index, record))


def _with_service_records(rows: list[tuple[int, int, TraceRecord]],
                          story: WorkflowStory) -> list[tuple[int, TraceRecord]]:
    """Each kill, restart, pause... placed after the last row that happened before it (and
    after the earlier rows right behind that one).

    `rows` may be only the first rows of the log: a service record whose place is further
    on is left out, as it would not be among them.
    """
    if not story.service_records and not story.trace.of_kinds(words.RELAY_CRASH):
        return [(depth, record) for _, depth, record in rows]  # nothing to place
    happened = [index for index, record in story.records if record.message_id is not None]
    position_of = {at: position for position, (at, _, _) in enumerate(rows)}
    after: dict[int, list[TraceRecord]] = {}
    for index, record in story.records:
        if record.message_id is not None:
            continue
        before = bisect.bisect_left(happened, index)  # the rows that happened before it
        if before == 0:
            position = -1
        elif happened[before - 1] in position_of:
            position = position_of[happened[before - 1]]
            while position + 1 < len(rows) and rows[position + 1][0] < index:
                position += 1
        else:
            continue  # its place is further on than the rows asked for
        after.setdefault(position, []).append(record)
    result = [(0, record) for record in after.get(-1, [])]
    for position, (_, depth, record) in enumerate(rows):
        result.append((depth, record))
        result += [(depth, service_record) for service_record in after.get(position, [])]
    return result


def _log_cells(story: WorkflowStory, depth: int,
               record: TraceRecord) -> tuple[str, Text, str, str, str]:
    what = Text("  " * min(depth, 10))
    what.append(record.kind, style=KIND_STYLES.get(record.kind, ""))
    detail = record.detail
    if record.kind == "publish" and record.message_id:
        envelope = story.trace.messages[record.message_id]
        what.append(f" {envelope.event_type}", style="bold")
        detail = ", ".join(f"{k}={show(v)}" for k, v in envelope.event.__dict__.items())
    message = record.message_id or ""
    if record.attempt:
        message += f" #{record.attempt}"
    return str(record.time), what, record.service, message, detail
