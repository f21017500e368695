"""Table views of topics, consumer groups and services: Line API tables that only format visible rows.

A cluster can have thousands of topics whose rates change every refresh. Rather than keep a cell
object per value and patch them (which costs time and, worse, garbage-collector work per frame),
a table keeps the snapshot's rows and formats just the rows on screen; sorting only orders keys.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from flow.sanitize import clean
from flow.vocabulary import LagStatus
from tui.format import compact_number, rate_text, seconds_text

STATUS_STYLE = {
    LagStatus.OK: "green",
    LagStatus.WARN: "bold yellow",
    LagStatus.REWIND: "magenta",
    LagStatus.STALL: "bold red",
    LagStatus.STOP: "bold red",
    LagStatus.UNKNOWN: "dim",
}
KIND_STYLE = {"command": "bold black on yellow", "event": "cyan", "unread": "dim", "internal": "dim italic"}
KIND_ORDER = {"command": 0, "event": 1, "unread": 2, "internal": 3}

Row = TypeVar("Row")
CellText = tuple[str, str]
"""A formatted cell: sanitised text and a Rich style name."""

if TYPE_CHECKING:
    from flow.snapshot import FlowSnapshot, GroupView, ServiceView, TopicView


@dataclass(frozen=True, slots=True)
class Column(Generic[Row]):
    label: str
    width: int | None
    """Fixed width; None: as wide as the widest value (up to MAX_FLEX) in the table."""
    cell: Callable[[Row], CellText]
    sort: Callable[[Row], Any]
    right: bool = False
    descending: bool = False
    """Whether this column sorts biggest first by default (rates, lag)."""
    content: Callable[[Row], Hashable] | None = None
    """For a column without a fixed width: what its text is made of (a name, a tuple of names). A value
    is measured once, so a big table keeps its widths without formatting every row of every snapshot."""


MAX_FLEX = 48
MEASURED_LIMIT = 100_000


def _names(names: Sequence[str]) -> CellText:
    joined = ", ".join(names)
    return (clean(joined, 120), "") if joined else ("-", "dim")


def _num(value: float | None) -> float:
    return -1.0 if value is None else value


class FlowTable(ScrollView, Generic[Row], can_focus=True):
    """A sortable table of the snapshot's topics, groups or services."""

    COLUMNS: ClassVar[tuple[Column[Any], ...]] = ()
    KIND: ClassVar[str] = ""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"flow-table--header", "flow-table--cursor", "flow-table--zebra"}
    DEFAULT_CSS = """
    FlowTable { background: $surface; scrollbar-size: 1 1; }
    FlowTable > .flow-table--header { color: $text; text-style: bold; background: $panel; }
    FlowTable > .flow-table--cursor { background: $accent 40%; text-style: bold; }
    FlowTable:focus > .flow-table--cursor { background: $accent 70%; }
    FlowTable > .flow-table--zebra { background: $boost; }
    """
    BINDINGS: ClassVar = [
        Binding("up", "cursor(-1)", "Up", show=False, id="table.up"),
        Binding("down", "cursor(1)", "Down", show=False, id="table.down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="table.pageup"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="table.pagedown"),
        Binding("home", "edge(0)", "First", show=False, id="table.home"),
        Binding("end", "edge(1)", "Last", show=False, id="table.end"),
        Binding("s", "next_sort", "Sort", id="table.sort"),
        Binding("S", "reverse_sort", "Reverse", show=False, id="table.reverse"),
    ]

    class Selected(Message):
        """The cursor moved to a row (None: the table is empty)."""

        def __init__(self, kind: str, name: str | None) -> None:
            super().__init__()
            self.kind = kind
            self.name = name

    class Activated(Message):
        """Enter (or a click on the cursor row): open the row's details."""

        def __init__(self, kind: str, name: str) -> None:
            super().__init__()
            self.kind = kind
            self.name = name

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._rows: list[tuple[str, Row]] = []
        self._index: dict[str, int] = {}
        self._widths: list[int] = []
        self._measured: list[dict[Hashable, int]] = [{} for _ in self.COLUMNS]
        self.cursor = 0
        self.sort_column = 0
        self.sort_reverse = False

    # -- data -----------------------------------------------------------------------------------------

    def rows_for(self, snapshot: FlowSnapshot, keep: Callable[[str], bool]) -> list[tuple[str, Row]]:
        raise NotImplementedError

    @property
    def row_count(self) -> int:
        return len(self._rows)

    def row_texts(self, index: int) -> list[str]:
        """The cells of a row as shown (for tests and for copying)."""
        row = self._rows[index][1]
        return [column.cell(row)[0] for column in self.COLUMNS]

    @property
    def cursor_key(self) -> str | None:
        return self._rows[self.cursor][0] if self._rows else None

    def show(self, snapshot: FlowSnapshot, keep: Callable[[str], bool]) -> None:
        """Take the snapshot's rows, keep the cursor on the same key, and redraw what is visible."""
        previous = self.cursor_key
        self._rows = self.rows_for(snapshot, keep)
        self._sort()
        self._widths = self._column_widths()
        self.virtual_size = Size(sum(self._widths) + len(self._widths), len(self._rows) + 1)
        if previous is not None and previous in self._index:
            self.cursor = self._index[previous]
        self.cursor = min(self.cursor, max(len(self._rows) - 1, 0))
        if self.cursor_key != previous:
            self.post_message(self.Selected(self.KIND, self.cursor_key))
        self.refresh()

    def _sort(self) -> None:
        column = self.COLUMNS[self.sort_column]
        reverse = column.descending != self.sort_reverse
        self._rows.sort(key=lambda item: (column.sort(item[1]), item[0]), reverse=reverse)
        self._index = {key: index for index, (key, _) in enumerate(self._rows)}

    def _column_widths(self) -> list[int]:
        widths = []
        for column, measured in zip(self.COLUMNS, self._measured, strict=True):
            if column.width is not None:
                widths.append(column.width)
                continue
            longest = cell_len(column.label)
            content = column.content
            if content is None:
                longest = max((cell_len(column.cell(row)[0]) for _, row in self._rows), default=longest)
            else:
                for _, row in self._rows:
                    value = content(row)
                    width = measured.get(value)
                    if width is None:
                        width = measured[value] = cell_len(column.cell(row)[0])
                    if width > longest:
                        longest = width
            widths.append(min(longest, MAX_FLEX))
            if len(measured) > MEASURED_LIMIT:  # mostly names long gone: measure again
                measured.clear()
        return widths

    # -- keys and mouse -------------------------------------------------------------------------------

    def move_to(self, index: int) -> None:
        if not self._rows:
            return
        index = min(max(index, 0), len(self._rows) - 1)
        if index != self.cursor:
            self.cursor = index
            self.refresh()
            self.post_message(self.Selected(self.KIND, self.cursor_key))
        self.scroll_to_region(Region(0, index + 1, 1, 1), animate=False, spacing=None, force=True)
        if index + 1 - self.scroll_offset.y < 1:  # keep the row below the fixed header
            self.scroll_to(y=index, animate=False, force=True)

    def select_key(self, key: str | None) -> None:
        """Move the cursor to a row (when the selection was made in another view)."""
        if key is not None and key in self._index:
            self.move_to(self._index[key])

    def action_cursor(self, delta: int) -> None:
        self.move_to(self.cursor + delta)

    def action_page(self, direction: int) -> None:
        self.move_to(self.cursor + direction * max(self.size.height - 2, 1))

    def action_edge(self, end: int) -> None:
        self.move_to(len(self._rows) - 1 if end else 0)

    def key_enter(self) -> None:
        if self.cursor_key is not None:
            self.post_message(self.Activated(self.KIND, self.cursor_key))

    def action_next_sort(self) -> None:
        self.sort_by((self.sort_column + 1) % len(self.COLUMNS))
        self.notify(f"Sorted by {self.COLUMNS[self.sort_column].label}.", timeout=1.5)

    def action_reverse_sort(self) -> None:
        self.sort_reverse = not self.sort_reverse
        self._resort()

    def sort_by(self, column: int) -> None:
        if column == self.sort_column:
            self.sort_reverse = not self.sort_reverse
        else:
            self.sort_column, self.sort_reverse = column, False
        self._resort()

    def _resort(self) -> None:
        key = self.cursor_key
        self._sort()
        if key is not None:
            self.cursor = self._index[key]
        self.refresh()

    def on_click(self, event: events.Click) -> None:
        if event.y == 0:
            x = event.x + int(self.scroll_x)
            for index, width in enumerate(self._widths):
                if x < width + 1:
                    self.sort_by(index)
                    return
                x -= width + 1
            return
        index = int(self.scroll_y) + event.y - 1
        if 0 <= index < len(self._rows):
            if index == self.cursor and event.chain >= 2:
                self.key_enter()
            self.move_to(index)

    # -- drawing --------------------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.size.width
        base = self.rich_style
        if y == 0:
            cells = [(column.label, "") for column in self.COLUMNS]
            strip = self._strip(cells, base + self.get_component_rich_style("flow-table--header"), header=True)
        else:
            index = scroll_y + y - 1
            if index >= len(self._rows):
                return Strip.blank(width, base)
            row = self._rows[index][1]
            style = base
            if index == self.cursor:
                style = base + self.get_component_rich_style("flow-table--cursor")
            elif index % 2:
                style = base + self.get_component_rich_style("flow-table--zebra")
            strip = self._strip([column.cell(row) for column in self.COLUMNS], style)
        return strip.crop_extend(scroll_x, scroll_x + width, base)

    def _strip(self, cells: list[CellText], style: Style, header: bool = False) -> Strip:
        segments: list[Segment] = []
        for index, ((text, cell_style), column) in enumerate(zip(cells, self.COLUMNS, strict=True)):
            width = self._widths[index] if index < len(self._widths) else cell_len(text)
            if cell_len(text) > width:
                text = set_cell_size(text, max(width - 1, 0)) + "…"
            text = set_cell_size(text, width) if not column.right else " " * (width - cell_len(text)) + text
            if header and index == self.sort_column:
                text = set_cell_size(text.rstrip() + (" ▼" if self._descending() else " ▲"), width)
            cell = style + _parsed(cell_style) if cell_style and not header else style
            segments.append(Segment(text, cell))
            segments.append(Segment(" ", style))
        return Strip(segments)

    def _descending(self) -> bool:
        return self.COLUMNS[self.sort_column].descending != self.sort_reverse


_TOPIC_NAME_STYLE = {"command": "bold yellow", "event": "", "unread": "dim", "internal": "dim"}


def _state_style(state: str) -> str:
    return "dim" if state in ("Empty", "Dead") else ""


def _severity(group: GroupView) -> int:
    return group.status.severity


def _service_name(row: ServiceRow) -> str:
    return row.service.name


def _name(topic: TopicView) -> str:
    return topic.name


def _dim(condition: bool) -> str:
    return "dim" if condition else ""


@lru_cache(maxsize=64)
def _parsed(style: str) -> Style:
    return Style.parse(style)


def _kind_label(topic: TopicView) -> CellText:
    kind = topic.kind
    label = {"command": " CMD·1 ", "event": f"event ×{len(topic.groups)}"}.get(kind, kind)
    return label, KIND_STYLE[kind]


class TopicsTable(FlowTable["TopicView"]):
    KIND = "topic"
    COLUMNS = (
        Column(
            "Topic",
            None,
            lambda t: (clean(t.name, 120), "bold yellow" if t.kind == "command" else ""),
            lambda t: t.name,
            content=_name,
        ),
        Column("Kind", 10, _kind_label, lambda t: (KIND_ORDER[t.kind], -len(t.groups))),
        Column("Part.", 5, lambda t: (str(t.partitions), ""), lambda t: t.partitions, right=True, descending=True),
        Column("msg/s", 8, lambda t: (rate_text(t.rate)[:-2], ""), lambda t: _num(t.rate), True, True),
        Column("Messages", 9, lambda t: (compact_number(t.messages), ""), lambda t: t.messages, True, True),
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
    )

    def rows_for(self, snapshot: FlowSnapshot, keep: Callable[[str], bool]) -> list[tuple[str, TopicView]]:
        return [(topic.name, topic) for topic in snapshot.topics if keep(topic.name)]


class GroupsTable(FlowTable["GroupView"]):
    KIND = "group"
    COLUMNS = (
        Column("Consumer group", None, lambda g: (clean(g.id, 120), ""), lambda g: g.id, content=lambda g: g.id),
        Column("State", 12, lambda g: (clean(g.state, 20), _state_style(g.state)), lambda g: g.state),
        Column("Protocol", 9, lambda g: (clean(g.protocol, 12), ""), lambda g: g.protocol),
        Column("Memb.", 5, lambda g: (str(len(g.members)), ""), lambda g: len(g.members), True, True),
        Column("Lag", 8, lambda g: (compact_number(g.lag), ""), lambda g: g.lag, True, True),
        Column("Lag age", 8, lambda g: (seconds_text(g.lag_seconds), ""), lambda g: _num(g.lag_seconds), True, True),
        Column("Status", 7, lambda g: (g.status.value, STATUS_STYLE[g.status]), _severity, descending=True),
        Column("msg/s", 8, lambda g: (rate_text(g.rate)[:-2], ""), lambda g: _num(g.rate), True, True),
        Column("Topics", None, lambda g: _names(g.topics), lambda g: g.topics, content=lambda g: g.topics),
    )  # fmt: skip

    def rows_for(self, snapshot: FlowSnapshot, keep: Callable[[str], bool]) -> list[tuple[str, GroupView]]:
        return [(group.id, group) for group in snapshot.groups if keep(group.id)]


@dataclass(frozen=True, slots=True)
class ServiceRow:
    service: ServiceView
    rate: float | None


class ServicesTable(FlowTable[ServiceRow]):
    KIND = "service"
    COLUMNS = (
        Column("Service", None, lambda r: (clean(r.service.name, 99), _dim(r.service.unknown)), _service_name,
               content=lambda r: r.service.name),
        Column("Role", 9, lambda r: (r.service.role, ""), lambda r: r.service.role),
        Column("Writes", None, lambda r: _names(r.service.produces), lambda r: r.service.produces,
               content=lambda r: r.service.produces),
        Column("msg/s out", 9, lambda r: (rate_text(r.rate)[:-2], ""), lambda r: _num(r.rate), True, True),
        Column("Reads", None, lambda r: _names(r.service.consumes), lambda r: r.service.consumes,
               content=lambda r: r.service.consumes),
        Column("Groups", None, lambda r: _names(r.service.groups), lambda r: r.service.groups,
               content=lambda r: r.service.groups),
    )  # fmt: skip

    def rows_for(self, snapshot: FlowSnapshot, keep: Callable[[str], bool]) -> list[tuple[str, ServiceRow]]:
        out: dict[str, float] = {}
        for edge in snapshot.edges:
            if edge.kind == "produce" and edge.rate:
                out[edge.source] = out.get(edge.source, 0.0) + edge.rate
        return [(s.name, ServiceRow(s, out.get(s.name))) for s in snapshot.services if keep(s.name)]
