"""Exports of a snapshot's flow: a Mermaid flowchart, a Graphviz DOT graph and an AsyncAPI 3.0 document,
and for decoupling proposals (flow.proposal) a before/after drawing in Mermaid or DOT.

All three draw the same topology, left to right: services that write -> topics -> services that read
(one node per service, so a service that reads one topic and writes another sits in the middle).
Internal topics are left out: they have one audience by design. Command topics are styled apart and
marked ``CMD·1``. The output depends on topology only (no rates), so a diagram committed to a
repository changes when the flow changes, not every time it is exported.

Names come from the cluster or from a file and are untrusted: every node gets a generated identifier,
every text goes through the one sanitiser (flow.sanitize: control characters become visible
placeholders), and each format's own escaping keeps any text (quotes, brackets, newlines, markup,
``-->``, ``%%{init}%%``) a label and never syntax.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flow.instants import utc_datetime
from flow.proposal import Proposal, apply_proposals
from flow.sanitize import clean, terminal_safe
from flow.snapshot import FlowSnapshot, TopicView

COMMAND_MARK = "CMD·1"
EXPORT_FORMATS = ("mermaid", "dot", "asyncapi")
ASYNCAPI_VERSION = "3.0.0"
KAFKA_BINDING_VERSION = "0.5.0"


@dataclass(frozen=True, slots=True)
class _Node:
    id: str
    label: str
    kind: str
    """``service``, or a topic's kind: ``command``, ``event`` or ``unread``."""
    topic: TopicView | None = None


@dataclass(frozen=True, slots=True)
class _Link:
    source: str
    target: str
    label: str | None
    """The consumer group id, when it is not simply the service's name."""
    service: str
    topic: str
    """The names behind the link, so a proposal's drawing can tell which links it changes."""


@dataclass(frozen=True, slots=True)
class _Graph:
    services: tuple[_Node, ...]
    topics: tuple[_Node, ...]
    links: tuple[_Link, ...]


def _graph(snapshot: FlowSnapshot, prefix: str = "") -> _Graph:
    """The drawn nodes and links; ``prefix`` keeps two flows apart in one drawing (before and after)."""
    topics = [topic for topic in snapshot.topics if topic.kind != "internal"]
    topic_ids = {topic.name: f"{prefix}t{index}" for index, topic in enumerate(topics)}
    service_ids = {service.name: f"{prefix}s{index}" for index, service in enumerate(snapshot.services)}
    links: list[_Link] = []
    seen: set[tuple[str, str, str | None]] = set()
    for edge in snapshot.edges:
        if edge.kind == "produce":
            service, topic = edge.source, edge.target
            source, target, label = service_ids.get(service), topic_ids.get(topic), None
        else:
            group = snapshot.group(edge.target)
            service = group.service if group is not None else edge.target
            topic = edge.source
            source, target = topic_ids.get(topic), service_ids.get(service)
            label = None if service == edge.target else edge.target
        if source is None or target is None or (source, target, label) in seen:
            continue
        seen.add((source, target, label))
        links.append(_Link(source, target, label, service, topic))
    return _Graph(
        services=tuple(_Node(service_ids[s.name], s.name, "service") for s in snapshot.services),
        topics=tuple(_Node(topic_ids[t.name], t.name, t.kind, t) for t in topics),
        links=tuple(links),
    )


# -- Mermaid ---------------------------------------------------------------------------------------------

_MERMAID_ENTITIES = {
    '"': "#quot;",
    "#": "#35;",
    "&": "#amp;",
    "<": "#lt;",
    ">": "#gt;",
    "`": "#96;",
    "%": "#37;",
    "\\": "#92;",
    "|": "#124;",
}
_MERMAID_SPECIAL = re.compile("[" + re.escape("".join(_MERMAID_ENTITIES)) + "]")

MERMAID_STYLES = (
    "classDef service fill:#eef2ff,stroke:#4c5fd5,color:#1e2a78",
    "classDef event fill:#e9f7ef,stroke:#2f9e44,color:#114d22",
    "classDef command fill:#fff0e6,stroke:#d9480f,stroke-width:3px,color:#7a2600",
    "classDef unread fill:#f8f9fa,stroke:#adb5bd,stroke-dasharray:4 3,color:#495057",
)


def mermaid_text(text: str) -> str:
    """Text for inside a quoted Mermaid label: Mermaid's entity codes for anything it could read as
    syntax, markup or a directive."""
    return _MERMAID_SPECIAL.sub(lambda m: _MERMAID_ENTITIES[m.group()], clean(text))


def _topic_lines(topic: TopicView) -> list[str]:
    lines = [topic.name]
    if topic.kind == "command":
        lines.append(COMMAND_MARK)
    elif topic.kind == "unread":
        lines.append("unread")
    return lines


def render_mermaid(snapshot: FlowSnapshot) -> str:
    """A left-to-right Mermaid flowchart: services (rounded) -> topics (cylinders) -> services."""
    graph = _graph(snapshot)
    out = ["flowchart LR"]
    out.extend(f"  {style}" for style in MERMAID_STYLES)
    out.extend(_mermaid_nodes(graph, "  "))
    out.extend(_mermaid_link(link, "-->") for link in graph.links)
    return "\n".join(out) + "\n"


def _mermaid_nodes(graph: _Graph, indent: str) -> list[str]:
    lines = [f'{indent}{node.id}("{mermaid_text(node.label)}"):::service' for node in graph.services]
    for node in graph.topics:
        assert node.topic is not None
        label = "<br/>".join(mermaid_text(line) for line in _topic_lines(node.topic))
        lines.append(f'{indent}{node.id}[("{label}")]:::{node.kind}')
    return lines


def _mermaid_link(link: _Link, arrow: str) -> str:
    text = f'|"{mermaid_text(link.label)}"|' if link.label else ""
    return f"  {link.source} {arrow}{text} {link.target}"


# A proposal's drawing: removed topics and links red and dashed, added ones green and bold. The arrow
# itself says it too (-.-> and ==>), so the change still shows where styles are not rendered.
MERMAID_PROPOSAL_STYLES = (
    "classDef removed fill:#fff5f5,stroke:#e03131,stroke-width:2px,stroke-dasharray:6 4,color:#c92a2a",
    "classDef added fill:#ebfbee,stroke:#2b8a3e,stroke-width:4px,color:#1b5e20",
)
_REMOVED_LINK = "stroke:#e03131,stroke-width:2px,stroke-dasharray:6 4"
_ADDED_LINK = "stroke:#2b8a3e,stroke-width:4px"


@dataclass(frozen=True, slots=True)
class _Change:
    """What a set of proposals changes, in the terms of the drawn graph."""

    before: _Graph
    after: _Graph
    removed_topics: frozenset[str]
    added_topics: frozenset[str]
    added_links: frozenset[tuple[str, str]]
    """(service, topic) pairs the proposals add, whichever way the link points."""

    def removed(self, link: _Link) -> bool:
        return link.topic in self.removed_topics

    def added(self, link: _Link) -> bool:
        return (link.service, link.topic) in self.added_links


def _change(snapshot: FlowSnapshot, proposals: Sequence[Proposal]) -> _Change:
    after = apply_proposals(snapshot, proposals)
    added_links = set()
    for proposal in proposals:
        for edge in proposal.added_edges:
            if edge.kind == "produce":
                added_links.add((edge.source, edge.target))
            else:
                group = after.group(edge.target)
                added_links.add((group.service if group is not None else edge.target, edge.source))
    existing = {topic.name for topic in snapshot.topics}
    return _Change(
        before=_graph(snapshot, "b_"),
        after=_graph(after, "a_"),
        removed_topics=frozenset(t for p in proposals for t in p.removed_topics) - {p.fact_topic for p in proposals},
        added_topics=frozenset(p.fact_topic for p in proposals if p.fact_topic not in existing),
        added_links=frozenset(added_links),
    )


def render_mermaid_proposal(snapshot: FlowSnapshot, proposals: Sequence[Proposal]) -> str:
    """Today's flow and the proposed one side by side, as two subgraphs of one flowchart.

    Today: the command topics that go are marked ``removed`` and their links dashed red. Proposed: new
    fact topics are marked ``added`` and the links the proposals add are bold green.
    """
    change = _change(snapshot, proposals)
    out = ["flowchart LR"]
    out.extend(f"  {style}" for style in (*MERMAID_STYLES, *MERMAID_PROPOSAL_STYLES))
    for subgraph, title, graph in (("before", "today", change.before), ("after", "proposed", change.after)):
        out.append(f'  subgraph {subgraph}["{title}"]')
        out.append("    direction LR")
        out.extend(_mermaid_nodes(graph, "    "))
        out.append("  end")
    out.extend(f"  class {n.id} removed" for n in change.before.topics if n.label in change.removed_topics)
    out.extend(f"  class {n.id} added" for n in change.after.topics if n.label in change.added_topics)
    removed: list[int] = []
    added: list[int] = []
    index = 0  # Mermaid numbers links in the order they are written; linkStyle refers to those numbers
    for link in change.before.links:
        is_removed = change.removed(link)
        out.append(_mermaid_link(link, "-.->" if is_removed else "-->"))
        if is_removed:
            removed.append(index)
        index += 1
    for link in change.after.links:
        is_added = change.added(link)
        out.append(_mermaid_link(link, "==>" if is_added else "-->"))
        if is_added:
            added.append(index)
        index += 1
    if removed:
        out.append(f"  linkStyle {','.join(map(str, removed))} {_REMOVED_LINK}")
    if added:
        out.append(f"  linkStyle {','.join(map(str, added))} {_ADDED_LINK}")
    return "\n".join(out) + "\n"


# -- Graphviz DOT ------------------------------------------------------------------------------------------

_DOT_STYLES = {
    "service": 'shape=box, style="rounded,filled", fillcolor="#eef2ff", color="#4c5fd5"',
    "event": 'shape=cylinder, style=filled, fillcolor="#e9f7ef", color="#2f9e44"',
    "command": 'shape=cylinder, style="filled,bold", fillcolor="#fff0e6", color="#d9480f", penwidth=2.5',
    "unread": 'shape=cylinder, style="filled,dashed", fillcolor="#f8f9fa", color="#adb5bd"',
}


def dot_string(text: str) -> str:
    """A DOT double-quoted string whose label shows ``text`` literally.

    The DOT grammar escapes only the quote; labels then read backslash sequences (``\\n``, ``\\N``,
    ``\\G`` ...) and HTML entities, so the backslash and the ampersand are escaped as well.
    """
    escaped = clean(text).replace("\\", "\\\\").replace('"', '\\"').replace("&", "&amp;")
    return f'"{escaped}"'


_DOT_HEADER = (
    '  graph [rankdir=LR, charset="UTF-8", fontname="Helvetica"];',
    '  node [fontname="Helvetica", fontsize=11];',
    '  edge [color="#868e96"];',
)


def render_dot(snapshot: FlowSnapshot) -> str:
    """A left-to-right Graphviz digraph; command topics filled orange, bold, and marked ``CMD·1``."""
    graph = _graph(snapshot)
    out = ["digraph flowscope {", *_DOT_HEADER, *_dot_nodes(graph, "  ")]
    out.extend(_dot_link(link) for link in graph.links)
    out.append("}")
    return "\n".join(out) + "\n"


def _dot_nodes(graph: _Graph, indent: str, marks: Mapping[str, str] | None = None) -> list[str]:
    """Node statements; ``marks`` maps a topic name to a mark (``removed``, ``added``) that restyles it."""
    service_style = _DOT_STYLES["service"]
    lines = [
        f"{indent}{node.id} [label={dot_string(node.label)}, class=service, {service_style}];"
        for node in graph.services
    ]
    for node in graph.topics:
        topic = node.topic
        assert topic is not None
        label = "\\n".join(dot_string(line)[1:-1] for line in _topic_lines(topic))
        tooltip = dot_string(f"{topic.kind}: " + "; ".join(topic.classification.reasons))
        mark = (marks or {}).get(topic.name)
        classes = f"topic {node.kind} {mark}" if mark else f"topic {node.kind}"
        style = _DOT_MARKED[mark] if mark else _DOT_STYLES[node.kind]
        lines.append(f'{indent}{node.id} [label="{label}", class="{classes}", tooltip={tooltip}, {style}];')
    return lines


def _dot_link(link: _Link, mark: str | None = None) -> str:
    attributes = [f"label={dot_string(link.label)}", "fontsize=9"] if link.label else []
    if mark:
        attributes += [f"class={mark}", _DOT_MARKED_LINK[mark]]
    listed = f" [{', '.join(attributes)}]" if attributes else ""
    return f"  {link.source} -> {link.target}{listed};"


_DOT_MARKED = {
    "removed": 'shape=cylinder, style="filled,dashed", fillcolor="#fff5f5", color="#e03131", fontcolor="#c92a2a", '
    "penwidth=2",
    "added": 'shape=cylinder, style="filled,bold", fillcolor="#ebfbee", color="#2b8a3e", penwidth=3',
}
_DOT_MARKED_LINK = {
    "removed": 'style=dashed, color="#e03131", penwidth=1.5',
    "added": 'style=bold, color="#2b8a3e", penwidth=2.5',
}


def render_dot_proposal(snapshot: FlowSnapshot, proposals: Sequence[Proposal]) -> str:
    """Today's flow and the proposed one as two clusters of one digraph, marked as in Mermaid: removed
    command topics and their links dashed red, added fact topics and links bold green."""
    change = _change(snapshot, proposals)
    out = ["digraph flowscope_proposal {", *_DOT_HEADER]
    removed = dict.fromkeys(change.removed_topics, "removed")
    added = dict.fromkeys(change.added_topics, "added")
    for cluster, title, graph, marks in (
        ("cluster_before", "today", change.before, removed),
        ("cluster_after", "proposed", change.after, added),
    ):
        out.append(f"  subgraph {cluster} {{")
        out.append(f'    label="{title}"; style=rounded; color="#ced4da";')
        out.extend(_dot_nodes(graph, "    ", marks))
        out.append("  }")
    out.extend(_dot_link(link, "removed" if change.removed(link) else None) for link in change.before.links)
    out.extend(_dot_link(link, "added" if change.added(link) else None) for link in change.after.links)
    out.append("}")
    return "\n".join(out) + "\n"


# -- AsyncAPI 3.0 ------------------------------------------------------------------------------------------

_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def _ids(names: list[str], prefix: str = "") -> dict[str, str]:
    """Stable, unique identifiers made of ``[A-Za-z0-9_.-]`` for arbitrary names.

    A name that is already safe keeps its spelling; any other gets a short hash so that two names
    that clean up alike (``a b`` and ``a/b``) stay apart.
    """
    ids: dict[str, str] = {}
    taken: set[str] = set()
    for name in names:
        base = _ID_UNSAFE.sub("-", prefix + name).strip("-.")[:80] or "x"
        candidate = base
        if candidate != prefix + name or candidate in taken:
            candidate = f"{base}-{hashlib.sha1(name.encode('utf-8', 'replace')).hexdigest()[:8]}"
        while candidate in taken:
            candidate += "x"
        taken.add(candidate)
        ids[name] = candidate
    return ids


def _message(topic: TopicView, record_type: str | None) -> dict[str, Any]:
    """A message object for one record type of a topic, with the headers and content type its
    sampled records carried."""
    header_names: set[str] = set()
    content_type = None
    for record in topic.records:
        headers = dict(record.headers)
        found_type = next((v for k, v in headers.items() if k in ("ce_type", "ce-type", "type")), None)
        if record_type is not None and found_type != record_type:
            continue
        header_names.update(headers)
        for key in ("content-type", "ce_datacontenttype", "ce-datacontenttype"):
            value = headers.get(key)
            if content_type is None and isinstance(value, str):
                content_type = clean(value, 100)
    message: dict[str, Any] = {"name": clean(record_type or topic.name)}
    if record_type is not None:
        message["title"] = clean(record_type)
    if content_type is not None:
        message["contentType"] = content_type
    if header_names:
        message["headers"] = {
            "type": "object",
            "properties": {clean(name): {"type": "string"} for name in sorted(header_names)},
        }
    return message


def asyncapi_document(snapshot: FlowSnapshot, source: str) -> dict[str, Any]:
    """The flow as an AsyncAPI 3.0 document (as data): channels are topics, operations are each
    service's sends and each consumer group's receives; command topics and their operations carry a
    ``command`` tag, and every channel says why it has its kind (``x-flowscope-*``)."""
    topics = [topic for topic in snapshot.topics if topic.kind != "internal"]
    channel_ids = _ids([topic.name for topic in topics])
    channels: dict[str, Any] = {}
    message_ids: dict[str, list[str]] = {}
    for topic in topics:
        cid = channel_ids[topic.name]
        types: list[str | None] = [*topic.record_types] or [None]
        mids = _ids([t if t is not None else topic.name for t in types])
        messages = {mids[t if t is not None else topic.name]: _message(topic, t) for t in types}
        message_ids[topic.name] = list(messages)
        channel: dict[str, Any] = {
            "address": clean(topic.name, 1000),
            "title": clean(topic.name),
            "description": clean("; ".join(topic.classification.reasons), 2000),
            "messages": messages,
            "tags": [{"name": topic.kind, "description": _kind_description(topic)}],
            "bindings": {"kafka": {"bindingVersion": KAFKA_BINDING_VERSION}},
            "x-flowscope-kind": topic.kind,
            "x-flowscope-reasons": [clean(reason, 1000) for reason in topic.classification.reasons],
            "x-flowscope-consumer-groups": [clean(group) for group in topic.groups],
        }
        if topic.partitions > 0:
            channel["bindings"]["kafka"]["partitions"] = topic.partitions
        if topic.classification.confidence:
            channel["x-flowscope-confidence"] = topic.classification.confidence
        channels[cid] = channel

    by_name = {topic.name: topic for topic in topics}
    planned: list[tuple[str, dict[str, Any]]] = []
    for edge in snapshot.edges:
        found = by_name.get(edge.target if edge.kind == "produce" else edge.source)
        if found is None:
            continue
        topic = found
        cid = channel_ids[topic.name]
        operation: dict[str, Any] = {
            "action": "send" if edge.kind == "produce" else "receive",
            "channel": {"$ref": f"#/channels/{cid}"},
            "messages": [{"$ref": f"#/channels/{cid}/messages/{mid}"} for mid in message_ids[topic.name]],
        }
        if edge.kind == "produce":
            operation["title"] = clean(f"{edge.source} sends to {topic.name}")
            operation["x-flowscope-service"] = clean(edge.source)
            key = f"{edge.source}.send.{topic.name}"
        else:
            group = snapshot.group(edge.target)
            service = group.service if group is not None else edge.target
            operation["title"] = clean(f"{service} receives from {topic.name} (group {edge.target})")
            operation["x-flowscope-service"] = clean(service)
            operation["bindings"] = {
                "kafka": {
                    "groupId": {"type": "string", "enum": [clean(edge.target, 1000)]},
                    "bindingVersion": KAFKA_BINDING_VERSION,
                }
            }
            key = f"{service}.receive.{topic.name}.{edge.target}"
        if topic.kind == "command":
            operation["tags"] = [{"name": "command", "description": _kind_description(topic)}]
        planned.append((key, operation))
    operation_ids = _ids([key for key, _ in planned])
    operations = {operation_ids[key]: operation for key, operation in planned}

    commands = [topic.name for topic in topics if topic.kind == "command"]
    moment = utc_datetime(snapshot.t) if snapshot.t else None
    when = moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None
    description = (
        f"The event flow flowscope observed in {clean(source)}"
        + (f" as of {when}" if when else "")
        + f": {len(topics)} topics, {len(commands)} command topics (an audience of one), "
        f"{len(snapshot.groups)} consumer groups."
    )
    document: dict[str, Any] = {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": clean(f"Event flow of {source}"),
            "version": when or "unknown",
            "description": description,
            "x-flowscope-findings": [
                {
                    "kind": finding.kind,
                    "summary": clean(finding.summary, 2000),
                    "advice": clean(finding.advice, 2000),
                }
                for finding in snapshot.findings
            ],
        },
    }
    cluster = snapshot.cluster
    if cluster is not None and cluster.brokers:
        document["servers"] = {
            f"broker-{broker.id}": {
                "host": clean(f"{broker.host}:{broker.port}"),
                "protocol": "kafka",
                "description": clean(f"broker {broker.id} of cluster {cluster.cluster_id or 'unknown'}"),
            }
            for broker in cluster.brokers
        }
    document["channels"] = channels
    document["operations"] = operations
    return document


def _kind_description(topic: TopicView) -> str:
    kind = topic.kind
    if kind == "command":
        return "an audience of one: exactly one consumer group reads it"
    if kind == "event":
        return f"{len(topic.groups)} audiences: each consumer group decides for itself"
    return "no consumer group reads it"


def render_asyncapi(snapshot: FlowSnapshot, source: str) -> str:
    """The AsyncAPI 3.0 document as JSON (which is also YAML)."""
    return terminal_safe(json.dumps(asyncapi_document(snapshot, source), indent=2, ensure_ascii=False)) + "\n"


PROPOSAL_FORMATS = ("mermaid", "dot")


def proposal_renderer(fmt: str) -> Callable[[FlowSnapshot, Sequence[Proposal]], str]:
    """The before/after drawing for ``mermaid`` or ``dot``, taking (snapshot, proposals)."""
    if fmt == "mermaid":
        return render_mermaid_proposal
    if fmt == "dot":
        return render_dot_proposal
    raise ValueError(f"no before/after drawing in {fmt!r} (known: {', '.join(PROPOSAL_FORMATS)})")


def renderer(fmt: str) -> Callable[[FlowSnapshot, str], str]:
    """The export function for ``mermaid``, ``dot`` or ``asyncapi``, each taking (snapshot, source)."""
    if fmt == "mermaid":
        return lambda snapshot, _source: render_mermaid(snapshot)
    if fmt == "dot":
        return lambda snapshot, _source: render_dot(snapshot)
    if fmt == "asyncapi":
        return render_asyncapi
    raise ValueError(f"unknown export format {fmt!r} (known: {', '.join(EXPORT_FORMATS)})")
