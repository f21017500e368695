"""The flow graph: a Line API widget that draws a GraphLayout with the numbers of the latest snapshot.

Only visible rows are rendered, each once per snapshot (cached); the layout itself is computed in a
worker thread and only when the topology changes, so boxes never move while numbers change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, NamedTuple

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual import events, on, work
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui.view.canvas import Number, box_numbers, draw_frame, put_numbers
from tui.view.layout import MAX_BOX_WIDTH, Density, EdgeId, GraphLayout, NodeId, Topology, layout_for
from tui.view.looks import NO_EDGE, EdgeLook, Looks, NodeLook, fallback_look
from tui.view.scope import Scope, is_group

ROWS_CACHED = 4096


class LayoutRequest(NamedTuple):
    """What a layout is made from: the topology, the cells it is shown on, and the density asked for."""

    topology: Topology
    width: int
    height: int
    density: Density | None
    screens: int


RowKey = tuple[int, int, int, tuple[object, ...]]
"""What a row's frame is drawn from: scroll x, width, version, and what its boxes show but numbers."""


@dataclass(frozen=True, slots=True)
class DrawnFrame:
    """A row without its numbers (see FlowGraph.render_line), with the edge looks it was drawn with."""

    chars: list[str]
    styles: list[Style]
    edges: tuple[tuple[EdgeId, EdgeLook], ...]


@dataclass(slots=True)
class DrawnRow:
    """A layout row as last drawn: what its frame was drawn from, the frame, and the finished strip."""

    key: RowKey
    frame: DrawnFrame
    numbers: tuple[Number, ...] = ()
    strip: Strip | None = None


class FlowGraph(ScrollView, can_focus=True):
    """Producers, topics and consumers, left to right; command topics stand out."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "flow-graph--service",
        "flow-graph--badge",
        "flow-graph--selected",
        "flow-graph--edge",
        "flow-graph--edge-command",
        "flow-graph--edge-selected",
        "flow-graph--dim",
        "flow-graph--chain",
        # One border and one badge class per topic kind, one class per lag status (tui/view/marks.py).
        *(f"flow-graph--{kind}" for kind in ("command", "event", "unread", "internal")),
        *(f"flow-graph--badge-{kind}" for kind in ("command", "event", "unread", "internal")),
        *(f"flow-graph--status-{status}" for status in ("ok", "warn", "rewind", "stall", "stop", "unknown")),
    }

    DEFAULT_CSS = """
    FlowGraph {
        background: $surface;
        scrollbar-size: 1 1;
    }
    FlowGraph > .flow-graph--service { color: $text; }
    FlowGraph > .flow-graph--command { color: $warning; text-style: bold; }
    FlowGraph > .flow-graph--event { color: $primary-lighten-2; }
    FlowGraph > .flow-graph--unread { color: $text-disabled; }
    FlowGraph > .flow-graph--internal { color: $text-disabled; }
    FlowGraph > .flow-graph--badge { color: $text-muted; }
    FlowGraph > .flow-graph--badge-command { color: $background; background: $warning; text-style: bold; }
    FlowGraph > .flow-graph--badge-event { color: $text-muted; }
    FlowGraph > .flow-graph--badge-unread { color: $text-disabled; }
    FlowGraph > .flow-graph--badge-internal { color: $text-disabled; }
    FlowGraph > .flow-graph--selected { color: $accent; text-style: bold; }
    FlowGraph > .flow-graph--edge { color: $text-muted; }
    FlowGraph > .flow-graph--edge-command { color: $warning; }
    FlowGraph > .flow-graph--edge-selected { color: $accent; text-style: bold; }
    FlowGraph > .flow-graph--status-ok { color: $success; }
    FlowGraph > .flow-graph--status-warn { color: $warning; }
    FlowGraph > .flow-graph--status-rewind { color: $warning; }
    FlowGraph > .flow-graph--status-stall { color: $error; text-style: bold; }
    FlowGraph > .flow-graph--status-stop { color: $error; text-style: bold; }
    FlowGraph > .flow-graph--status-unknown { color: $text-disabled; }
    FlowGraph > .flow-graph--dim { color: $text-disabled; }
    FlowGraph > .flow-graph--chain { color: $background; background: $error; text-style: bold; }
    """

    BINDINGS: ClassVar = [
        Binding("left", "move(-1, 0)", "Left", show=False, id="graph.left"),
        Binding("right", "move(1, 0)", "Right", show=False, id="graph.right"),
        Binding("up", "move(0, -1)", "Up", show=False, id="graph.up"),
        Binding("down", "move(0, 1)", "Down", show=False, id="graph.down"),
        Binding("enter", "activate", "Focus", id="graph.activate"),
        Binding("f", "focus_selected", "Focus", show=False, id="graph.focus"),
        Binding("o", "overview", "Overview", id="graph.overview"),
        Binding("less_than_sign", "hops(-1)", "Fewer steps", key_display="<", show=False, id="graph.fewer"),
        Binding("greater_than_sign", "hops(1)", "More steps", key_display=">", show=False, id="graph.more"),
        Binding("z", "toggle_compact", "One-line boxes", show=False, id="graph.compact"),
    ]

    class Selected(Message):
        """The selected node changed (None: nothing selected)."""

        def __init__(self, node: NodeId | None) -> None:
            super().__init__()
            self.node = node

    class Zoomed(Message):
        """What the graph shows changed: a focus, the overview, a group opened or closed."""

        def __init__(self, scope: Scope) -> None:
            super().__init__()
            self.scope = scope

    class Activated(Message):
        """Enter on a box: focus on it, and show its details."""

        def __init__(self, node: NodeId) -> None:
            super().__init__()
            self.node = node

    class Measured(Message):
        """The graph's size, or the size of the layout it shows, changed: the room it leaves may have too."""

    class LaidOut(Message):
        """A layout finished in the worker thread."""

        def __init__(self, request: LayoutRequest, layout: GraphLayout) -> None:
            super().__init__()
            self.request = request
            self.layout = layout

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._layout: GraphLayout | None = None
        self._wanted: LayoutRequest | None = None
        """The newest topology shown, at this size: the layout on screen may be for an older one."""
        self._laid_out_for: LayoutRequest | None = None
        self._laying_out = False
        self._density: Density | None = None
        self._screens = 3
        self._scope = Scope()
        self._history: list[Scope] = []
        """Where the graph was before each focus, opened group or overview: what esc goes back to."""
        self._looks: dict[NodeId, NodeLook] = {}
        self._edges: dict[EdgeId, EdgeLook] = {}
        self._selected: NodeId | None = None
        self._version = 0
        self._base_style: Style | None = None
        self._styles: dict[str, Style] = {}
        """Style of each cell class on the widget's style (see _style); emptied when styles change."""
        self._rows: dict[int, DrawnRow] = {}
        self.empty_message = "no topics to show"

    # -- data in ------------------------------------------------------------------------------------

    @property
    def layout_shown(self) -> GraphLayout | None:
        return self._layout

    @property
    def selected(self) -> NodeId | None:
        return self._selected

    @property
    def settled(self) -> bool:
        """Whether the layout on screen is the one for the latest topology shown, at this size."""
        return self._layout is not None and self._laid_out_for == self._wanted

    @property
    def density(self) -> Density | None:
        """The density asked for with the z key; None lets the graph choose what fits (layout_for)."""
        return self._density

    def show(self, topology: Topology, looks: Looks, screens: int = 3) -> None:
        """Draw a view: its looks at once, its topology once laid out (off the UI loop, see _lay_out);
        ``screens`` is how tall it may get before its boxes go one line each."""
        self.set_looks(looks)
        self._screens = screens
        self._request(topology)

    def _request(self, topology: Topology | None) -> None:
        if topology is None:
            return
        width, height = self.size
        app_width, app_height = self.app.size
        wanted = LayoutRequest(topology, width or app_width, height or app_height, self._density, self._screens)
        if wanted != self._wanted:
            self._wanted = wanted
            if not self._laying_out:
                self._laying_out = True
                self._lay_out(wanted)

    def on_resize(self) -> None:
        self.post_message(self.Measured())
        self._request(self._wanted.topology if self._wanted else None)
        # The details panel opening beside the graph narrows it: keep the chosen box in sight.
        self.call_after_refresh(self.scroll_to_node, self._selected)

    def action_toggle_compact(self) -> None:
        self._density = None if self._density == "compact" else "compact"
        self.notify("One-line boxes." if self._density else "Boxes that fit the screen.", timeout=2)
        self._request(self._wanted.topology if self._wanted else None)

    # One layout at a time. While producers are being named the topology changes almost every frame;
    # a thread per change would leave several layouts competing for the GIL with the UI loop, each
    # finished only to be thrown away. A change that arrives meanwhile is laid out next, newest only.
    @work(thread=True, group="layout")
    def _lay_out(self, request: LayoutRequest) -> None:
        self.post_message(self.LaidOut(request, layout_for(*request)))

    @on(LaidOut)
    def _laid_out(self, message: LaidOut) -> None:
        message.stop()
        if message.request != self._wanted:
            assert self._wanted is not None
            self._lay_out(self._wanted)  # the topology or the size changed while this one was laid out
            if self._layout is not None:
                return
            # Nothing on screen yet: a layout a frame old beats an empty graph (new nodes are drawn
            # when the next one lands).
        else:
            self._laying_out = False
        self._laid_out_for = message.request
        self.set_layout(message.layout)

    def set_layout(self, layout: GraphLayout) -> None:
        """Draw this layout; a selection it did not have before, or has elsewhere now, is scrolled into view."""
        before = self._layout
        self._layout = layout
        self.virtual_size = Size(layout.width, layout.height)
        if before is None or (before.width, before.height) != (layout.width, layout.height):
            self.post_message(self.Measured())
        selected = self._selected
        if selected in layout.boxes and (before is None or before.boxes.get(selected) != layout.boxes[selected]):
            self.scroll_to_node(selected)
        self._invalidate()

    def set_looks(self, looks: Looks) -> None:
        """The boxes' and edges' looks for the latest snapshot (see tui/view/looks.py)."""
        self._looks, self._edges = looks
        self._refresh_changed_rows()

    def _refresh_changed_rows(self) -> None:
        """Repaint the rows on screen whose content changed, and only those: Textual then processes
        only their lines, which on a big graph is most of the cost of a new snapshot."""
        scroll_x, top = self.scroll_offset
        width, height = self.size
        start: int | None = None
        for row in range(top, top + height + 1):
            stale = row < top + height and not self._is_current(row, scroll_x, width)
            if stale and start is None:
                start = row
            elif not stale and start is not None:
                self.refresh_lines(start, row - start)
                start = None

    def select(self, node: NodeId | None, *, scroll: bool = True) -> None:
        self._select(node)
        if scroll:
            self.scroll_to_node(node)

    def _select(self, node: NodeId | None) -> None:
        if node != self._selected:
            self._selected = node
            self._invalidate()
            self.post_message(self.Selected(node))

    def scroll_to_node(self, node: NodeId | None) -> None:
        layout = self._layout
        if node is None or layout is None or node not in layout.boxes:
            return
        box = layout.boxes[node]
        self.scroll_to_region(Region(box.x, box.y, box.width, box.height), animate=False, force=True)

    def _invalidate(self) -> None:
        self._version += 1
        self.refresh()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._base_style = None
        self._styles.clear()
        self._version += 1  # a new theme or focus: every row changes colour

    @property
    def _base(self) -> Style:
        """The widget's own style, computed once per style change (Textual builds it on every call)."""
        if self._base_style is None:
            self._base_style = self.rich_style
        return self._base_style

    # -- zoom: a focus, the overview, groups opened in place (tui/view/scope.py) -----------------------

    @property
    def scope(self) -> Scope:
        return self._scope

    def zoom(self, scope: Scope, *, remember: bool = True) -> None:
        if scope == self._scope:
            return
        if remember:
            self._history.append(self._scope)
        self._scope = scope
        self.post_message(self.Zoomed(scope))

    def back(self) -> bool:
        """Go back to where the graph was before the last zoom; False when there is nowhere to go."""
        if not self._history:
            return False
        self._scope = self._history.pop()
        self.post_message(self.Zoomed(self._scope))
        return True

    def focus_on(self, node: NodeId) -> None:
        """Show ``node``'s neighbourhood, with it selected."""
        self.zoom(self._scope.focused(node))
        self.select(node)

    def action_activate(self) -> None:
        """Enter: open the selected group in place, or focus on the selected box and show its details."""
        node = self._selected
        if node is None:
            self.action_move(0, 0)
        elif is_group(node) and self._scope.focus is None:
            self.zoom(self._scope.opened(node))
        else:
            self.focus_on(node)
            self.post_message(self.Activated(node))

    def action_focus_selected(self) -> None:
        if self._selected is not None:
            self.focus_on(self._selected)

    def action_overview(self) -> None:
        self.zoom(Scope(grouped=not self._scope.grouped))

    def action_hops(self, step: int) -> None:
        if self._scope.focus is not None:
            self.zoom(self._scope.with_hops(self._scope.hops + step), remember=False)

    # -- keys and mouse ------------------------------------------------------------------------------

    def action_move(self, dx: int, dy: int) -> None:
        layout = self._layout
        if layout is None or not layout.layers:
            return
        if self._selected is None or self._selected not in layout.boxes:
            self.select(layout.layers[0][0])
            return
        box = layout.boxes[self._selected]
        index = next(i for i, layer in enumerate(layout.layers) if self._selected in layer)
        if dy:
            layer = layout.layers[index]
            position = min(max(layer.index(self._selected) + dy, 0), len(layer) - 1)
            self.select(layer[position])
        elif 0 <= index + dx < len(layout.layers):
            layer = layout.layers[index + dx]
            self.select(min(layer, key=lambda node: abs(layout.boxes[node].y - box.y)))

    def on_click(self, event: events.Click) -> None:
        layout = self._layout
        if layout is None:
            return
        x, y = event.x + int(self.scroll_x), event.y + int(self.scroll_y)
        box = layout.box_at(x, y)
        self.select(box.node if box else None, scroll=False)

    # -- drawing ----------------------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        row = y + scroll_y
        width = self.size.width
        # From one snapshot to the next a big graph keeps its borders, names and edges; only the numbers
        # in the boxes move. So a row is drawn in two parts: what stays (cached while it stays) and the
        # numbers on top; and the finished row is cached for as long as its numbers stay too.
        key, numbers = self._row_content(row, scroll_x, width)
        cached = self._rows.get(row)
        if cached is None or not self._frame_current(cached, key):
            if len(self._rows) >= ROWS_CACHED:
                self._rows.clear()
            cached = self._rows[row] = DrawnRow(key, self._draw_frame(row, scroll_x, width))
        if cached.strip is None or cached.numbers != numbers:
            cached.numbers = numbers
            cached.strip = self._finish_row(cached.frame, numbers, scroll_x - MAX_BOX_WIDTH, width)
        return cached.strip

    def _is_current(self, row: int, scroll_x: int, width: int) -> bool:
        """Whether the row as last drawn still shows what it should."""
        cached = self._rows.get(row)
        if cached is None or cached.strip is None:
            return False
        key, numbers = self._row_content(row, scroll_x, width)
        return cached.numbers == numbers and self._frame_current(cached, key)

    def _frame_current(self, cached: DrawnRow, key: RowKey) -> bool:
        """Whether the row's frame was drawn from this content and with the edge looks of now."""
        if cached.key != key:
            return False
        edges = self._edges
        return all(edges.get(edge, NO_EDGE) is look for edge, look in cached.frame.edges)

    def _row_content(self, row: int, left: int, width: int) -> tuple[RowKey, tuple[Number, ...]]:
        """What the drawn part of ``row`` shows: the key of its frame (scroll, width, version and the
        boxes' borders, badges and names) and its numbers (each box's detail line)."""
        layout = self._layout
        if layout is None:
            return (left, width, self._version, ()), ()
        origin, end = left - MAX_BOX_WIDTH, left + width + MAX_BOX_WIDTH
        looks = self._looks
        frame: list[object] = []
        numbers: list[Number] = []
        for box in layout.boxes_in_rows(row, row):
            if box.x + box.width > origin and box.x < end:
                look = looks.get(box.node) or fallback_look(box.node)
                line = row - box.y
                if line <= 1:  # a border with a badge, a name, or a one-line box's mark and name
                    frame.append((box.node, look.border_class, look.badge, look.badge_class, look.name, look.glyph))
                else:
                    frame.append((box.node, look.border_class))
                number = box_numbers(box, look, line, layout.density)
                if number is not None:
                    numbers.append(number)
        return (left, width, self._version, tuple(frame)), tuple(numbers)

    def _draw_frame(self, row: int, left: int, width: int) -> DrawnFrame:
        """Layout row ``row`` without the boxes' numbers, from column ``left`` less a margin, into a buffer
        one box wider on each side than the screen, so boxes cut by the edge fit."""
        chars, classes, used = draw_frame(
            self._layout,
            self._looks,
            self._edges,
            self._selected,
            row,
            left - MAX_BOX_WIDTH,
            width + 2 * MAX_BOX_WIDTH,
            self.empty_message,
        )
        looks = self._edges
        styles = [self._style(style_class) for style_class in classes]
        return DrawnFrame(chars, styles, tuple((e, looks.get(e, NO_EDGE)) for e in used))

    def _finish_row(self, drawn: DrawnFrame, numbers: tuple[Number, ...], origin: int, width: int) -> Strip:
        """The frame with the numbers on top, cut to the screen and merged into segments."""
        if width <= 0:
            return Strip([], 0)
        chars, styles = drawn.chars, drawn.styles
        if numbers:
            classes = [""] * len(chars)
            chars = chars.copy()
            put_numbers(chars, classes, numbers, origin)
            styles = [self._style(c) if c else style for c, style in zip(classes, styles, strict=True)]
        margin = MAX_BOX_WIDTH
        chars, styles = chars[margin : margin + width], styles[margin : margin + width]
        if chars[0] == "":  # the right half of a wide character cut by the left edge
            chars[0] = " "
        if cell_len(chars[-1]) == 2:  # a wide character cut by the right edge
            chars[-1] = " "
        segments: list[Segment] = []
        start = 0
        for x in range(1, width + 1):  # runs of one style make one segment
            if x == width or styles[x] is not styles[start]:
                segments.append(Segment("".join(chars[start:x]), styles[start]))
                start = x
        return Strip(segments, width)

    def _style(self, style_class: str) -> Style:
        """The style of a cell's class(es) on the widget's own style, computed once per style change."""
        style = self._styles.get(style_class)
        if style is None:
            style = self._base
            for component in style_class.split():
                style = style + self.get_component_rich_style(component, partial=True)
            self._styles[style_class] = style
        return style
