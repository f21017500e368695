"""Table views of topics, consumer groups and services: Line API tables that only format visible rows.

A cluster can have thousands of topics whose rates change every refresh. Rather than keep a cell
object per value and patch them (which costs time and, worse, garbage-collector work per frame),
a table keeps the snapshot's rows and formats just the rows on screen; sorting only orders keys.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from functools import lru_cache
from typing import ClassVar, Generic

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui.view.tables import CellText, Row, TableSpec

MAX_FLEX = 48
MEASURED_LIMIT = 100_000


class FlowTable(ScrollView, Generic[Row], can_focus=True):
    """A sortable table of the view's topics, groups or services, as its spec describes them."""

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

    def __init__(self, spec: TableSpec[Row], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.spec = spec
        self.kind = spec.kind
        self.columns = spec.columns
        self._rows: list[tuple[str, Row]] = []
        self._index: dict[str, int] = {}
        self._widths: list[int] = []
        self._measured: list[dict[Hashable, int]] = [{} for _ in spec.columns]
        self.cursor = 0
        self.sort_column = 0
        self.sort_reverse = False

    # -- data -----------------------------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self._rows)

    def row_texts(self, index: int) -> list[str]:
        """The cells of a row as shown (for tests and for copying)."""
        row = self._rows[index][1]
        return [column.cell(row)[0] for column in self.columns]

    @property
    def cursor_key(self) -> str | None:
        return self._rows[self.cursor][0] if self._rows else None

    def show(self, rows: Iterable[Row]) -> None:
        """Take the view's rows, keep the cursor on the same key, and redraw what is visible."""
        previous = self.cursor_key
        key = self.spec.key
        self._rows = [(key(row), row) for row in rows]
        self._sort()
        self._widths = self._column_widths()
        self.virtual_size = Size(sum(self._widths) + len(self._widths), len(self._rows) + 1)
        if previous is not None and previous in self._index:
            self.cursor = self._index[previous]
        self.cursor = min(self.cursor, max(len(self._rows) - 1, 0))
        if self.cursor_key != previous:
            self.post_message(self.Selected(self.kind, self.cursor_key))
        self.refresh()

    def _sort(self) -> None:
        column = self.columns[self.sort_column]
        reverse = column.descending != self.sort_reverse
        self._rows.sort(key=lambda item: (column.sort(item[1]), item[0]), reverse=reverse)
        self._index = {key: index for index, (key, _) in enumerate(self._rows)}

    def _column_widths(self) -> list[int]:
        widths = []
        for column, measured in zip(self.columns, self._measured, strict=True):
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
            self.post_message(self.Selected(self.kind, self.cursor_key))
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
            self.post_message(self.Activated(self.kind, self.cursor_key))

    def action_next_sort(self) -> None:
        self.sort_by((self.sort_column + 1) % len(self.columns))
        self.notify(f"Sorted by {self.columns[self.sort_column].label}.", timeout=1.5)

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
            cells = [(column.label, "") for column in self.columns]
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
            strip = self._strip([column.cell(row) for column in self.columns], style)
        return strip.crop_extend(scroll_x, scroll_x + width, base)

    def _strip(self, cells: list[CellText], style: Style, header: bool = False) -> Strip:
        segments: list[Segment] = []
        for index, ((text, cell_style), column) in enumerate(zip(cells, self.columns, strict=True)):
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
        return self.columns[self.sort_column].descending != self.sort_reverse


@lru_cache(maxsize=64)
def _parsed(style: str) -> Style:
    return Style.parse(style)
