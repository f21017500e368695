"""Table views of topics, consumer groups and services; updated by difference, sorted on change only."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.console import JustifyMethod
from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from flow.snapshot import FlowSnapshot, GroupView, LagStatus, ServiceView, TopicView
from tui.format import compact_number, rate_text, seconds_text
from flow.sanitize import clean

STATUS_STYLE = {
    LagStatus.OK: "green",
    LagStatus.WARN: "bold yellow",
    LagStatus.REWIND: "magenta",
    LagStatus.STALL: "bold red",
    LagStatus.STOP: "bold red",
    LagStatus.UNKNOWN: "dim",
}
KIND_STYLE = {"command": "bold black on yellow", "event": "cyan", "unread": "dim", "internal": "dim italic"}


class Cell(Text):
    """Sanitised cell text that sorts by a value of its own (numbers sort as numbers)."""

    def __init__(self, text: str, style: str = "", sort: Any = None, *, justify: JustifyMethod | None = None) -> None:
        super().__init__(text, style=style, no_wrap=True, overflow="ellipsis", justify=justify)
        self.sort_value = text.lower() if sort is None else sort

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Cell) and self.plain == other.plain and self.style == other.style

    __hash__ = Text.__hash__


def _number(value: float | None, text: str) -> Cell:
    return Cell(text, sort=-1.0 if value is None else float(value), justify="right")


def _names(names: Iterable[str], limit: int = 60) -> Cell:
    joined = ", ".join(clean(name, 60) for name in names)
    return Cell(clean(joined, limit) if joined else "-", "" if joined else "dim")


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    label: str
    width: int | None = None


class FlowTable(DataTable[Text]):
    """A DataTable whose rows come from a snapshot and change cell by cell."""

    COLUMNS: ClassVar[tuple[Column, ...]] = ()
    KIND: ClassVar[str] = ""

    BINDINGS: ClassVar = [
        Binding("s", "next_sort", "Sort", id="table.sort"),
        Binding("S", "reverse_sort", "Reverse", show=False, id="table.reverse"),
    ]

    class Selected(Message):
        def __init__(self, kind: str, name: str | None) -> None:
            super().__init__()
            self.kind = kind
            self.name = name

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self._cells: dict[str, tuple[Cell, ...]] = {}
        self.sort_column = 0
        self.sort_reverse = self.default_reverse(0)

    def on_mount(self) -> None:
        for column in self.COLUMNS:
            self.add_column(Text(column.label, no_wrap=True), key=column.key, width=column.width)

    def default_reverse(self, column: int) -> bool:
        return False

    def rows_for(self, snapshot: FlowSnapshot, keep: Callable[[str], bool]) -> dict[str, tuple[Cell, ...]]:
        raise NotImplementedError

    def show(self, snapshot: FlowSnapshot, keep: Callable[[str], bool]) -> None:
        """Bring the table in line with the snapshot, touching only what changed."""
        rows = self.rows_for(snapshot, keep)
        sort_needed = False
        column_keys = [column.key for column in self.COLUMNS]
        with self.app.batch_update():
            for key in [key for key in self._cells if key not in rows]:
                self.remove_row(key)
                del self._cells[key]
            for key, cells in rows.items():
                old = self._cells.get(key)
                if old is None:
                    self.add_row(*cells, key=key)
                    sort_needed = True
                else:
                    for index, (before, after) in enumerate(zip(old, cells, strict=True)):
                        if before != after:
                            self.update_cell(key, column_keys[index], after)
                            if index == self.sort_column:
                                sort_needed = True
                self._cells[key] = cells
            if sort_needed:
                self._sort()

    def _sort(self) -> None:
        column = self.COLUMNS[self.sort_column].key
        self.sort(column, key=lambda value: value.sort_value, reverse=self.sort_reverse)

    def action_next_sort(self) -> None:
        self.sort_column = (self.sort_column + 1) % len(self.COLUMNS)
        self.sort_reverse = self.default_reverse(self.sort_column)
        self._sort()
        self.notify(f"sorted by {self.COLUMNS[self.sort_column].label}", timeout=1.5)

    def action_reverse_sort(self) -> None:
        self.sort_reverse = not self.sort_reverse
        self._sort()

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        if event.column_index == self.sort_column:
            self.sort_reverse = not self.sort_reverse
        else:
            self.sort_column = event.column_index
            self.sort_reverse = self.default_reverse(event.column_index)
        self._sort()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self.post_message(self.Selected(self.KIND, event.row_key.value))

    def select_key(self, key: str | None) -> None:
        """Move the cursor to a row (when the selection was made in another view)."""
        if key is None or key not in self._cells:
            return
        index = self.get_row_index(key)
        if index != self.cursor_row:
            self.move_cursor(row=index, animate=False)


class TopicsTable(FlowTable):
    KIND = "topic"
    COLUMNS = (
        Column("name", "Topic"),
        Column("kind", "Kind", 10),
        Column("partitions", "Part.", 5),
        Column("rate", "msg/s", 8),
        Column("messages", "Messages", 9),
        Column("producers", "Producers"),
        Column("groups", "Consumer groups"),
    )

    def rows_for(self, snapshot: FlowSnapshot, keep: Callable[[str], bool]) -> dict[str, tuple[Cell, ...]]:
        return {topic.name: topic_row(topic) for topic in snapshot.topics if keep(topic.name)}


def topic_row(topic: TopicView) -> tuple[Cell, ...]:
    kind = topic.kind
    label = {"command": " CMD·1 ", "event": f"event ×{len(topic.groups)}"}.get(kind, kind)
    return (
        Cell(clean(topic.name, 120), "bold yellow" if kind == "command" else ""),
        Cell(label, KIND_STYLE[kind], sort=(("command", "event", "unread", "internal").index(kind), label)),
        _number(topic.partitions, str(topic.partitions)),
        _number(topic.rate, rate_text(topic.rate).removesuffix("/s")),
        _number(topic.messages, compact_number(topic.messages)),
        _names(topic.producer_names),
        _names(topic.groups),
    )


class GroupsTable(FlowTable):
    KIND = "group"
    COLUMNS = (
        Column("id", "Consumer group"),
        Column("state", "State", 12),
        Column("protocol", "Protocol", 9),
        Column("members", "Memb.", 5),
        Column("lag", "Lag", 8),
        Column("lag_seconds", "Lag age", 8),
        Column("status", "Status", 7),
        Column("rate", "msg/s", 8),
        Column("topics", "Topics"),
    )

    def rows_for(self, snapshot: FlowSnapshot, keep: Callable[[str], bool]) -> dict[str, tuple[Cell, ...]]:
        return {group.id: group_row(group) for group in snapshot.groups if keep(group.id)}


def group_row(group: GroupView) -> tuple[Cell, ...]:
    return (
        Cell(clean(group.id, 120)),
        Cell(clean(group.state, 20), "dim" if group.state in ("Empty", "Dead") else ""),
        Cell(clean(group.protocol, 12)),
        _number(len(group.members), str(len(group.members))),
        _number(group.lag, compact_number(group.lag)),
        _number(group.lag_seconds, seconds_text(group.lag_seconds)),
        Cell(group.status.value, STATUS_STYLE[group.status], sort=group.status.severity),
        _number(group.rate, rate_text(group.rate).removesuffix("/s")),
        _names(group.topics),
    )


class ServicesTable(FlowTable):
    KIND = "service"
    COLUMNS = (
        Column("name", "Service"),
        Column("role", "Role", 9),
        Column("writes", "Writes"),
        Column("rate", "msg/s out", 9),
        Column("reads", "Reads"),
        Column("groups", "Groups"),
    )

    def rows_for(self, snapshot: FlowSnapshot, keep: Callable[[str], bool]) -> dict[str, tuple[Cell, ...]]:
        out: dict[str, float] = {}
        for edge in snapshot.edges:
            if edge.kind == "produce" and edge.rate:
                out[edge.source] = out.get(edge.source, 0.0) + edge.rate
        return {
            service.name: service_row(service, out.get(service.name))
            for service in snapshot.services
            if keep(service.name)
        }


def service_row(service: ServiceView, rate: float | None) -> tuple[Cell, ...]:
    return (
        Cell(clean(service.name, 120), "dim" if service.unknown else ""),
        Cell(service.role),
        _names(service.produces),
        _number(rate, rate_text(rate).removesuffix("/s") if rate is not None else "-"),
        _names(service.consumes),
        _names(service.groups),
    )
