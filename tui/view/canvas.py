"""The flow graph as characters: rows of a GraphLayout drawn with the boxes' looks, cell by cell.

Each cell gets a character and a style class (``flow-graph--…``; a selected box's border has two, space
separated). The widget (tui/graph.py) turns classes into colours and caches what it drew; tests read the
characters back into edges. Pure, like the rest of the view model.
"""

from __future__ import annotations

from collections.abc import Mapping, Set

from rich.cells import cell_len, set_cell_size

from tui.view.layout import DOWN, LEFT, RIGHT, UP, Box, Density, EdgeId, GraphLayout, NodeId
from tui.view.looks import NO_EDGE, WEIGHTS, EdgeLook, NodeLook, edge_look, fallback_look

THIN = {
    LEFT | RIGHT: "─", UP | DOWN: "│", RIGHT | DOWN: "┌", LEFT | DOWN: "┐", RIGHT | UP: "└", LEFT | UP: "┘",
    LEFT: "─", RIGHT: "─", UP: "│", DOWN: "│", LEFT | RIGHT | DOWN: "┬", LEFT | RIGHT | UP: "┴",
    UP | DOWN | RIGHT: "├", UP | DOWN | LEFT: "┤", LEFT | RIGHT | UP | DOWN: "┼",
}  # fmt: skip
HEAVY = {
    LEFT | RIGHT: "━", UP | DOWN: "┃", RIGHT | DOWN: "┏", LEFT | DOWN: "┓", RIGHT | UP: "┗", LEFT | UP: "┛",
    LEFT: "━", RIGHT: "━", UP: "┃", DOWN: "┃", LEFT | RIGHT | DOWN: "┳", LEFT | RIGHT | UP: "┻",
    UP | DOWN | RIGHT: "┣", UP | DOWN | LEFT: "┫", LEFT | RIGHT | UP | DOWN: "╋",
}  # fmt: skip
IDLE = {**THIN, LEFT | RIGHT: "╌", UP | DOWN: "╎", LEFT: "╌", RIGHT: "╌", UP: "╎", DOWN: "╎"}
GLYPHS = {"thin": THIN, "heavy": HEAVY, "idle": IDLE}

Number = tuple[int, int, str, str]
"""A box's detail line: x, room, text, style class."""


def fit(text: str, width: int) -> str:
    """``text`` in at most ``width`` cells, an ellipsis where it was cut."""
    if width <= 0:
        return ""
    if cell_len(text) <= width:
        return text
    return set_cell_size(text, width - 1) + "…"


def put(chars: list[str], classes: list[str], x: int, text: str, style_class: str) -> None:
    """Write ``text`` from cell ``x``: one list slot per terminal cell, a wide character blanks the next."""
    for char in text:
        if x >= len(chars):
            return
        if x >= 0:
            chars[x] = char
            classes[x] = style_class
        if cell_len(char) == 2 and x + 1 < len(chars):
            x += 1
            if x >= 0:
                chars[x] = ""
                classes[x] = style_class
        x += 1


def selected_edges(layout: GraphLayout, node: NodeId | None) -> frozenset[EdgeId]:
    """The edges into and out of the selected box: they are drawn highlighted."""
    if node is None:
        return frozenset()
    return frozenset(edge for edge in layout.topology.edges if node in edge)


def edge_class(edges: list[EdgeId], looks: Mapping[EdgeId, EdgeLook], selected: Set[EdgeId]) -> EdgeLook:
    """How a line cell looks: the heaviest of the edges through it, highlighted if one is selected."""
    cell_looks = [looks.get(edge, NO_EDGE) for edge in edges]
    weight = max((look.weight for look in cell_looks), key=WEIGHTS.index)
    if selected and any(edge in selected for edge in edges):
        return edge_look(weight, "flow-graph--edge-selected")
    command = any(look.component == "flow-graph--edge-command" for look in cell_looks)
    return edge_look(weight, "flow-graph--edge-command" if command else "flow-graph--edge")


def draw_frame(
    layout: GraphLayout | None,
    node_looks: Mapping[NodeId, NodeLook],
    edge_looks: Mapping[EdgeId, EdgeLook],
    selected: NodeId | None,
    row: int,
    origin: int,
    span: int,
    empty_message: str = "",
) -> tuple[list[str], list[str], set[EdgeId]]:
    """Row ``row`` from column ``origin``, ``span`` cells wide, without the boxes' numbers (see
    :func:`put_numbers`): its characters, their style classes, and the edges drawn in it."""
    chars = [" "] * span
    classes = [""] * span
    used: set[EdgeId] = set()
    if layout is None or not layout.boxes:
        if row == 1 and empty_message:
            put(chars, classes, 2 - origin, empty_message, "flow-graph--dim")
        return chars, classes, used
    highlighted = selected_edges(layout, selected)
    for x, (bits, edges) in layout.cells(row, origin, origin + span).items():
        used.update(edges)
        look = edge_class(edges, edge_looks, highlighted)
        chars[x - origin] = GLYPHS[look.weight].get(bits, "┼")
        classes[x - origin] = look.component
    for x, _, edge, glyph in layout.arrows_in_row(row):
        if origin <= x < origin + span:
            used.add(edge)
            chars[x - origin] = glyph
            classes[x - origin] = edge_class([edge], edge_looks, highlighted).component
    for box in layout.boxes_in_rows(row, row):
        if box.x + box.width > origin and box.x < origin + span:
            node_look = node_looks.get(box.node) or fallback_look(box.node)
            draw = _draw_box if box.framed else _draw_line_box
            draw(box, node_look, box.node == selected, row - box.y, chars, classes, origin, layout.density)
    return chars, classes, used


def _draw_box(
    box: Box,
    look: NodeLook,
    selected: bool,
    line: int,
    chars: list[str],
    classes: list[str],
    origin: int,
    density: Density,
) -> None:
    border = f"{look.border_class} flow-graph--selected" if selected else look.border_class
    w, x = box.width, box.x - origin
    inner = w - 2 * _padding(density)
    # Topics have round corners, services square ones; the selection gets a heavy frame.
    corners = "┏┓┗┛" if selected else "╭╮╰╯" if box.node[0] == "topic" else "┌┐└┘"
    horizontal, vertical = ("━", "┃") if selected else ("─", "│")
    if line in (0, box.height - 1):
        left, right = (corners[0], corners[1]) if line == 0 else (corners[2], corners[3])
        put(chars, classes, x, left + horizontal * (w - 2) + right, border)
        if line == 0 and look.badge:  # the badge sits in the top border, like a title
            put(chars, classes, x + _padding(density), fit(f" {look.badge} ", inner), look.badge_class)
        return
    put(chars, classes, x, vertical, border)
    put(chars, classes, x + w - 1, vertical, border)
    if line == 1:
        put(chars, classes, x + _padding(density), fit(look.name, inner), border)
    # line 2, the numbers, goes on top of the frame: see put_numbers


def _draw_line_box(
    box: Box,
    look: NodeLook,
    selected: bool,
    line: int,
    chars: list[str],
    classes: list[str],
    origin: int,
    density: Density,
) -> None:
    """A one-line box: ``(¹name  3.2/s)`` for a topic, ``[name  lag 98]`` for a service; a box with more
    ports than one has as many lines, the others empty. The selection shows in colour only."""
    border = f"{look.border_class} flow-graph--selected" if selected else look.border_class
    opening, closing = "()" if box.node[0] == "topic" else "[]"
    w, x = box.width, box.x - origin
    put(chars, classes, x, opening + " " * (w - 2) + closing, border)
    if line == 0:
        if look.glyph:
            put(chars, classes, x + 1, look.glyph[:1], look.badge_class)
        put(chars, classes, x + 2, fit(look.name, w - BRIEF - 4), border)
    # the numbers go on top, right-aligned: see put_numbers


BRIEF = 8
"""Cells for a one-line box's numbers (NodeLook.brief)."""


def _padding(density: Density) -> int:
    """Cells between a framed box's side and its text."""
    return 1 if density == "tight" else 2


def box_numbers(box: Box, look: NodeLook, line: int, density: Density = "regular") -> Number | None:
    """Where a box's numbers go on line ``line`` of it and what they say, or None when that line has none."""
    if not box.framed:
        if line != 0:
            return None
        return (box.x + box.width - 1 - BRIEF, BRIEF, look.brief.rjust(BRIEF)[-BRIEF:], look.detail_class)
    if line != 2:
        return None
    pad = _padding(density)
    text = look.brief if density == "tight" else look.detail
    return (box.x + pad, box.width - 2 * pad, text, look.detail_class)


def put_numbers(chars: list[str], classes: list[str], numbers: tuple[Number, ...], origin: int) -> None:
    """The boxes' detail lines on top of a row drawn by :func:`draw_frame`."""
    for x, room, text, style_class in numbers:
        put(chars, classes, x - origin, fit(text, room), style_class)


def render_text(
    layout: GraphLayout,
    node_looks: Mapping[NodeId, NodeLook],
    edge_looks: Mapping[EdgeId, EdgeLook] | None = None,
    selected: NodeId | None = None,
) -> list[str]:
    """The whole graph as lines of text, numbers included: what a user would see, scrolled everywhere."""
    lines = []
    for row in range(layout.height):
        chars, classes, _ = draw_frame(layout, node_looks, edge_looks or {}, selected, row, 0, layout.width)
        numbers = tuple(
            number
            for box in layout.boxes_in_rows(row, row)
            if (
                number := box_numbers(
                    box, node_looks.get(box.node) or fallback_look(box.node), row - box.y, layout.density
                )
            )
        )
        put_numbers(chars, classes, numbers, 0)
        lines.append("".join(chars).rstrip())
    return lines
