"""The dashboard's HTML: small functions from snapshot data to HTML strings.

Inline styles only (no external CSS, JavaScript or CDN), so the output looks the same in
JupyterLab, Notebook 7 and VS Code, offline. Every value from the simulation is escaped.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

from .. import vocabulary as words
from ..broker import DeadLetter
from ..text import duration_text, plural
from .snapshot import LogEntry, ServiceView, Snapshot, TimerView

GREEN, AMBER, RED = "#2e7d32", "#ef8f00", "#c62828"
BLUE, GREY, PURPLE = "#1565c0", "#757575", "#6a1b9a"
SERVICE_COLOURS = {words.UP: GREEN, words.DOWN: RED, words.PAUSED: AMBER}
WORKFLOW_COLOURS = {words.RUNNING: BLUE, words.COMPENSATING: AMBER, words.COMPLETED: GREEN,
                    words.COMPENSATED: PURPLE, words.STUCK: RED}
#: Log colours by outcome: handled (green), retried or disturbed (amber), given up (red),
#: published (blue), service lifecycle (purple), plain delivery (grey).
KIND_COLOURS = {
    "publish": BLUE, "no-subscriber": GREY, "deliver": GREY, "ack": GREEN,
    "redeliver": AMBER, "nack": AMBER, "crash": AMBER, "abandon": AMBER, "drop": AMBER,
    "duplicate": AMBER, "delay": AMBER, "reorder": AMBER, "dead-letter": RED,
    "redrive": PURPLE, "kill": RED, "restart": GREEN, "pause": AMBER, "resume": GREEN,
    "scale": PURPLE, "deploy": PURPLE, "timer-set": GREY, "timer-fire": BLUE,
    "timer-cancel": PURPLE, "dedup": GREY, "relay-crash": AMBER,
}
LAMP_COLOURS = {"green": GREEN, "amber": AMBER, "red": RED, "grey": GREY}
WORKFLOWS_SHOWN = 25

SMALL = "font-size:12px;line-height:1.45"
MONO = "font-family:var(--jp-code-font-family,monospace);font-size:11.5px"
CELL = "padding:1px 6px;text-align:left;vertical-align:top;white-space:nowrap"


def badge(text: str, colour: str) -> str:
    """A small coloured label."""
    return (f'<span style="background:{colour};color:#fff;border-radius:3px;padding:0 5px;'
            f'font-size:11px;font-weight:600">{escape(text)}</span>')


def dot(colour: str, size: int = 12) -> str:
    """A glowing round lamp."""
    return (f'<span style="display:inline-block;width:{size}px;height:{size}px;border-radius:50%;'
            f'background:{colour};vertical-align:middle;box-shadow:0 0 4px {colour}"></span>')


def table(rows: Iterable[Sequence[str]], header: Sequence[str], *, wrap_last: bool = False) -> str:
    """An HTML table whose cells are already HTML; `wrap_last` lets the last column wrap."""
    last = f"{CELL};white-space:normal" if wrap_last else CELL
    styles = [CELL] * (len(header) - 1) + [last]
    head = "".join(f'<th style="{style};color:{GREY};font-weight:600">{escape(h)}</th>'
                   for style, h in zip(styles, header))
    body = "".join("<tr>" + "".join(f'<td style="{CELL}">{cell}</td>' for cell in row[:-1])
                   + f'<td style="{last}">{row[-1]}</td></tr>' for row in rows)
    # a wrapping last column gives way to the panel's width instead of running past its edge
    width = "width:100%;" if wrap_last else ""
    return (f'<table style="border-collapse:collapse;{width}{SMALL}"><tr>{head}</tr>{body}'
            "</table>")


# -- header and problems ---------------------------------------------------------------------
def header(snapshot: Snapshot, title: str, last_action: str) -> str:
    """Title, virtual time, seed, message count, and what was done last."""
    running = "idle (nothing scheduled)" if snapshot.idle else "messages on their way"
    facts = (f"t = <b>{snapshot.now} ms</b> (virtual) &middot; seed <b>{escape(str(snapshot.seed))}"
             f"</b> &middot; {snapshot.messages} messages &middot; {running}")
    below = (f"last action: {escape(last_action)}" if last_action else
             "try it: Kill a service, start some work with the buttons, press Run until idle or "
             "&#9654; Play; watch the backlog and the lamp; then Restart it and watch the "
             "system catch up")
    return (f'<div style="{SMALL}"><span style="font-size:15px;font-weight:700">{escape(title)}'
            f'</span>&nbsp;&nbsp;{facts}<div style="color:{GREY}">{below}</div></div>')


def seed_note(seed: int | str) -> str:
    """Which seed the run uses, and why it matters."""
    return (f'<span style="font-size:12px">running with seed <b>{escape(str(seed))}</b> (latency '
            'jitter and chaos coin tosses): same seed, same clicks, same run</span>')


def problems(messages: Sequence[str]) -> str:
    """The problem banner: errors raised by learner code, newest first (empty: no banner)."""
    if not messages:
        return ""
    items = "".join(f"<li>{escape(m)}</li>" for m in list(messages)[::-1][:5])
    more = f"<div>... and {len(messages) - 5} earlier</div>" if len(messages) > 5 else ""
    return (f'<div style="{SMALL};background:#fdecea;border-left:4px solid {RED};padding:4px 8px">'
            f'<b>Something raised an error; the dashboard keeps working.</b>'
            f'<ul style="margin:2px 0 0 0;padding-left:18px">{items}</ul>{more}</div>')


# -- service cards -----------------------------------------------------------------------------
def service_card(view: ServiceView) -> str:
    """One service: status, backlog per subscription, in flight, handled, retried, dead-lettered."""
    colour = SERVICE_COLOURS.get(view.status, GREY)
    instances = f" &times;{view.instances}" if view.instances > 1 else ""
    waiting = [f"{escape(topic)} <b>{n}</b>" for topic, n in view.backlog.items() if n]
    per_topic = (", ".join(waiting) if waiting
                 else f'<span style="color:{GREY}">nothing waiting</span>')
    subscriptions = plural(len(view.backlog), "subscription")
    lag = (f"lag <b>{view.lag}</b> <span style=\"{MONO};color:{BLUE}\" "
           f'title="lag at the latest refreshes">{sparkline(view.lag_history)}</span><br>')
    numbers = (f"{lag}in flight <b>{view.in_flight}</b> &middot; handled <b>{view.handled}</b><br>"
               f"retried <b>{view.retried}</b> &middot; dead-lettered "
               f'<b style="color:{RED if view.dead_lettered else "inherit"}">'
               f"{view.dead_lettered}</b>")
    return (f'<div style="{SMALL}"><span style="font-size:14px;font-weight:700">{escape(view.name)}'
            f'</span>{instances} {badge(view.status.upper(), colour)}<br>'
            f'backlog <b style="font-size:14px">{view.waiting}</b>'
            f' <span style="color:{GREY}">({subscriptions})</span><br>'
            f'<span style="{MONO}">{per_topic}</span><br>{numbers}</div>')


BARS = "▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[int]) -> str:
    """Values as a row of bars, the tallest one the largest value ("" for none)."""
    if not values:
        return ""
    top = max(values)
    if top == 0:
        return BARS[0] * len(values)
    return "".join(BARS[round(value / top * (len(BARS) - 1))] for value in values)


# -- event log ---------------------------------------------------------------------------------
def log_line(entry: LogEntry) -> tuple[str, ...]:
    """Cells of one log row: time, kind, service, message (+attempt), workflow, cause or detail."""
    record = entry.record
    colour = KIND_COLOURS.get(record.kind, GREY)
    message = escape(record.message_id or "")
    if entry.event_type:
        message += f" {escape(entry.event_type)}"
    if record.attempt > 1:
        message += f" #{record.attempt}"
    if record.kind == "publish":
        cause = (f"&larr; {escape(entry.cause_id)} {escape(entry.cause_type)}" if entry.cause_id
                 else f'<span style="color:{GREY}">from outside</span>')
    else:
        detail = record.detail if len(record.detail) <= 90 else record.detail[:87] + "..."
        cause = escape(detail)
    return (str(record.time), f'<span style="color:{colour};font-weight:600">{record.kind}</span>',
            escape(record.service), message, escape(entry.correlation_id), cause)


def event_log(entries: Sequence[LogEntry], recorded: int | None = None) -> str:
    """The latest log entries, newest first, coloured by outcome, with each publish's cause;
    `recorded` (the trace's length) adds a line saying how much more there is."""
    if not entries:
        return f'<div style="{SMALL};color:{GREY}">nothing has happened yet</div>'
    legend = " ".join(f'<span style="color:{c}">&#9632;</span> {w}' for w, c in (
        ("published", BLUE), ("handled", GREEN), ("retried / disturbed", AMBER),
        ("given up / killed", RED), ("lifecycle", PURPLE)))
    rows = (log_line(entry) for entry in entries)
    more = (f'<div style="{SMALL};color:{GREY}">the latest {len(entries)} of {recorded} records '
            "(the filter above picks which kind)</div>"
            if recorded is not None and recorded > len(entries) else "")
    return (f'<div style="{SMALL};color:{GREY}">{legend}</div><div style="{MONO}">'
            + table(rows, ("t ms", "what", "service", "message", "workflow", "caused by / detail"),
                    wrap_last=True)
            + "</div>" + more)


# -- consistency lamp, workflows, dead letters ------------------------------------------------
def lamp_state(report: Any | None) -> str:
    """green: converged; amber: consistent but workflows pending; red: broken; grey: no report,
    or nothing to judge yet (no workflow has started)."""
    if report is None:
        return "grey"
    if not report.consistent:
        return "red"
    if not report.workflows:
        return "grey"
    return "green" if report.converged else "amber"


def lamp(report: Any | None, services: Sequence[ServiceView], *, has_oracle: bool = True) -> str:
    """The consistency lamp with time-to-consistency and what it is waiting for."""
    state = lamp_state(report)
    colour = LAMP_COLOURS[state]
    if report is None:
        title = "no consistency check" if not has_oracle else "consistency check failed"
        text = ("nothing here checks the services' states against each other yet"
                if not has_oracle else "see the problem above")
    elif state == "grey":
        title = "NOTHING TO CHECK YET"
        text = "no workflow has started; start one and this lamp follows it"
    elif state == "red":
        title = "INCONSISTENT"
        text = "<br>".join(f"<b>{escape(v.invariant)}</b> ({escape(v.subject)}): "
                           f"{escape(v.explanation)}" for v in report.violations[:5])
        if len(report.violations) > 5:
            text += f"<br>... {len(report.violations) - 5} more"
    elif state == "amber":
        title = "NOT YET CONSISTENT"
        pending = ", ".join(report.pending[:8]) + (" ..." if len(report.pending) > 8 else "")
        text = f"{len(report.pending)} workflow(s) still in progress: {escape(pending)}"
        stopped = [f"{s.name} is {s.status}" for s in services if s.status != "up"]
        if stopped:
            text += (f"<br>{escape(', '.join(stopped))}: messages for it wait until it runs "
                     "again (Restart / Resume)")
    else:
        title = "CONSISTENT"
        text = "every workflow finished and every invariant holds"
    ttc = report.overall_time_to_consistency if report is not None else None
    timing = (f"<br>time to consistency: <b>{duration_text(ttc)}</b> (virtual)"
              if ttc is not None else "")
    return (f'<div class="choreo-lamp" data-lamp="{state}" style="{SMALL};'
            f'border:2px solid {colour};'
            f'border-radius:6px;padding:4px 8px">{dot(colour, 16)} <b style="color:{colour};'
            f'font-size:14px">{title}</b><br>{text}{timing}</div>')


def workflow_table(workflows: Sequence[tuple[str, str]], last_events: dict[str, str],
                   report: Any | None, *, has_workflows: bool = True,
                   shown: int = WORKFLOWS_SHOWN) -> str:
    """Counts per status, then the latest workflows (newest first) with their status; a
    workflow the oracle finds broken is flagged beside the status its events announce.
    (The dashboard hides this panel when it has no workflow statuses.)"""
    if not has_workflows:
        return (f'<div style="{SMALL};color:{GREY}">no workflow statuses: no event of this '
                'system declares an outcome</div>')
    if not workflows:
        return f'<div style="{SMALL};color:{GREY}">no workflows yet</div>'
    counts = Counter(status for _, status in workflows)
    broken: dict[str, list[str]] = {}
    for violation in (report.violations if report is not None else ()):
        broken.setdefault(violation.subject, []).append(violation.invariant)
    summary = " ".join(f"{badge(status, WORKFLOW_COLOURS.get(status, GREY))} {n}"
                       for status, n in counts.items())
    flagged = [workflow for workflow, _ in workflows if workflow in broken]
    if flagged:
        summary += (f' &middot; {badge("broken", RED)} {len(flagged)} '
                    f'<span style="color:{RED}">(see the lamp)</span>')
    settled = report.time_to_consistency if report is not None else {}
    rows = []
    for workflow, status in list(workflows)[::-1][:shown]:
        ttc = settled.get(workflow)
        shown_status = badge(status, WORKFLOW_COLOURS.get(status, GREY))
        if workflow in broken:  # what broke is in the lamp; its name is the badge's tooltip
            shown_status += (f' <span title="{escape(", ".join(broken[workflow]))}">'
                             f'{badge("broken", RED)}</span>')
        rows.append((escape(workflow), shown_status, escape(last_events.get(workflow, "")),
                     "" if ttc is None else duration_text(ttc)))
    more = (f'<div style="color:{GREY}">latest {shown} of {len(workflows)} shown</div>'
            if len(workflows) > shown else "")
    return (f'<div style="{SMALL}">{summary}</div>'
            + table(rows, ("workflow", "status", "last event", "settled after"), wrap_last=True)
            + more
            + unknown_statuses(counts))


def unknown_statuses(counts: Counter[str]) -> str:
    """A note naming the status words the dashboard has no colour for ("" if there are none)."""
    unknown = [status for status in counts if status not in WORKFLOW_COLOURS]
    if not unknown:
        return ""
    known = ", ".join(WORKFLOW_COLOURS)
    return (f'<div style="{SMALL};color:{AMBER}">shown in grey: '
            f'{escape(", ".join(repr(s) for s in unknown))} '
            f'{"is not a status" if len(unknown) == 1 else "are not statuses"} the dashboard '
            f"knows ({known})</div>")


def dead_letter_table(letters: Sequence[DeadLetter], count: int) -> str:
    """The dead letters (latest first), each with who gave up on it and why."""
    if not letters:
        return f'<div style="{SMALL};color:{GREY}">no dead letters</div>'
    header = ("message", "event", "service", "attempts", "at ms")
    head = "".join(f'<th style="{CELL};color:{GREY};font-weight:600">{h}</th>' for h in header)
    body = ""
    for letter in letters:  # the reason gets a row of its own, so it wraps inside the panel
        cells = (letter.envelope.message_id, letter.envelope.event_type, letter.group,
                 str(letter.attempts), str(letter.time))
        body += "<tr>" + "".join(f'<td style="{CELL}">{escape(c)}</td>' for c in cells) + "</tr>"
        body += (f'<tr><td colspan="{len(header)}" style="padding:0 6px 3px 18px;color:{RED};'
                 f'white-space:normal">{escape(letter.reason[:160])}</td></tr>')
    more = (f'<div style="color:{GREY}">latest {len(letters)} of {count} shown</div>'
            if count > len(letters) else "")
    return (f'<table style="border-collapse:collapse;{SMALL}"><tr>{head}</tr>{body}</table>'
            + more)


def timer_table(timers: Sequence[TimerView], count: int, now: int) -> str:
    """The pending timers, soonest first: when each is due, who set it, what it will publish."""
    if not timers:
        return f'<div style="{SMALL};color:{GREY}">no pending timers</div>'
    rows = [(f"{timer.due}", escape(f"in {duration_text(max(0, timer.due - now))}"),
             escape(timer.service), escape(timer.name), escape(timer.event_type),
             escape(timer.workflow)) for timer in timers]
    more = (f'<div style="color:{GREY}">soonest {len(timers)} of {count} shown</div>'
            if count > len(timers) else "")
    return table(rows, ("due at ms", "", "service", "timer", "publishes", "workflow")) + more
