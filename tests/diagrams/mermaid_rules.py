"""Structural rules a Mermaid script must follow, checked without Mermaid itself (offline).

The parsers below accept only the statements choreo_lab writes, so anything unexpected
(a stray ';', an unescaped '#', an undeclared participant, an unclosed block) fails loudly.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

IDENT = r"[a-z_][a-z0-9_]*"
KEYWORDS = {"end", "loop", "alt", "else", "opt", "par", "and", "rect", "critical", "break",
            "box", "note", "participant", "actor", "activate", "deactivate", "autonumber",
            "title", "as", "over", "of", "left", "right", "graph", "flowchart", "subgraph",
            "class", "classdef", "style", "linkstyle", "click", "direction"}
SEQUENCE_ARROWS = ("-->>", "->>", "--x", "-x", "--)", "-)", "-->", "->")


def check_label(text: str, where: str) -> None:
    """Label text: no statement separators, comments, raw HTML or stray entity starts."""
    without_breaks = text.replace("<br/>", "")
    without_entities = re.sub(r"#\d+;", "", without_breaks)
    for bad in (";", "#", "%", "<", ">", "\n", '"'):
        assert bad not in without_entities, f"{where}: unescaped {bad!r} in label {text!r}"


def check_front_matter(lines: list[str]) -> str:
    assert lines[0] == "---" and lines[2] == "---", f"front matter expected, got {lines[:3]}"
    key, _, value = lines[1].partition(": ")
    assert key == "title", lines[1]
    return json.loads(value)  # a quoted string is valid YAML whatever it contains


@dataclass
class Sequence:
    """A parsed sequence diagram: lanes in order, and statements as tuples."""

    title: str
    lanes: dict[str, tuple[str, str]] = field(default_factory=dict)   # id -> (kind, label)
    statements: list[tuple] = field(default_factory=list)

    @property
    def arrows(self) -> list[tuple[str, str, str, str]]:
        """(source label, arrow, target label, text) for each message arrow, in order."""
        return [(self.lanes[s[1]][1], s[2], self.lanes[s[3]][1], s[4])
                for s in self.statements if s[0] == "arrow"]

    @property
    def notes(self) -> list[tuple[list[str], str]]:
        return [([self.lanes[i][1] for i in s[1]], s[2]) for s in self.statements if s[0] == "note"]


def parse_sequence(source: str) -> Sequence:
    """Parse and check a sequence diagram; raise AssertionError at the first broken rule."""
    lines = source.splitlines()
    diagram = Sequence(check_front_matter(lines))
    assert lines[3] == "sequenceDiagram", lines[3]
    depth = 0
    arrow = "|".join(re.escape(a) for a in SEQUENCE_ARROWS)
    for number, raw in enumerate(lines[4:], start=5):
        line = raw.strip()
        where = f"line {number}"
        if not line:
            continue
        if match := re.fullmatch(rf"(participant|actor) ({IDENT}) as (.+)", line):
            kind, ident, label = match.groups()
            assert ident not in KEYWORDS, f"{where}: keyword used as id: {ident}"
            assert ident not in diagram.lanes, f"{where}: {ident} declared twice"
            assert not diagram.statements, f"{where}: lanes must be declared first"
            check_label(label, where)
            diagram.lanes[ident] = (kind, label)
        elif match := re.fullmatch(rf"Note over ({IDENT})(?:,({IDENT}))?: (.+)", line):
            first, second, text = match.groups()
            ids = [first] + ([second] if second else [])
            for ident in ids:
                assert ident in diagram.lanes, f"{where}: note over undeclared {ident}"
            check_label(text, where)
            diagram.statements.append(("note", ids, text, depth))
        elif match := re.fullmatch(rf"({IDENT})({arrow})({IDENT}): (.+)", line):
            source_id, kind, target_id, text = match.groups()
            for ident in (source_id, target_id):
                assert ident in diagram.lanes, f"{where}: arrow to undeclared {ident}"
            check_label(text, where)
            diagram.statements.append(("arrow", source_id, kind, target_id, text, depth))
        elif re.fullmatch(r"rect rgba?\(\d+, ?\d+, ?\d+(, ?[0-9.]+)?\)", line):
            depth += 1
            diagram.statements.append(("rect", depth))
        elif line == "end":
            assert depth > 0, f"{where}: 'end' without an open block"
            depth -= 1
            diagram.statements.append(("end", depth))
        else:
            raise AssertionError(f"{where}: not a statement choreo_lab should write: {line!r}")
    assert depth == 0, "a rect is never closed"
    return diagram


@dataclass
class Flowchart:
    title: str
    nodes: dict[str, str] = field(default_factory=dict)              # id -> label
    edges: list[tuple[str, str, str, str]] = field(default_factory=list)  # from, kind, label, to
    classes: dict[str, list[str]] = field(default_factory=dict)      # class -> node ids
    link_styles: dict[int, str] = field(default_factory=dict)

    def edge_labels(self) -> set[tuple[str, str]]:
        """(from label, to label) for every edge."""
        return {(self.nodes[a], self.nodes[b]) for a, _, _, b in self.edges}


def parse_flowchart(source: str) -> Flowchart:
    """Parse and check a flowchart; raise AssertionError at the first broken rule."""
    lines = source.splitlines()
    chart = Flowchart(check_front_matter(lines))
    assert re.fullmatch(r"flowchart (TB|LR|BT|RL)", lines[3]), lines[3]
    defined: set[str] = set()
    for number, raw in enumerate(lines[4:], start=5):
        line = raw.strip()
        where = f"line {number}"
        if match := re.fullmatch(rf'({IDENT})(\(\(|\(\[|\[|\()"([^"]*)"(\)\)|\]\)|\]|\))', line):
            ident, _, label, _ = match.groups()
            assert ident not in KEYWORDS and ident not in chart.nodes, f"{where}: bad id {ident}"
            check_label(label, where)
            chart.nodes[ident] = label
        elif match := re.fullmatch(rf'({IDENT}) (-->|-\.->)(?:\|"([^"]*)"\|)? ({IDENT})', line):
            origin, kind, label, end = match.groups()
            for ident in (origin, end):
                assert ident in chart.nodes, f"{where}: edge to undeclared node {ident}"
            check_label(label or "", where)
            chart.edges.append((origin, kind, label or "", end))
        elif match := re.fullmatch(rf"classDef ({IDENT}) ([a-z-]+:[^;,\s]+(?:,[a-z-]+:[^;,]+)*)",
                                   line):
            defined.add(match.group(1))
        elif match := re.fullmatch(rf"class ({IDENT}(?:,{IDENT})*) ({IDENT})", line):
            ids, name = match.groups()
            assert name in defined, f"{where}: class {name} used before classDef"
            for ident in ids.split(","):
                assert ident in chart.nodes, f"{where}: class for undeclared node {ident}"
            chart.classes[name] = ids.split(",")
        elif match := re.fullmatch(r"linkStyle (\d+(?:,\d+)*) ([a-z-]+:[^;\s]+)", line):
            numbers, css = match.groups()
            for number_text in numbers.split(","):
                assert int(number_text) < len(chart.edges), f"{where}: no edge {number_text}"
                chart.link_styles[int(number_text)] = css
        else:
            raise AssertionError(f"{where}: not a statement choreo_lab should write: {line!r}")
    return chart
