"""Mermaid diagrams: what actually happened in a run, and who reacts to what.

- `sequence_diagram(sim, "o-1")`: the messages of one workflow (or several) as they really
  went: redeliveries, duplicates, losses, crashes, dead letters, services killed and
  restarted, and the compensations, shaded. Many workflows are summarised as counted arrows.
- `topology(services)`: from the handlers alone, which service publishes which event and
  who reacts to it; failure and compensation paths drawn in their own colours.
- `broker_diagram(sim)`: the broker now: each topic's log, who publishes to it, and each
  consumer group with its position in it (done, waiting).

Only the Mermaid script is made here, with mermaid-py's builders; nothing is drawn and
nothing goes to the network. The returned `Diagram` is drawn by JupyterLab (4.1 or later).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from mermaid.flowchart import FlowChart, Node
from mermaid.flowchart import Link as Edge
from mermaid.sequence import Actor, ArrowTypes, Link, Note, Participant, Rect, SequenceDiagram
from mermaid.style import Style

from .display import Diagram
from .envelope import Envelope
from .service import Service
from .simulation import Simulation
from . import vocabulary as words
from .events import Message
from .story import WorkflowStory
from .text import duration_text
from .trace import Trace, TraceRecord

#: More workflows than this in one sequence diagram are summarised as counted arrows.
DETAIL_LIMIT = 3

_OUTCOMES = ("ack", "nack", "crash", "abandon", "drop", "duplicate", "dead-letter")
_SERVICE_WORDS = {"kill": "killed", "restart": "restarted", "pause": "paused",
                  "resume": "resumed", "scale": "scaled"}
_TIMER_KINDS = (words.TIMER_SET, words.TIMER_FIRE, words.TIMER_CANCEL)
_TIMER_WORDS = {words.TIMER_SET: "timer set", words.TIMER_FIRE: "timer fired",
                words.TIMER_CANCEL: "timer cancelled"}
#: a timer-set record's detail, as the simulation writes it: "<name> at t=<due>: <event>"
_TIMER_SET = re.compile(r"^(?P<name>.*) at t=(?P<due>\d+): (?P<event>[^(]+)")


# -- text Mermaid reads safely -----------------------------------------------------------------
# Mermaid reads ';' as the end of a statement, '#...;' as an entity code, '%%' as a comment and
# '<...>' as HTML; its entity codes (#59; and so on) show those characters instead.
_ENTITIES = {"#": "#35;", ";": "#59;", "%": "#37;", "<": "#60;", ">": "#62;", '"': "#34;"}
_RESERVED = {"end", "loop", "alt", "else", "opt", "par", "and", "rect", "critical", "option",
             "break", "box", "note", "participant", "actor", "activate", "deactivate",
             "autonumber", "title", "create", "destroy", "link", "links", "properties", "details",
             "over", "left", "right", "of", "as", "graph", "flowchart", "subgraph", "class",
             "classdef", "style", "linkstyle", "click", "direction"}


def mermaid_text(text: str, limit: int = 60) -> str:
    """`text` as one Mermaid label line: at most `limit` characters, syntax characters escaped."""
    text = " ".join(str(text).split())
    if len(text) > limit:
        text = text[:limit - 1] + "…"
    return re.sub(r'[#;%<>"]', lambda match: _ENTITIES[match.group()], text)


def _lines(*parts: str) -> str:
    """Several escaped label lines shown as one label (Mermaid's <br/>)."""
    return "<br/>".join(mermaid_text(part) for part in parts if part)


def _identifier(name: str, taken: Iterable[str] = ()) -> str:
    """A Mermaid identifier for `name`: lower-case letters, digits and '_' only, never a keyword."""
    ident = re.sub(r"[^a-z0-9_]", "_", name.lower()) or "_"
    if ident[0].isdigit() or ident in _RESERVED:
        ident = f"p_{ident}"
    taken = set(taken)
    base, number = ident, 2
    while ident in taken:
        ident, number = f"{base}_{number}", number + 1
    return ident


def timer_note(record: TraceRecord) -> str:
    """A timer record in words: "timer set day-3/u-1: CampaignStepDue in 3 d",
    "timer day-3/u-1 fired", "timer cancelled day-3/u-1"."""
    if record.kind == words.TIMER_SET:
        found = _TIMER_SET.match(record.detail)
        if found is None:
            return f"timer set {record.detail}"
        due = int(found["due"])
        return f"timer set {found['name']}: {found['event']} in {duration_text(due - record.time)}"
    if record.kind == words.TIMER_FIRE:
        return f"timer {record.detail} fired"
    return f"timer cancelled {record.detail.partition(' (')[0]}"


def _yaml_title(text: str) -> str:
    # mermaid-py writes the title into YAML front matter as is; a quoted string keeps a ':'
    # or '#' in a workflow id from breaking it.
    return json.dumps(text, ensure_ascii=False)


# -- drawing the story -------------------------------------------------------------------------
class _TintedRect(Rect):
    """A shaded `rect`. mermaid-py writes only opaque rgb(); a translucent rgba() keeps the
    arrows readable under JupyterLab's dark theme too."""

    def __init__(self, elements: list, rgba: tuple[int, int, int, float]) -> None:
        super().__init__(elements, rgba[:3])
        self.alpha = rgba[3]

    def __str__(self) -> str:
        red, green, blue = self.color
        inner = "".join(str(element) for element in self.elements)
        return f"\trect rgba({red}, {green}, {blue}, {self.alpha})\n{inner}\tend\n"


_COMPENSATION_TINT = (230, 80, 60, 0.14)
_CRASH_WORDS = {"before_commit": "crashed before commit",
                "after_commit_before_ack": "crashed after commit, before ack",
                "after_write_before_publish": "crashed after the state write, before publishing"}


class _Drawing:
    """Turns a `WorkflowStory` into mermaid-py sequence elements (participants, arrows, notes)."""

    def __init__(self, story: WorkflowStory) -> None:
        self.story = story
        self.lanes: dict[str, Participant | Actor] = {}
        for name in story.participants:
            ident = _identifier(name, (lane.id_ for lane in self.lanes.values()))
            if name in story.outsiders:
                # mermaid-py's Actor prints `actor <name>` with no alias; "<id> as <label>" adds one
                lane: Participant | Actor = Actor(f"{ident} as {mermaid_text(name)}")
            else:
                lane = Participant(mermaid_text(name))
            lane.id_ = ident
            self.lanes[name] = lane
        self.several = len(story.workflows) > 1

    def note(self, name: str, *parts: str) -> Note:
        return Note(_lines(*parts), self.lanes[name])

    def arrow(self, source: str, target: str, kind: ArrowTypes, *parts: str) -> Link:
        return Link(self.lanes[source], self.lanes[target], kind, _lines(*parts))

    def label(self, envelope: Envelope, text: str) -> str:
        return f"{envelope.correlation_id} · {text}" if self.several else text

    # -- one arrow per delivery, in the order things happened ----------------------------------
    def timeline(self) -> list:
        items: list[tuple[object, str]] = []
        self.late: dict[tuple[str, str], str] = {}       # (message, service) -> "delayed +5 ms"
        self.open_arrows: dict[tuple[str, str], Link] = {}
        for _, record in self.story.records:
            if record.message_id is None:
                self.service_note(items, record)
            else:
                self.message_step(items, record)
        for arrow in self.open_arrows.values():
            if arrow.type_ == ArrowTypes.SOLID_ASYNC.value:
                arrow.message += "<br/>(being handled)"
        for envelope, name, why in self.story.waiting:
            items.append((self.arrow(envelope.producer, name, ArrowTypes.DOTTED_ARROW,
                                     self.label(envelope, envelope.event_type), f"({why})"),
                          self.role(envelope)))
        for timer in self.story.pending_timers:
            now = self.story.sim.now if self.story.sim is not None else timer.due
            self.add_note(items, timer.service, self.label(
                timer.origin, f"timer pending: {timer.name}, due in {duration_text(timer.due - now)}"),
                "aside")
        return self.shade_compensations(items)

    def service_note(self, items: list[tuple[object, str]], record: TraceRecord) -> None:
        """A kill, restart, pause... as a note on the service's lane."""
        if record.service in self.lanes:
            detail = f" ({record.detail})" if record.detail else ""
            text = f"{_SERVICE_WORDS[record.kind]} at t={record.time}{detail}"
            self.add_note(items, record.service, text, "aside")

    def message_step(self, items: list[tuple[object, str]], record: TraceRecord) -> None:
        """A delivery becomes an arrow; its outcome restyles the arrow and may add a note."""
        envelope = self.story.trace.messages[record.message_id or ""]
        key = (envelope.message_id, record.service)
        if record.kind in _TIMER_KINDS:
            self.add_note(items, record.service, self.label(envelope, timer_note(record)),
                          self.role(envelope))
        elif record.kind in ("delay", "reorder"):
            self.late[key] = f"{record.kind}ed {record.detail}"
        elif record.kind in ("deliver", "redeliver"):
            arrow = self.delivery_arrow(envelope, record, self.late.pop(key, ""))
            self.open_arrows[key] = arrow
            items.append((arrow, self.role(envelope)))
        elif record.kind in _OUTCOMES or record.kind in ("redrive", "no-subscriber"):
            self.mark_outcome(self.open_arrows.get(key), record)
            text = self.outcome_note(record, envelope.event_type)
            if text:
                where = envelope.producer if record.kind == "no-subscriber" else record.service
                self.add_note(items, where, self.label(envelope, text), self.role(envelope))

    def add_note(self, items: list[tuple[object, str]], name: str, text: str, kind: str) -> None:
        """Add a note, or extend the previous one when it is over the same lane (fewer boxes)."""
        if items:
            last, last_kind = items[-1]
            if (isinstance(last, Note) and last.element is self.lanes[name]
                    and last_kind in (kind, "aside")):
                last.note += "<br/>" + mermaid_text(text)
                items[-1] = (last, kind)
                return
        items.append((self.note(name, text), kind))

    def role(self, envelope: Envelope) -> str:
        """'plain', or 'compensation', or 'compensation:<failure event>' for a failure itself."""
        role = self.story.roles.get(envelope.message_id)
        if role == "failure":
            return f"compensation:{envelope.event_type}"
        return "compensation" if role else "plain"

    def delivery_arrow(self, envelope: Envelope, record: TraceRecord, late: str) -> Link:
        text = envelope.event_type
        if record.attempt > 1:
            text += f" (again: attempt {record.attempt}, t={record.time} ms)"
        # Drawn as still in progress; its outcome record turns it into a plain or crossed arrow.
        return self.arrow(envelope.producer, record.service, ArrowTypes.SOLID_ASYNC,
                          self.label(envelope, text), f"({late})" if late else "")

    @staticmethod
    def mark_outcome(arrow: Link | None, record: TraceRecord) -> None:
        if arrow is None or record.kind in ("redrive", "dead-letter", "no-subscriber"):
            return
        if record.kind in ("ack", "duplicate"):
            arrow.type_ = ArrowTypes.SOLID_ARROW.value
        elif record.kind == "drop":
            arrow.type_ = ArrowTypes.DOTTED_CROSS.value
            arrow.message += " (lost)"
        else:
            arrow.type_ = ArrowTypes.SOLID_CROSS.value

    @staticmethod
    def outcome_note(record: TraceRecord, event_type: str) -> str:
        """What to write beside a delivery's outcome; '' when the arrow says it all."""
        if record.kind == "nack":
            return f"nack: {record.detail}"
        if record.kind == "crash":
            return _CRASH_WORDS.get(record.detail, f"crashed: {record.detail}")
        if record.kind == "duplicate":
            return "ack lost: it will come again"
        if record.kind == "abandon":
            return "killed while handling it"
        if record.kind == "dead-letter":  # its reason is on the arrow or note just before
            attempts = "attempt" if record.attempt == 1 else "attempts"
            return f"{event_type} DEAD-LETTERED after {record.attempt} {attempts}"
        if record.kind == "redrive":
            return f"{event_type} re-driven from the dead letters"
        if record.kind == "no-subscriber":
            return f"nobody subscribes to {event_type} yet (kept in the log)"
        return ""

    # -- compensations, shaded -----------------------------------------------------------------
    def shade_compensations(self, items: list[tuple[object, str]]) -> list:
        """Wrap each run of compensation elements (asides inside it included) in a shaded rect."""
        out: list = []
        run: list = []
        asides: list = []
        causes: list[str] = []
        for element, kind in items:
            if kind.startswith("compensation"):
                run += [*asides, element]
                asides = []
                causes.append(kind.partition(":")[2])
            elif kind == "aside" and run:
                asides.append(element)
            else:
                if run:
                    out.append(self.compensation_rect(run, causes))
                    run, causes = [], []
                out += [*asides, element]
                asides = []
        if run:
            out.append(self.compensation_rect(run, causes))
        return out + asides

    def compensation_rect(self, run: list, causes: list[str]) -> Rect:
        names: list[str] = []
        for element in run:
            ends = ([element.source, element.target] if isinstance(element, Link)
                    else [element.element])
            names += [lane.id_ for lane in ends]
        order = [lane.id_ for lane in self.lanes.values()]
        span = sorted(set(names), key=order.index)
        lanes = [lane for lane in self.lanes.values() if lane.id_ in (span[0], span[-1])]
        failures = ", ".join(dict.fromkeys(cause for cause in causes if cause))
        heading = Note(mermaid_text(f"compensation after {failures}" if failures
                                    else "compensation", limit=200), lanes)
        return _TintedRect([heading, *run], _COMPENSATION_TINT)

    # -- many workflows: one counted arrow per (producer, consumer, event type) ----------------
    def summary(self) -> list:
        story = self.story
        edges: dict[tuple[str, str, str], _Edge] = {}
        asides: dict[str, _Edge] = {}
        for index, record in story.records:
            if record.kind == "publish":
                continue
            if record.message_id is None and record.service not in self.lanes:
                continue
            if record.message_id is None or record.kind in ("no-subscriber", *_TIMER_KINDS):
                name = record.service
                aside = asides.setdefault(name, _Edge(index))
                aside.count(_SERVICE_WORDS.get(record.kind) or _TIMER_WORDS.get(record.kind)
                            or f"{story.trace.messages[record.message_id].event_type}: nobody "
                               "subscribes")
                continue
            envelope = story.trace.messages[record.message_id]
            key = (envelope.producer, record.service, envelope.event_type)
            edge = edges.setdefault(key, _Edge(index, story.roles.get(record.message_id, "")))
            edge.add(envelope, record)
        for envelope, name, why in story.waiting:
            key = (envelope.producer, name, envelope.event_type)
            edge = edges.setdefault(key, _Edge(len(story.trace),
                                               story.roles.get(envelope.message_id, "")))
            edge.messages[envelope.message_id] = None
            edge.count(why)
        plain = [self.counted(key, edge) for key, edge in edges.items() if not edge.compensating]
        shaded = [self.counted(key, edge) for key, edge in edges.items() if edge.compensating]
        sides = [(edge.first, [self.note(name, ", ".join(edge.tally()))])
                 for name, edge in asides.items()]
        body = [element for _, elements in sorted(plain + sides, key=lambda item: item[0])
                for element in elements]
        if shaded:
            causes = [key[2] for key, edge in edges.items() if edge.failure]
            body.append(self.compensation_rect([e for _, elements in shaded for e in elements],
                                               causes))
        return [self.summary_note(), *body]

    def counted(self, key: tuple[str, str, str], edge: _Edge) -> tuple[int, list]:
        producer, consumer, event_type = key
        if not edge.delivered:
            kind = ArrowTypes.DOTTED_ARROW   # only waiting
        elif not edge.acked:
            kind = ArrowTypes.SOLID_CROSS    # delivered, never handled
        else:
            kind = ArrowTypes.SOLID_ARROW
        elements: list = [self.arrow(producer, consumer, kind,
                                     f"{event_type} ×{len(edge.messages)}")]
        if edge.notes:
            elements.append(self.note(consumer, *edge.tally()))
        return edge.first, elements

    def summary_note(self) -> Note:
        workflows = self.story.workflows
        lanes = list(self.lanes.values())
        ends = [lanes[0], lanes[-1]] if len(lanes) > 1 else lanes
        return Note(_lines(f"{len(workflows)} workflows summarised "
                           f"({workflows[0]} … {workflows[-1]})",
                           "each arrow counts the messages of all of them",
                           f"one in full: sequence_diagram(sim, '{workflows[0]}')"), ends)


@dataclass
class _Edge:
    """Counts for one arrow of a summary: messages, and how their deliveries went."""

    first: int                     # trace index where it first appears
    role: str = ""                 # "", "failure" or "compensation"
    messages: dict[str, None] = field(default_factory=dict)
    delivered: int = 0
    acked: int = 0
    notes: dict[str, int] = field(default_factory=dict)

    @property
    def compensating(self) -> bool:
        return bool(self.role)

    @property
    def failure(self) -> bool:
        return self.role == "failure"

    def count(self, text: str) -> None:
        self.notes[text] = self.notes.get(text, 0) + 1

    def add(self, envelope: Envelope, record: TraceRecord) -> None:
        self.messages[envelope.message_id] = None
        if record.kind == "deliver":
            self.delivered += 1
        elif record.kind == "ack":
            self.acked += 1
        elif record.kind == "redeliver":
            self.count("redelivered")
        elif record.kind == "drop":
            self.count("lost on the way")
        elif record.kind in ("delay", "reorder"):
            self.count(f"{record.kind}ed")
        elif record.kind == "nack":
            self.count(f"nack: {record.detail}")
        elif record.kind == "dead-letter":
            self.count("DEAD-LETTERED")
        elif record.kind == "redrive":
            self.count("re-driven")
        elif record.kind != "publish":
            self.count(_Drawing.outcome_note(record, envelope.event_type))

    def tally(self, most: int = 5) -> list[str]:
        """'nack: ... ×3' lines, at most `most` of them (reasons can differ per message)."""
        lines = [f"{text} ×{n}" for text, n in self.notes.items()]
        if len(lines) > most:
            lines[most - 1:] = [f"… and {len(lines) - most + 1} other outcomes"]
        return lines


def sequence_diagram(run: Simulation | Trace, workflows: str | Iterable[str] | None = None, *,
                     summarise: bool | None = None) -> Diagram:
    """What actually happened to one workflow (or several), as a Mermaid sequence diagram.

    `workflows`: a correlation id (e.g. an order id), a list of them, or None for all.
    More than `DETAIL_LIMIT` workflows are summarised as counted arrows unless `summarise`
    says otherwise. Events declared as failures or compensations (``role=``) and what
    follows them are shaded as compensation. Given the Simulation (not just its trace), the
    diagram also shows messages still waiting for a service. Cost: the workflows' records.
    """
    story = WorkflowStory.of(run, workflows)
    chosen = story.workflows
    drawing = _Drawing(story)
    summarise = len(chosen) > DETAIL_LIMIT if summarise is None else summarise
    elements = drawing.summary() if summarise else drawing.timeline()
    if summarise:
        title = f"What happened to {len(chosen)} workflows (summary)"
    else:
        title = f"What happened to {', '.join(chosen)}"
    diagram = SequenceDiagram(_yaml_title(title), [*drawing.lanes.values(), *elements])
    return Diagram(diagram.script)


# -- topology: who publishes what, who reacts --------------------------------------------------
_NODE_STYLES = (
    Style("service", fill="#e8f0fe", color="#0b2a5b", stroke="#1a73e8", stroke_width="2px"),
    Style("event", fill="#f4f4f4", color="#222222", stroke="#888888"),
    Style("failure", fill="#fde2e2", color="#7b1d14", stroke="#c0392b"),
    Style("compensation", fill="#fff1d6", color="#6e4a05", stroke="#d68910"),
    Style("outside", fill="#ffffff", color="#222222", stroke="#555555",
          other="stroke-dasharray:4 3"),
)
_EDGE_STYLES = {"failure": "stroke:#c0392b,stroke-width:2px,color:#c0392b",
                "compensation": "stroke:#d68910,stroke-width:2px,color:#b9770e"}


def _event_types(services: list[Service]) -> dict[str, type[Message]]:
    """Every message type the services handle or declare they publish, by name."""
    found: dict[str, type[Message]] = {}
    for service in services:
        for handling in service.handlers.values():
            for event_type in (handling.event_type, *handling.publishes):
                found.setdefault(event_type.event_type, event_type)
    return found


def _event_roles(event_types: dict[str, type[Message]]) -> dict[str, str]:
    """Failures and compensations, as the event types declare them (``role=``)."""
    return {name: cls.event_role for name, cls in event_types.items()
            if cls.event_role != words.STEP}


def _check_services(services: Iterable[Service]) -> list[Service]:
    if isinstance(services, Simulation):
        raise TypeError("topology() reads the service definitions, not a running simulation; "
                        "pass the services you built it from, e.g. topology([payment, shipping])")
    chosen = list(services)
    for service in chosen:
        if not isinstance(service, Service):
            raise TypeError(f"topology() takes Service definitions, got {type(service).__name__} "
                            f"{service!r}")
    if not chosen:
        raise ValueError("topology() needs at least one service")
    return chosen


DIRECTIONS = ("TB", "LR")


def topology(services: Iterable[Service], *, outside: str = "outside",
             hide: Iterable[str] = (), direction: str = "TB") -> Diagram:
    """Who publishes which event and who reacts to it, as a Mermaid flowchart.

    Read from the handlers (what each handles and declares it `publishes`), not from a run.
    Events that no service publishes come from `outside` (e.g. "customer"). Events declared
    as failures and compensations are drawn in red and orange, with dotted arrows.

    `hide` names services that follow along: for them, the arrows into handlers that publish
    nothing (a handler that only updates the service's own view) are not drawn. Their
    handlers that publish something, and what they publish, stay in the diagram.

    `direction`: "TB" draws the flow top to bottom, "LR" left to right (for a star, such as
    an orchestrator with many messages, which is wide drawn top to bottom).
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"topology(direction=...) is 'TB' (top to bottom) or 'LR' (left to "
                         f"right); got {direction!r}")
    chosen = _check_services(services)
    hidden = _check_hidden(chosen, hide)
    event_types = _event_types(chosen)
    roles = _event_roles(event_types)
    taken: list[str] = []
    service_nodes = {s.name: _node(f"svc_{s.name}", s.name, "normal", taken) for s in chosen}
    event_nodes = {name: _node(f"evt_{name}", name, "stadium-shape", taken) for name in event_types}
    source = _node("from_outside", outside, "circle", taken)
    from_outside = _outside_edges(chosen, source, event_nodes, roles)
    edges = list(from_outside)
    for service in chosen:
        edges += _service_edges(service, service_nodes[service.name], event_nodes, roles,
                                follows_along=service.name in hidden)
    nodes = [source] if from_outside else []
    nodes += [*service_nodes.values(), *event_nodes.values()]
    title = "Who publishes what, who reacts"
    if roles:
        title += " (red: failures, orange: compensations)"
    if hidden:
        title += f"; {', '.join(hidden)}: only the reactions that publish"
    chart = FlowChart(_yaml_title(title), nodes, [edge for edge, _ in edges], orientation=direction)
    classes = {"service": [node.id_ for node in service_nodes.values()],
               "event": [n.id_ for name, n in event_nodes.items() if name not in roles],
               "failure": [n.id_ for name, n in event_nodes.items()
                           if roles.get(name) == "failure"],
               "compensation": [n.id_ for name, n in event_nodes.items()
                                if roles.get(name) == "compensation"],
               "outside": [source.id_] if from_outside else []}
    return Diagram(chart.script + _style_lines(classes, [role for _, role in edges]))


def _outside_edges(services: list[Service], source: Node, event_nodes: dict[str, Node],
                   roles: dict[str, str]) -> list[tuple[Edge, str]]:
    """An edge from outside to each event that no service publishes."""
    published = {event_type.event_type for service in services
                 for handling in service.handlers.values() for event_type in handling.publishes}
    return [(Edge(source, node), roles.get(name, "")) for name, node in event_nodes.items()
            if name not in published]


def _check_hidden(services: list[Service], hide: Iterable[str]) -> list[str]:
    """The service names in `hide`, each one checked against the services drawn."""
    if isinstance(hide, str):
        hide = [hide]
    names = [service.name for service in services]
    hidden = list(dict.fromkeys(hide))
    for name in hidden:
        if name not in names:
            raise ValueError(f"topology(hide=...): no service is named {name!r}; the services "
                             f"drawn are {', '.join(names)}. Pass some of these names, "
                             f"e.g. hide=[{names[0]!r}]")
    return hidden


def _service_edges(service: Service, node: Node, event_nodes: dict[str, Node],
                   roles: dict[str, str], *, follows_along: bool = False
                   ) -> list[tuple[Edge, str]]:
    """Edges into the service (labelled with the handler) and out to what it publishes.

    If the service `follows_along`, its handlers that publish nothing get no edge.
    """
    edges = []
    for handled, handling in service.handlers.items():
        if follows_along and not handling.publishes:
            continue
        role = roles.get(handled, "")
        label = mermaid_text(handling.name)
        edges.append((Edge(event_nodes[handled], node, _edge_shape(role), message=label), role))
    published = dict.fromkeys(e.event_type for handling in service.handlers.values()
                              for e in handling.publishes)
    for name in published:  # once per event, however many of its handlers publish it
        role = roles.get(name, "")
        edges.append((Edge(node, event_nodes[name], _edge_shape(role)), role))
    return edges


def _node(name: str, label: str, shape: str, taken: list[str]) -> Node:
    node = Node(name, mermaid_text(label), shape)
    node.id_ = _identifier(name, taken)  # mermaid-py keeps '-' and '.' in ids; Mermaid may not
    taken.append(node.id_)
    return node


def _edge_shape(role: str) -> str:
    return "dotted" if role else "normal"


def _style_lines(classes: dict[str, list[str]], edge_roles: list[str]) -> str:
    # Node styles are written here, not passed to mermaid-py's Node: FlowChart keeps them in a
    # set, whose order changes from run to run, and the diagram text must not.
    lines = [str(style) for style in _NODE_STYLES if classes[style.name]]
    for name, ids in classes.items():
        lines += _listed("class", ids, name)
    for role, css in _EDGE_STYLES.items():
        lines += _listed("linkStyle", [str(i) for i, edge_role in enumerate(edge_roles)
                                       if edge_role == role], css)
    return "".join(f"\t{line}\n" for line in lines)


def _listed(keyword: str, items: list[str], rest: str, width: int = 92) -> list[str]:
    """``keyword a,b,c rest`` as lines of at most `width` characters (as many as it takes:
    Mermaid reads several class or linkStyle lines like one), so the source stays readable."""
    lines: list[str] = []
    chunk: list[str] = []
    for item in items:
        if chunk and len(f"{keyword} {','.join([*chunk, item])} {rest}") > width:
            lines.append(f"{keyword} {','.join(chunk)} {rest}")
            chunk = []
        chunk.append(item)
    if chunk:
        lines.append(f"{keyword} {','.join(chunk)} {rest}")
    return lines


# -- the broker: topics, consumer groups and how far each group got -----------------------------
#: message ids listed in a topic's box; a longer log shows its first ones and a count
LOG_IDS_SHOWN = 6


def broker_diagram(sim: Simulation) -> Diagram:
    """The broker as it is now: each topic's log (the messages it keeps), who publishes to it,
    and each consumer group reading it, with how far the group got (its position: messages
    done, in flight, waiting). Drawn from the simulation's state, not from the code."""
    topics = _subscribed_topics(sim)
    lines = ["---", f"title: {_yaml_title(f'The broker at t={sim.now} ms')}", "---",
             "flowchart LR"]
    topic_ids = {topic: f"topic_{n}" for n, topic in enumerate(topics)}
    group_ids = {name: f"group_{n}" for n, name in enumerate(sim.services)}
    for topic, ident in topic_ids.items():
        log = _log_text(sim.topics.get(topic, []))
        lines.append(f'\t{ident}["{_lines(f"topic {topic}", log)}"]')
    stats = sim.stats()
    for name, ident in group_ids.items():
        instances = stats[name]["instances"]
        what = "group, " + ("1 instance" if instances == 1 else f"{instances} instances")
        lines.append(f'\t{ident}(["{_lines(name, what, stats[name]["status"])}"])')
    producers = _producers(sim)
    outside = sorted({p for ps in producers.values() for p in ps} - set(group_ids))
    for n, name in enumerate(outside):
        group_ids[name] = f"outside_{n}"
        lines.append(f'\toutside_{n}(("{_lines(name)}"))')
    for topic, names in producers.items():
        for name in sorted(names):
            lines.append(f'\t{group_ids[name]} -.->|"publishes"| {topic_ids[topic]}')
    done = _done(sim)
    for name in sim.services:
        waiting = sim.backlog(name)
        for topic in waiting:
            position = _position_text(done.get((name, topic), 0), len(sim.topics.get(topic, [])),
                                      waiting[topic])
            lines.append(f'\t{topic_ids[topic]} -->|"{position}"| {group_ids[name]}')
    return Diagram("\n".join(lines) + "\n")


def _subscribed_topics(sim: Simulation) -> list[str]:
    """Every topic with messages or a subscriber, in the order they first appear."""
    topics = list(sim.topics)
    for name in sim.services:
        topics += [topic for topic in sim.backlog(name) if topic not in topics]
    return topics


def _log_text(log: list[Envelope]) -> str:
    if not log:
        return "empty"
    ids = " ".join(envelope.message_id for envelope in log[:LOG_IDS_SHOWN])
    more = " …" if len(log) > LOG_IDS_SHOWN else ""
    return f"{len(log)} kept: {ids}{more}"


def _producers(sim: Simulation) -> dict[str, set[str]]:
    producers: dict[str, set[str]] = {}
    for topic, log in sim.topics.items():
        producers[topic] = {envelope.producer for envelope in log}
    return producers


def _done(sim: Simulation) -> dict[tuple[str, str], int]:
    """(group, topic) -> messages of that topic the group acked or dead-lettered (each once)."""
    finished: set[tuple[str, str]] = set()
    for record in sim.trace:
        if record.kind in ("ack", "dead-letter") and record.message_id:
            finished.add((record.service, record.message_id))
    counts: dict[tuple[str, str], int] = {}
    for group, message_id in finished:
        key = (group, sim.trace.messages[message_id].topic)
        counts[key] = counts.get(key, 0) + 1
    return counts


def _position_text(done: int, kept: int, waiting: int) -> str:
    position = f"done {done} of {kept}"
    return position + (f", {waiting} waiting" if waiting else "")
