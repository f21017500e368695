"""How each box and edge of the graph looks for one snapshot: names, badges, numbers and style classes.

Pure data, so it is computed off the UI loop and tested without a screen. Component classes are the
graph's (``flow-graph--…``); the kinds' and statuses' come from the marks table.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from flow.sanitize import clean
from flow.vocabulary import UNKNOWN_WRITER
from tui.view.format import compact_number, rate_text
from tui.view.layout import HIDDEN_SUFFIX, EdgeId, NodeId
from tui.view.marks import CHAIN_MARK, KIND_MARKS, STATUS_MARKS

if TYPE_CHECKING:
    from collections.abc import Mapping

    from flow.snapshot import FlowSnapshot


@dataclass(frozen=True, slots=True)
class NodeLook:
    """What a box shows: its name, a badge, a second line of numbers, and the component classes."""

    name: str
    badge: str
    badge_class: str
    detail: str
    detail_class: str
    border_class: str
    brief: str = ""
    """The numbers in at most eight cells, for boxes that are only as wide as their names or one line tall."""
    glyph: str = ""
    """The mark in one cell, in front of a one-line box's name."""


@dataclass(frozen=True, slots=True)
class EdgeLook:
    weight: str  # "idle" | "thin" | "heavy"
    component: str


WEIGHTS = ("idle", "thin", "heavy")

Looks = tuple[dict[NodeId, NodeLook], dict[EdgeId, EdgeLook]]


@cache
def edge_look(weight: str, component: str) -> EdgeLook:
    """One object per look (there are nine), so comparing two snapshots' edges is a matter of identity."""
    return EdgeLook(weight, component)


NO_EDGE = edge_look("idle", "flow-graph--edge")


def unknown_writer(topic: str) -> NodeId:
    """The box that stands for a topic's unknown writer: one per topic, so no line joins two topics."""
    return ("service", f"{UNKNOWN_WRITER}{HIDDEN_SUFFIX}{topic}")


def unknown_writer_of(node: NodeId) -> str | None:
    """The topic an unknown writer's box writes, or None for any other box."""
    prefix = f"{UNKNOWN_WRITER}{HIDDEN_SUFFIX}"
    return node[1][len(prefix) :] if node[0] == "service" and node[1].startswith(prefix) else None


def fallback_look(node: NodeId) -> NodeLook:
    """A box whose snapshot has not arrived yet: its name, dimmed."""
    return NodeLook(clean(node[1], 80), "", "flow-graph--badge", "", "flow-graph--dim", "flow-graph--dim")


def describe(snapshot: FlowSnapshot, written: Mapping[str, float]) -> Looks:
    """Box and edge looks for a snapshot; ``written`` is each service's produce rate."""
    return _node_looks(snapshot, written), _edge_looks(snapshot)


def _unknown_writes(snapshot: FlowSnapshot) -> dict[str, float | None]:
    """Topics an unknown writer writes, with its share of their rate."""
    return {
        topic.name: producer.rate
        for topic in snapshot.topics
        for producer in topic.producers
        if producer.name == UNKNOWN_WRITER
    }


def _node_looks(snapshot: FlowSnapshot, written: Mapping[str, float]) -> dict[NodeId, NodeLook]:
    looks: dict[NodeId, NodeLook] = {}
    for topic in snapshot.topics:
        mark = KIND_MARKS[topic.kind]
        detail, detail_class = f"{rate_text(topic.rate)} · {topic.partitions}p", "flow-graph--dim"
        # A broker is gone: say so where the eye already is, in place of the numbers, in as few cells as
        # the narrowest box has (URP: under-replicated partitions, as Kafka's own metric names them).
        if topic.offline:
            detail, detail_class = f"⚠{len(topic.offline)} offline", "flow-graph--status-stall"
        elif topic.under_replicated:
            detail, detail_class = f"⚠ {len(topic.under_replicated)} URP", "flow-graph--status-warn"
        looks[("topic", topic.name)] = NodeLook(
            clean(topic.name, 120),
            mark.badge_for(len(topic.groups)),
            f"flow-graph--badge-{mark.css}",
            detail,
            detail_class,
            f"flow-graph--{mark.css}",
            "offline" if topic.offline else rate_text(topic.rate),
            mark.glyph,
        )
    chained = {service for f in snapshot.findings if f.kind == "command_chain" for service in f.services}
    groups = {group.id: group for group in snapshot.groups}
    for service in snapshot.services:
        mine = [groups[g] for g in service.groups if g in groups]
        if mine:
            status = max((g.status for g in mine), key=lambda s: s.severity)
            lag = compact_number(sum(g.lag for g in mine))
            detail = f"lag {lag} {status.value}"
            brief = f"lag {lag}" if status.severity == 0 else status.value
            detail_class = f"flow-graph--status-{STATUS_MARKS[status].css}"
        else:
            detail = f"writes {rate_text(written.get(service.name))}"
            brief = rate_text(written.get(service.name))
            detail_class = "flow-graph--dim"
        chain = service.name in chained
        looks[("service", service.name)] = NodeLook(
            clean(service.name, 120),
            CHAIN_MARK.badge if chain else "",
            f"flow-graph--{CHAIN_MARK.css}" if chain else "flow-graph--badge",
            detail,
            detail_class,
            "flow-graph--dim" if service.unknown else "flow-graph--service",
            brief,
            CHAIN_MARK.glyph if chain else "",
        )
    for topic_name, rate in _unknown_writes(snapshot).items():
        looks[unknown_writer(topic_name)] = unknown_writer_look(f"writes {rate_text(rate)}", rate_text(rate))
    return looks


def unknown_writer_look(detail: str, brief: str) -> NodeLook:
    """How an unknown writer's box looks, whatever it stands for (one topic's writer, or a group's)."""
    return NodeLook(UNKNOWN_WRITER, "?", "flow-graph--badge", detail, "flow-graph--dim", "flow-graph--dim", brief, "?")


def _edge_looks(snapshot: FlowSnapshot) -> dict[EdgeId, EdgeLook]:
    """Each edge's weight (idle, thin, or heavy when at least half the busiest) and whether it touches a command."""
    kinds = {topic.name: topic.kind for topic in snapshot.topics}
    service_of = {group.id: group.service for group in snapshot.groups}
    rates: dict[EdgeId, float] = {}
    for edge in snapshot.edges:
        if edge.kind == "produce":
            key: EdgeId = (("service", edge.source), ("topic", edge.target))
        else:
            key = (("topic", edge.source), ("service", service_of.get(edge.target, edge.target)))
        rates[key] = rates.get(key, 0.0) + (edge.rate or 0.0)
    for topic_name, rate in _unknown_writes(snapshot).items():
        rates[unknown_writer(topic_name), ("topic", topic_name)] = rate or 0.0
    busiest = max(rates.values(), default=0.0)
    edges: dict[EdgeId, EdgeLook] = {}
    for key, rate in rates.items():
        weight = "idle" if rate < 0.01 else "heavy" if busiest and rate >= busiest / 2 else "thin"
        touches_command = any(node[0] == "topic" and kinds.get(node[1]) == "command" for node in key)
        edges[key] = edge_look(weight, "flow-graph--edge-command" if touches_command else "flow-graph--edge")
    return edges
