"""The flow graph: a Line API widget that draws a GraphLayout with the numbers of the latest snapshot.

Only visible rows are rendered, each once per snapshot (cached); the layout itself is computed off the
UI loop and only when the topology changes, so boxes never move while numbers change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from flow.sanitize import clean
from flow.snapshot import FlowSnapshot, LagStatus
from tui.format import compact_number, rate_text
from tui.layout import DOWN, LEFT, MAX_BOX_WIDTH, RIGHT, UP, Box, EdgeId, GraphLayout, NodeId

_THIN = {
    LEFT | RIGHT: "─", UP | DOWN: "│", RIGHT | DOWN: "┌", LEFT | DOWN: "┐", RIGHT | UP: "└", LEFT | UP: "┘",
    LEFT: "─", RIGHT: "─", UP: "│", DOWN: "│", LEFT | RIGHT | DOWN: "┬", LEFT | RIGHT | UP: "┴",
    UP | DOWN | RIGHT: "├", UP | DOWN | LEFT: "┤", LEFT | RIGHT | UP | DOWN: "┼",
}  # fmt: skip
_HEAVY = {
    LEFT | RIGHT: "━", UP | DOWN: "┃", RIGHT | DOWN: "┏", LEFT | DOWN: "┓", RIGHT | UP: "┗", LEFT | UP: "┛",
    LEFT: "━", RIGHT: "━", UP: "┃", DOWN: "┃", LEFT | RIGHT | DOWN: "┳", LEFT | RIGHT | UP: "┻",
    UP | DOWN | RIGHT: "┣", UP | DOWN | LEFT: "┫", LEFT | RIGHT | UP | DOWN: "╋",
}  # fmt: skip
_IDLE = {**_THIN, LEFT | RIGHT: "╌", UP | DOWN: "╎", LEFT: "╌", RIGHT: "╌", UP: "╎", DOWN: "╎"}

_STATUS_CLASS = {
    LagStatus.OK: "flow-graph--ok",
    LagStatus.WARN: "flow-graph--warn",
    LagStatus.STALL: "flow-graph--error",
    LagStatus.STOP: "flow-graph--error",
    LagStatus.REWIND: "flow-graph--warn",
    LagStatus.UNKNOWN: "flow-graph--dim",
}


@dataclass(frozen=True, slots=True)
class NodeLook:
    """What a box shows: its name, a badge, a second line of numbers, and the component classes."""

    name: str
    badge: str
    badge_class: str
    detail: str
    detail_class: str
    border_class: str


@dataclass(frozen=True, slots=True)
class EdgeLook:
    weight: str  # "idle" | "thin" | "heavy"
    component: str


class FlowGraph(ScrollView, can_focus=True):
    """Producers, topics and consumers, left to right; command topics stand out."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "flow-graph--service",
        "flow-graph--topic",
        "flow-graph--command",
        "flow-graph--badge-command",
        "flow-graph--badge",
        "flow-graph--unread",
        "flow-graph--internal",
        "flow-graph--selected",
        "flow-graph--edge",
        "flow-graph--edge-command",
        "flow-graph--edge-selected",
        "flow-graph--ok",
        "flow-graph--warn",
        "flow-graph--error",
        "flow-graph--dim",
        "flow-graph--chain",
    }

    DEFAULT_CSS = """
    FlowGraph {
        background: $surface;
        scrollbar-size: 1 1;
    }
    FlowGraph > .flow-graph--service { color: $text; }
    FlowGraph > .flow-graph--topic { color: $primary-lighten-2; }
    FlowGraph > .flow-graph--command { color: $warning; text-style: bold; }
    FlowGraph > .flow-graph--badge-command { color: $background; background: $warning; text-style: bold; }
    FlowGraph > .flow-graph--badge { color: $text-muted; }
    FlowGraph > .flow-graph--unread { color: $text-disabled; }
    FlowGraph > .flow-graph--internal { color: $text-disabled; }
    FlowGraph > .flow-graph--selected { color: $accent; text-style: bold; }
    FlowGraph > .flow-graph--edge { color: $text-muted; }
    FlowGraph > .flow-graph--edge-command { color: $warning; }
    FlowGraph > .flow-graph--edge-selected { color: $accent; text-style: bold; }
    FlowGraph > .flow-graph--ok { color: $success; }
    FlowGraph > .flow-graph--warn { color: $warning; }
    FlowGraph > .flow-graph--error { color: $error; text-style: bold; }
    FlowGraph > .flow-graph--dim { color: $text-disabled; }
    FlowGraph > .flow-graph--chain { color: $background; background: $error; text-style: bold; }
    """

    BINDINGS: ClassVar = [
        Binding("left", "move(-1, 0)", "Left", show=False, id="graph.left"),
        Binding("right", "move(1, 0)", "Right", show=False, id="graph.right"),
        Binding("up", "move(0, -1)", "Up", show=False, id="graph.up"),
        Binding("down", "move(0, 1)", "Down", show=False, id="graph.down"),
    ]

    class Selected(Message):
        """The selected node changed (None: nothing selected)."""

        def __init__(self, node: NodeId | None) -> None:
            super().__init__()
            self.node = node

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._layout: GraphLayout | None = None
        self._looks: dict[NodeId, NodeLook] = {}
        self._edges: dict[EdgeId, EdgeLook] = {}
        self._selected: NodeId | None = None
        self._version = 0
        self._lines: LRUCache[tuple[int, int, int, int], Strip] = LRUCache(512)
        self.empty_message = "no topics to show"

    # -- data in ------------------------------------------------------------------------------------

    @property
    def layout_shown(self) -> GraphLayout | None:
        return self._layout

    @property
    def selected(self) -> NodeId | None:
        return self._selected

    def set_layout(self, layout: GraphLayout) -> None:
        self._layout = layout
        self.virtual_size = Size(layout.width, layout.height)
        if self._selected is not None and self._selected not in layout.boxes:
            self._select(None)
        self._invalidate()

    def set_looks(self, looks: Looks) -> None:
        """The boxes' and edges' looks for the latest snapshot (see :func:`describe`)."""
        self._looks, self._edges = looks
        self._invalidate()

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
        key = (row, scroll_x, width, self._version)
        strip = self._lines.get(key)
        if strip is None:
            strip = self._render_row(row, scroll_x, width)
            self._lines[key] = strip
        return strip

    def _render_row(self, row: int, left: int, width: int) -> Strip:
        """One screen row: the part of layout row ``row`` from column ``left``, ``width`` cells wide."""
        layout = self._layout
        base = self.rich_style
        if layout is None or not layout.boxes:
            if row == 1:
                text = f"  {self.empty_message}"
                return Strip([Segment(text, base + self._style("flow-graph--dim"))]).extend_cell_length(width, base)
            return Strip.blank(width, base)
        # Draw into a buffer one box wider on each side than the screen, so boxes cut by the edge fit.
        margin = MAX_BOX_WIDTH
        origin = left - margin
        span = width + 2 * margin
        chars = [" "] * span
        styles: list[Style] = [base] * span
        selected_edges = self._selected_edges()
        for x, (bits, edges) in layout.cells(row).items():
            if origin <= x < origin + span:
                look = self._edge_look(edges, selected_edges)
                table = _HEAVY if look.weight == "heavy" else _IDLE if look.weight == "idle" else _THIN
                chars[x - origin] = table.get(bits, "┼")
                styles[x - origin] = base + self._style(look.component)
        for x, _, edge, glyph in layout.arrows_in_row(row):
            if origin <= x < origin + span:
                chars[x - origin] = glyph
                styles[x - origin] = base + self._style(self._edge_look([edge], selected_edges).component)
        segments: list[Segment] = []
        for box in layout.boxes_in_rows(row, row):
            if box.x + box.width > origin and box.x < origin + span:
                self._draw_box(box._replace(x=box.x - origin), row - box.y, chars, styles)
        chars, styles = chars[margin : margin + width], styles[margin : margin + width]
        width = len(chars)
        # Merge runs of equal style into segments.
        start = 0
        for x in range(1, width + 1):
            if x == width or styles[x] is not styles[start]:
                segments.append(Segment("".join(chars[start:x]), styles[start]))
                start = x
        return Strip(segments, width).extend_cell_length(self.size.width, base)

    def _style(self, component: str) -> Style:
        return self.get_component_rich_style(component, partial=True)

    def _selected_edges(self) -> set[EdgeId]:
        layout, node = self._layout, self._selected
        if layout is None or node is None:
            return set()
        return {edge for edge in layout.topology.edges if node in edge}

    def _edge_look(self, edges: list[EdgeId], selected: set[EdgeId]) -> EdgeLook:
        if selected and any(edge in selected for edge in edges):
            weight = max((self._edges.get(e, _NO_EDGE).weight for e in edges), key=_WEIGHTS.index)
            return EdgeLook(weight, "flow-graph--edge-selected")
        looks = [self._edges.get(edge, _NO_EDGE) for edge in edges]
        weight = max((look.weight for look in looks), key=_WEIGHTS.index)
        command = any(look.component == "flow-graph--edge-command" for look in looks)
        return EdgeLook(weight, "flow-graph--edge-command" if command else "flow-graph--edge")

    def _draw_box(self, box: Box, line: int, chars: list[str], styles: list[Style]) -> None:
        look = self._looks.get(box.node) or _fallback_look(box.node)
        base = self.rich_style
        selected = box.node == self._selected
        border = base + self._style(look.border_class)
        if selected:
            border = border + self._style("flow-graph--selected")
        w = box.width
        # Topics have round corners, services square ones; the selection gets a heavy frame.
        corners = "┏┓┗┛" if selected else "╭╮╰╯" if box.node[0] == "topic" else "┌┐└┘"
        horizontal, vertical = ("━", "┃") if selected else ("─", "│")
        if line in (0, 3):
            left, right = (corners[0], corners[1]) if line == 0 else (corners[2], corners[3])
            self._put(chars, styles, box.x, left + horizontal * (w - 2) + right, border)
            if line == 0 and look.badge:  # the badge sits in the top border, like a title
                badge = _fit(f" {look.badge} ", w - 4)
                self._put(chars, styles, box.x + 2, badge, base + self._style(look.badge_class))
            return
        self._put(chars, styles, box.x, vertical, border)
        self._put(chars, styles, box.x + w - 1, vertical, border)
        inner = w - 4
        if line == 1:
            self._put(chars, styles, box.x + 2, _fit(look.name, inner), border)
        else:
            self._put(chars, styles, box.x + 2, _fit(look.detail, inner), base + self._style(look.detail_class))

    @staticmethod
    def _put(chars: list[str], styles: list[Style], x: int, text: str, style: Style) -> None:
        # One list slot per terminal cell: a wide character takes its cell and blanks the next.
        for char in text:
            if x >= len(chars):
                return
            chars[x] = char
            styles[x] = style
            if cell_len(char) == 2 and x + 1 < len(chars):
                x += 1
                chars[x] = ""
                styles[x] = style
            x += 1


_WEIGHTS = ("idle", "thin", "heavy")
_NO_EDGE = EdgeLook("idle", "flow-graph--edge")


def _fit(text: str, width: int) -> str:
    if width <= 0:
        return ""
    if cell_len(text) <= width:
        return text
    return set_cell_size(text, width - 1) + "…"


def _fallback_look(node: NodeId) -> NodeLook:
    return NodeLook(clean(node[1], 80), "", "flow-graph--badge", "", "flow-graph--dim", "flow-graph--dim")


Looks = tuple[dict[NodeId, NodeLook], dict[EdgeId, EdgeLook]]


def describe(snapshot: FlowSnapshot) -> Looks:
    """Box and edge looks for a snapshot: pure data, so it can be tested and computed off the UI loop."""
    looks: dict[NodeId, NodeLook] = {}
    chained = {service for f in snapshot.findings if f.kind == "command_chain" for service in f.services}
    for topic in snapshot.topics:
        kind = topic.kind
        if kind == "command":
            badge, badge_class, border = "CMD·1", "flow-graph--badge-command", "flow-graph--command"
        elif kind == "event":
            badge, badge_class, border = f"×{len(topic.groups)}", "flow-graph--badge", "flow-graph--topic"
        elif kind == "unread":
            badge, badge_class, border = "unread", "flow-graph--unread", "flow-graph--unread"
        else:
            badge, badge_class, border = "internal", "flow-graph--internal", "flow-graph--internal"
        detail = f"{rate_text(topic.rate)} · {topic.partitions}p"
        looks[("topic", topic.name)] = NodeLook(
            clean(topic.name, 120), badge, badge_class, detail, "flow-graph--dim", border
        )
    groups = {group.id: group for group in snapshot.groups}
    written: dict[str, float] = {}
    for edge in snapshot.edges:
        if edge.kind == "produce" and edge.rate is not None:
            written[edge.source] = written.get(edge.source, 0.0) + edge.rate
    for service in snapshot.services:
        mine = [groups[g] for g in service.groups if g in groups]
        if mine:
            lag = sum(g.lag for g in mine)
            status = max((g.status for g in mine), key=lambda s: s.severity)
            detail = f"lag {compact_number(lag)} {status.value}"
            detail_class = _STATUS_CLASS[status]
        else:
            detail = f"writes {rate_text(written.get(service.name))}"
            detail_class = "flow-graph--dim"
        badge, badge_class = ("CHAIN", "flow-graph--chain") if service.name in chained else ("", "flow-graph--badge")
        border = "flow-graph--dim" if service.unknown else "flow-graph--service"
        looks[("service", service.name)] = NodeLook(
            clean(service.name, 120), badge, badge_class, detail, detail_class, border
        )

    kinds = {topic.name: topic.kind for topic in snapshot.topics}
    service_of = {group.id: group.service for group in snapshot.groups}
    rates: dict[EdgeId, float] = {}
    for edge in snapshot.edges:
        if edge.kind == "produce":
            key: EdgeId = (("service", edge.source), ("topic", edge.target))
        else:
            key = (("topic", edge.source), ("service", service_of.get(edge.target, edge.target)))
        rates[key] = rates.get(key, 0.0) + (edge.rate or 0.0)
    busiest = max(rates.values(), default=0.0)
    edges: dict[EdgeId, EdgeLook] = {}
    for key, rate in rates.items():
        weight = "idle" if rate < 0.01 else "heavy" if busiest and rate >= busiest / 2 else "thin"
        touches_command = any(node[0] == "topic" and kinds.get(node[1]) == "command" for node in key)
        edges[key] = EdgeLook(weight, "flow-graph--edge-command" if touches_command else "flow-graph--edge")
    return looks, edges
