"""What the topics, groups and services tables show: their columns, how each cell reads, how each sorts.

Pure functions of a row, so the table widget (tui/tables.py) formats only the rows on screen.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from flow.sanitize import clean
from tui.view.format import compact_number, rate_text, seconds_text
from tui.view.marks import KIND_MARKS, KIND_ORDER, STATUS_MARKS

if TYPE_CHECKING:
    from flow.snapshot import GroupView, ServiceView, TopicView

Row = TypeVar("Row")
CellText = tuple[str, str]
"""A formatted cell: sanitised text and a Rich style name."""


@dataclass(frozen=True, slots=True)
class Column(Generic[Row]):
    label: str
    width: int | None
    """Fixed width; None: as wide as the widest value (up to the table's limit)."""
    cell: Callable[[Row], CellText]
    sort: Callable[[Row], Any]
    right: bool = False
    descending: bool = False
    """Whether this column sorts biggest first by default (rates, lag)."""
    content: Callable[[Row], Hashable] | None = None
    """For a column without a fixed width: what its text is made of (a name, a tuple of names). A value
    is measured once, so a big table keeps its widths without formatting every row of every snapshot."""


@dataclass(frozen=True, slots=True)
class TableSpec(Generic[Row]):
    """One table: the kind of thing a row is (what a selection names), its key, and its columns."""

    kind: str
    key: Callable[[Row], str]
    columns: tuple[Column[Row], ...]


@dataclass(frozen=True, slots=True)
class ServiceRow:
    service: ServiceView
    rate: float | None
    """What the service writes, in messages per second over all its topics."""


def _names(names: Sequence[str]) -> CellText:
    joined = ", ".join(names)
    return (clean(joined, 120), "") if joined else ("-", "dim")


def _num(value: float | None) -> float:
    return -1.0 if value is None else value


def _rate(value: float | None) -> CellText:
    return rate_text(value)[:-2], ""


def _kind(topic: TopicView) -> CellText:
    mark = KIND_MARKS[topic.kind]
    return mark.label_for(len(topic.groups)), mark.style


def _state_style(state: str) -> str:
    return "dim" if state in ("Empty", "Dead") else ""


def _topic_name(topic: TopicView) -> str:
    return topic.name


def _service_name(row: ServiceRow) -> str:
    return row.service.name


def _replica_health(topic: TopicView) -> tuple[str, str]:
    """Partitions without a leader first (nothing can be read or written there), then under-replicated ones."""
    if topic.offline:
        return f"{len(topic.offline)} offline", "bold red"
    if topic.under_replicated:
        return f"{len(topic.under_replicated)} under", "yellow"
    return "", ""


TOPICS: TableSpec[TopicView] = TableSpec(
    "topic",
    _topic_name,
    (
        Column(
            "Topic",
            None,
            lambda t: (clean(t.name, 120), "bold yellow" if t.kind == "command" else ""),
            _topic_name,
            content=_topic_name,
        ),
        Column("Kind", 10, _kind, lambda t: (KIND_ORDER[t.kind], -len(t.groups))),
        Column("Part.", 5, lambda t: (str(t.partitions), ""), lambda t: t.partitions, right=True, descending=True),
        Column("msg/s", 8, lambda t: _rate(t.rate), lambda t: _num(t.rate), True, True),
        Column("Messages", 9, lambda t: (compact_number(t.messages), ""), lambda t: t.messages, True, True),
        Column(
            "Replicas",
            9,
            _replica_health,
            lambda t: (len(t.offline), len(t.under_replicated)),
            descending=True,
        ),
        Column(
            "Producers",
            None,
            lambda t: _names(t.producer_names),
            lambda t: t.producer_names,
            content=lambda t: t.producer_names,
        ),
        Column(
            "Consumer groups",
            None,
            lambda t: _names(t.groups),
            lambda t: (len(t.groups), t.groups),
            content=lambda t: t.groups,
        ),
    ),
)

GROUPS: TableSpec[GroupView] = TableSpec(
    "group",
    lambda g: g.id,
    (
        Column("Consumer group", None, lambda g: (clean(g.id, 120), ""), lambda g: g.id, content=lambda g: g.id),
        Column("State", 12, lambda g: (clean(g.state, 20), _state_style(g.state)), lambda g: g.state),
        Column("Protocol", 9, lambda g: (clean(g.protocol, 12), ""), lambda g: g.protocol),
        Column("Memb.", 5, lambda g: (str(len(g.members)), ""), lambda g: len(g.members), True, True),
        Column("Lag", 8, lambda g: (compact_number(g.lag), ""), lambda g: g.lag, True, True),
        Column("Lag age", 8, lambda g: (seconds_text(g.lag_seconds), ""), lambda g: _num(g.lag_seconds), True, True),
        Column("Status", 7, lambda g: (g.status.value, STATUS_MARKS[g.status].style), lambda g: g.status.severity,
               descending=True),
        Column("msg/s", 8, lambda g: _rate(g.rate), lambda g: _num(g.rate), True, True),
        Column("Topics", None, lambda g: _names(g.topics), lambda g: g.topics, content=lambda g: g.topics),
    ),
)  # fmt: skip

SERVICES: TableSpec[ServiceRow] = TableSpec(
    "service",
    _service_name,
    (
        Column("Service", None, lambda r: (clean(r.service.name, 99), "dim" if r.service.unknown else ""),
               _service_name, content=_service_name),
        Column("Role", 9, lambda r: (r.service.role, ""), lambda r: r.service.role),
        Column("Writes", None, lambda r: _names(r.service.produces), lambda r: r.service.produces,
               content=lambda r: r.service.produces),
        Column("msg/s out", 9, lambda r: _rate(r.rate), lambda r: _num(r.rate), True, True),
        Column("Reads", None, lambda r: _names(r.service.consumes), lambda r: r.service.consumes,
               content=lambda r: r.service.consumes),
        Column("Groups", None, lambda r: _names(r.service.groups), lambda r: r.service.groups,
               content=lambda r: r.service.groups),
    ),
)  # fmt: skip
