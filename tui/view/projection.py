"""What the views show of a snapshot under a filter: the graph's topology and looks, and each table's rows.

:func:`build_view` runs once per frame on the session's thread (and again on the UI thread only when
the filter changes; a zoom only rescopes the last view); the widgets draw the :class:`View` it returns and
decide nothing themselves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from flow.vocabulary import UNKNOWN_WRITER
from tui.view.layout import EdgeId, Topology
from tui.view.looks import Looks, describe, unknown_writer
from tui.view.scope import OVERVIEW_SCREENS, SCREENS, Scope, crumbs, group_looks, grouped, neighbourhood, too_many_lines
from tui.view.tables import ServiceRow

WHOLE = Scope()

if TYPE_CHECKING:
    from flow.snapshot import FlowSnapshot, GroupView, TopicView


@dataclass(frozen=True, slots=True)
class ViewFilter:
    """What the views show: a regex on names (``!`` inverts it), command topics only, internal topics."""

    text: str = ""
    commands_only: bool = False
    show_internal: bool = False

    @property
    def pattern(self) -> re.Pattern[str] | None:
        body = self.text[1:] if self.text.startswith("!") else self.text
        if not body:
            return None
        try:
            return re.compile(body, re.IGNORECASE)
        except re.error:
            return re.compile(re.escape(body), re.IGNORECASE)

    def matches(self, *names: str) -> bool:
        pattern = self.pattern
        if pattern is None:
            return True
        found = any(pattern.search(name) for name in names)
        return not found if self.text.startswith("!") else found


@dataclass(frozen=True, slots=True)
class View:
    """Everything the widgets draw for one snapshot under one filter."""

    snapshot: FlowSnapshot
    filter: ViewFilter
    scope: Scope
    topology: Topology
    """The graph's boxes and edges under the scope: what its layout depends on, and nothing else."""
    looks: Looks
    """How each box and edge of the graph looks now."""
    topics: tuple[TopicView, ...]
    groups: tuple[GroupView, ...]
    services: tuple[ServiceRow, ...]
    """The rows of the three tables, in the snapshot's order (each table sorts its own): all the filter
    lets through, whatever the graph's scope."""
    whole: Topology
    """The graph's topology without the scope: what a focus or the overview is taken from."""
    crumbs: str | None
    """Where in the flow the graph is (a focus, the overview), for the line above it."""
    screens: int
    """How many screens' height the graph may take before its boxes go one line each."""

    def rows(self, table: str) -> tuple[TopicView, ...] | tuple[GroupView, ...] | tuple[ServiceRow, ...]:
        """The rows of the table named ``table`` (topics, groups or services)."""
        if table == "topics":
            return self.topics
        return self.groups if table == "groups" else self.services

    def restricted(self) -> FlowSnapshot:
        """The snapshot cut to what this view shows (what an export of the view writes)."""
        return self.snapshot.restricted(
            {topic.name for topic in self.topics},
            {group.id for group in self.groups},
            {row.service.name for row in self.services},
        )


def build_view(snapshot: FlowSnapshot, view_filter: ViewFilter, scope: Scope = WHOLE) -> View:
    """Apply a filter to a snapshot (topics first, then the services and groups around them), and the
    scope to what the graph shows."""
    service_of = {group.id: group.service for group in snapshot.groups}
    neighbours: dict[str, set[str]] = {topic.name: set() for topic in snapshot.topics}
    written: dict[str, float] = {}
    for edge in snapshot.edges:
        if edge.kind == "produce":
            neighbours.setdefault(edge.target, set()).add(edge.source)
            if edge.rate is not None:
                written[edge.source] = written.get(edge.source, 0.0) + edge.rate
        else:
            neighbours.setdefault(edge.source, set()).add(service_of.get(edge.target, edge.target))
    topics = tuple(
        topic
        for topic in snapshot.topics
        if (view_filter.show_internal or topic.kind != "internal")
        and (not view_filter.commands_only or topic.kind == "command")
        and view_filter.matches(topic.name, *neighbours.get(topic.name, ()))
    )
    shown = {topic.name for topic in topics}
    edges: set[EdgeId] = set()
    services: set[str] = set()
    for edge in snapshot.edges:
        if edge.kind == "produce" and edge.target in shown:
            edges.add((("service", edge.source), ("topic", edge.target)))
            services.add(edge.source)
        elif edge.kind == "consume" and edge.source in shown:
            service = service_of.get(edge.target, edge.target)
            edges.add((("topic", edge.source), ("service", service)))
            services.add(service)
    # A topic only an unknown writer writes still shows a writer: a box of its own, marked as such.
    for topic in topics:
        if any(producer.name == UNKNOWN_WRITER for producer in topic.producers):
            writer = unknown_writer(topic.name)
            edges.add((writer, ("topic", topic.name)))
            services.add(writer[1])
    if view_filter.pattern is not None and not view_filter.commands_only:
        services |= {s.name for s in snapshot.services if view_filter.matches(s.name)}
    groups = tuple(
        group
        for group in snapshot.groups
        if (group.service in services or view_filter.matches(group.id))
        and (not view_filter.commands_only or any(t in shown for t in group.topics))
    )
    whole = Topology.build(services, shown, edges)
    view = View(
        snapshot=snapshot,
        filter=view_filter,
        scope=WHOLE,
        topology=whole,
        looks=describe(snapshot, written),
        topics=topics,
        groups=groups,
        # A table says "-" for a service that wrote nothing; its box says "writes 0.0/s".
        services=tuple(ServiceRow(s, written.get(s.name) or None) for s in snapshot.services if s.name in services),
        whole=whole,
        crumbs=None,
        screens=SCREENS,
    )
    return view if scope == WHOLE else rescoped(view, scope)


def rescoped(view: View, scope: Scope) -> View:
    """The same view with the graph under another scope: a zoom works out only what the scope changes."""
    node_looks, edge_looks = view.looks
    topology, groups_shown, hidden = view.whole, 0, 0
    if scope.grouped:
        topology, group_of = grouped(view.whole, scope.expanded)
        # Group boxes have names no topic or service can have (``billing.*``), so their looks only add.
        node_looks = {**node_looks, **group_looks(view.snapshot, group_of)}
        groups_shown = len(set(group_of.values()))
    if scope.focus is not None:
        base = topology if scope.focus in topology.nodes else view.whole
        topology = neighbourhood(base, scope.focus, scope.hops)
    elif scope.grouped and too_many_lines(topology):
        hidden = len(topology.edges)
        topology = Topology.build(topology.services, topology.topics, ())
    return replace(
        view,
        scope=scope,
        topology=topology,
        looks=(node_looks, edge_looks),
        crumbs=crumbs(scope, groups_shown, hidden),
        screens=OVERVIEW_SCREENS if scope.grouped and scope.focus is None else SCREENS,
    )
