"""How much of the flow the graph shows: all of it, one box's neighbourhood, or groups of boxes.

The graph scales by zoom, not by scrolling. A focus shows the boxes a few steps up and down the flow
from one box, laid out on their own. The overview, for a cluster too big for a few screens, groups topics
and services by the first part of their names (``billing.invoice-created`` is in ``billing.*``); a
group box counts what it holds, and expanding one shows its members in place. Pure: the projection
(projection.py) applies a Scope to each snapshot, and tests check the rules on the bundled scenarios.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from flow.naming import internal_reason
from flow.sanitize import clean
from tui.view.format import rate_text
from tui.view.layout import EdgeId, NodeId, NodeKind, Topology
from tui.view.looks import NodeLook, unknown_writer, unknown_writer_look, unknown_writer_of
from tui.view.marks import KIND_MARKS, STATUS_MARKS

if TYPE_CHECKING:
    from flow.snapshot import FlowSnapshot

DEFAULT_HOPS = 2
MAX_HOPS = 9
GROUP_SUFFIX = {"topic": ".*", "service": "-*"}
"""What ends a group box's name: ``billing.*`` holds topics, ``billing-*`` services."""
INTERNAL_GROUP = "internal"
_FIRST_SEGMENT = re.compile(r"[._-]")
SCREENS = 3
"""The overview starts when the whole flow would take more than this many screens' height."""
OVERVIEW_SCREENS = 2
"""The overview's boxes go one line each when framed ones would take more than this: it is there to be
taken in at a glance, with the topic groups (and their command counts) on the first screen."""
LINES_PER_BOX = 2
"""The overview draws the lines between groups only while there are at most this many per box: a
tangle of every domain's flows to every other says nothing, and the lines are all truthful or none."""
ROWS_PER_TOPIC = 5
"""A framed topic box and the gap under it: what a column of topics takes, roughly."""


@dataclass(frozen=True, slots=True)
class Scope:
    """What the graph shows: everything, the neighbourhood of ``focus``, or groups (``grouped``) with
    the ``expanded`` ones shown member by member."""

    focus: NodeId | None = None
    hops: int = DEFAULT_HOPS
    grouped: bool = False
    expanded: frozenset[NodeId] = field(default_factory=frozenset)

    def focused(self, node: NodeId) -> Scope:
        return Scope(node, self.hops, self.grouped, self.expanded)

    def with_hops(self, hops: int) -> Scope:
        return Scope(self.focus, min(max(hops, 1), MAX_HOPS), self.grouped, self.expanded)

    def opened(self, group: NodeId) -> Scope:
        """The overview with ``group`` shown member by member too."""
        return Scope(None, self.hops, True, self.expanded | {group})


def is_group(node: NodeId) -> bool:
    return node[1].endswith(GROUP_SUFFIX[node[0]])


def group_name(node: NodeId) -> str:
    """``billing`` for the group box ``billing.*``."""
    return node[1][: -len(GROUP_SUFFIX[node[0]])]


def starts_grouped(topology: Topology, height: int) -> bool:
    """Whether the whole flow would take more than a few screens of ``height`` rows: then the graph
    opens on the overview (and only when grouping finds groups worth having)."""
    return len(topology.topics) * ROWS_PER_TOPIC > SCREENS * height and bool(grouping(topology))


def neighbourhood(topology: Topology, node: NodeId, hops: int) -> Topology:
    """The boxes up to ``hops`` steps up and down the flow from ``node``, and the edges that lead there:
    what feeds it and what it feeds, not everything else its neighbours touch."""
    forward: dict[NodeId, list[NodeId]] = defaultdict(list)
    backward: dict[NodeId, list[NodeId]] = defaultdict(list)
    for source, target in topology.edges:
        forward[source].append(target)
        backward[target].append(source)
    edges: set[EdgeId] = set()
    for links, outward in ((forward, True), (backward, False)):
        frontier, seen = [node], {node}
        for _ in range(hops):
            following = []
            for current in frontier:
                for other in links.get(current, ()):
                    edges.add((current, other) if outward else (other, current))
                    if other not in seen:
                        seen.add(other)
                        following.append(other)
            frontier = following
    nodes = {n for edge in edges for n in edge} | {node}
    return Topology.build(
        (name for kind, name in nodes if kind == "service"), (name for kind, name in nodes if kind == "topic"), edges
    )


def grouping(topology: Topology) -> dict[NodeId, NodeId]:
    """Each box that belongs in a group, and its group's box: topics and services by the first part of
    their names, internal topics together. A part that only one box has makes no group, and a kind is
    not grouped at all when its boxes would all land in one group."""
    groups: dict[NodeId, NodeId] = {}
    kinds: tuple[tuple[NodeKind, tuple[str, ...]], ...] = (("topic", topology.topics), ("service", topology.services))
    for kind, names in kinds:
        by_prefix: dict[str, list[str]] = defaultdict(list)
        counted = 0
        for name in names:
            if kind == "service" and unknown_writer_of((kind, name)) is not None:
                continue  # an unknown writer goes where its topic goes: see grouped()
            by_prefix[_prefix(kind, name)].append(name)
            counted += 1
        sizeable = {prefix: members for prefix, members in by_prefix.items() if len(members) > 1}
        if len(sizeable) < 2 and sum(len(members) for members in sizeable.values()) == counted:
            continue
        for prefix, members in sizeable.items():
            for name in members:
                groups[kind, name] = (kind, prefix + GROUP_SUFFIX[kind])
    return groups


def _prefix(kind: NodeKind, name: str) -> str:
    if kind == "topic" and internal_reason(name) is not None:
        return INTERNAL_GROUP
    return _FIRST_SEGMENT.split(name, maxsplit=1)[0] or name


def grouped(topology: Topology, expanded: Iterable[NodeId]) -> tuple[Topology, dict[NodeId, NodeId]]:
    """The topology with every group not in ``expanded`` drawn as one box, and which group each member
    went into. An edge between two groups stands for every edge between their members."""
    opened = set(expanded)
    group_of = {node: group for node, group in grouping(topology).items() if group not in opened}
    for name in topology.services:  # an unknown writer of grouped topics: one for the whole group
        topic = unknown_writer_of(("service", name))
        if topic is not None and ("topic", topic) in group_of:
            group_of["service", name] = unknown_writer(group_of["topic", topic][1])

    def box(node: NodeId) -> NodeId:
        return group_of.get(node, node)

    edges = {(box(source), box(target)) for source, target in topology.edges}
    nodes = {box(("service", name)) for name in topology.services} | {box(("topic", name)) for name in topology.topics}
    services = (name for kind, name in nodes if kind == "service")
    topics = (name for kind, name in nodes if kind == "topic")
    return Topology.build(services, topics, edges), group_of


def too_many_lines(topology: Topology) -> bool:
    """Whether the overview's lines are too many to read: then it draws its boxes alone, and says so."""
    return len(topology.edges) > LINES_PER_BOX * len(topology.nodes)


def group_looks(snapshot: FlowSnapshot, group_of: Mapping[NodeId, NodeId]) -> dict[NodeId, NodeLook]:
    """What a group box says: how many it holds, how many command topics, their rate, the worst lag."""
    members: dict[NodeId, list[str]] = defaultdict(list)
    for (_, name), group in group_of.items():
        members[group].append(name)
    topics = {topic.name: topic for topic in snapshot.topics}
    groups_of_service: dict[str, list[str]] = defaultdict(list)
    for consumer_group in snapshot.groups:
        groups_of_service[consumer_group.service].append(consumer_group.id)
    looks: dict[NodeId, NodeLook] = {}
    for group, names in members.items():
        label = clean(group[1], 120)
        if unknown_writer_of(group) is not None:
            detail = f"writes {_count(len(names), 'topic')}"
            looks[group] = unknown_writer_look(detail, detail)
        elif group[0] == "topic":
            shown = [topics[name] for name in names if name in topics]
            commands = sum(1 for topic in shown if topic.kind == "command")
            rate = sum(topic.rate or 0.0 for topic in shown)
            mark = KIND_MARKS["command"]
            looks[group] = NodeLook(
                label,
                f"{commands} CMD" if commands else "",
                f"flow-graph--badge-{mark.css}" if commands else "flow-graph--badge",
                f"{_count(len(names), 'topic')} · {rate_text(rate)}",
                "flow-graph--dim",
                f"flow-graph--{mark.css}" if commands else "flow-graph--event",
                f"{len(names)}·{commands}C" if commands else f"{len(names)} top.",
                mark.glyph if commands else "",
            )
        else:
            statuses = [
                group_view.status
                for name in names
                for group_id in groups_of_service.get(name, ())
                if (group_view := snapshot.group(group_id)) is not None
            ]
            worst = max(statuses, key=lambda status: status.severity) if statuses else None
            looks[group] = NodeLook(
                label,
                "",
                "flow-graph--badge",
                _count(len(names), "service") + (f" · {worst.value}" if worst is not None else ""),
                f"flow-graph--status-{STATUS_MARKS[worst].css}" if worst is not None else "flow-graph--dim",
                "flow-graph--service",
                worst.value if worst is not None else f"{len(names)} svc",
            )
    return looks


def crumbs(scope: Scope, groups: int, hidden: int = 0) -> str | None:
    """The line above the graph that says where the user is, or None for the whole flow."""
    if scope.focus is not None:
        kind, name = scope.focus
        shown = group_name(scope.focus) + " (group)" if is_group(scope.focus) else f"{name} ({kind})"
        hops = "step" if scope.hops == 1 else "steps"
        return f"focus: {clean(shown, 80)}, {scope.hops} {hops} up and down the flow  ·  < > steps  ·  esc back"
    if scope.grouped:
        expanded = f", {len(scope.expanded)} open" if scope.expanded else ""
        lines = f"  ·  {hidden:,} flows, too many to draw (f shows a box's)" if hidden else ""
        return f"overview: {_count(groups, 'group')}{expanded}{lines}  ·  enter opens a group  ·  o leaves"
    return None


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}" if number == 1 else f"{number:,} {noun}s"
