"""Reading a drawn flow graph back into edges, as a person following its lines would.

Boxes are found by their frames (round corners: a topic, square ones: a service) and named by the text
on their first inner line. Every line cell joins the neighbours its arms point at; a line that meets a
box side touches that box, as the edge's target where an arrowhead points into it and as its source
otherwise. A vertical line that meets a horizontal one without a junction passes under it (a crossing).
Each connected set of lines says that every source it touches writes to every target it touches: that
is how a reader takes a line shared by several edges, and why routing may share a line only among edges
with one source or one target.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from flow.vocabulary import UNKNOWN_WRITER
from tui.view.layout import HIDDEN_SUFFIX
from tui.view.looks import unknown_writer

if TYPE_CHECKING:
    from flow.snapshot import FlowSnapshot

LEFT, RIGHT, UP, DOWN = 1, 2, 4, 8
OPPOSITE = {LEFT: RIGHT, RIGHT: LEFT, UP: DOWN, DOWN: UP}
STEP = {LEFT: (-1, 0), RIGHT: (1, 0), UP: (0, -1), DOWN: (0, 1)}

_L, _R, _U, _D = LEFT, RIGHT, UP, DOWN
ARMS: dict[str, int] = {
    "─": _L | _R, "━": _L | _R, "╌": _L | _R,
    "│": _U | _D, "┃": _U | _D, "╎": _U | _D,
    "┌": _R | _D, "┏": _R | _D, "┐": _L | _D, "┓": _L | _D,
    "└": _R | _U, "┗": _R | _U, "┘": _L | _U, "┛": _L | _U,
    "├": _U | _D | _R, "┣": _U | _D | _R, "┤": _U | _D | _L, "┫": _U | _D | _L,
    "┬": _L | _R | _D, "┳": _L | _R | _D, "┴": _L | _R | _U, "┻": _L | _R | _U,
    "┼": _L | _R | _U | _D, "╋": _L | _R | _U | _D,
    "▶": _L | _R, "◀": _L | _R,
}  # fmt: skip
ARROW_INTO = {"▶": RIGHT, "◀": LEFT}
"""An arrowhead and the side it points at: the box there is the edge's target."""

TOP_LEFT = {"╭": "topic", "┌": "service", "┏": None}
LINE_BOX = {"(": ("topic", ")"), "[": ("service", "]")}
"""One-line boxes: ``(topic  3.2/s)`` and ``[service  lag 98]``."""
MARK_GLYPHS = set("¹∅·»?")
SIDES = {"│", "┃"}
BOTTOM_LEFT = {"╰", "└", "┗"}
BOTTOM_RIGHT = {"╯", "┘", "┛"}
TOP_RIGHT = {"╮", "┐", "┓"}
BORDER = {"─", "━"}


@dataclass(frozen=True, slots=True)
class DrawnBox:
    kind: str | None
    """topic or service; None for the selected box, whose heavy frame does not tell."""
    name: str
    x: int
    y: int
    width: int
    height: int


@dataclass(slots=True)
class ReadBack:
    boxes: list[DrawnBox]
    edges: set[tuple[DrawnBox, DrawnBox]]
    problems: list[str] = field(default_factory=list)


def _grid(lines: Sequence[str]) -> list[str]:
    width = max((len(line) for line in lines), default=0)
    return [line.ljust(width) for line in lines]


def find_boxes(lines: Sequence[str]) -> list[DrawnBox]:
    grid = _grid(lines)
    return _framed_boxes(grid) + _line_boxes(grid)


def _line_boxes(grid: list[str]) -> list[DrawnBox]:
    """One-line boxes, and the empty lines under them where a box has more ports than one."""
    boxes = []
    continued: set[tuple[int, int]] = set()
    for y, row in enumerate(grid):
        x = 0
        while x < len(row):
            kind_closing = LINE_BOX.get(row[x])
            end = row.find(kind_closing[1], x + 1) if kind_closing else -1
            if kind_closing is None or end < 0 or (x, y) in continued:
                x += 1
                continue
            kind, closing = kind_closing
            content = row[x + 1 : end]
            name = content[1:].strip() if content[:1] in MARK_GLYPHS else content.strip()
            height = 1
            while y + height < len(grid) and grid[y + height][x : end + 1] == row[x] + " " * (end - x - 1) + closing:
                continued.add((x, y + height))
                height += 1
            if name:
                boxes.append(DrawnBox(kind, name, x, y, end - x + 1, height))
            x = end + 1
    return boxes


def _framed_boxes(grid: list[str]) -> list[DrawnBox]:
    height = len(grid)
    boxes = []
    for y, row in enumerate(grid):
        for x, char in enumerate(row):
            if char not in TOP_LEFT or y + 2 >= height or grid[y + 1][x] not in SIDES:
                continue
            bottom = y + 1
            while bottom < height and grid[bottom][x] in SIDES:
                bottom += 1
            if bottom >= height or grid[bottom][x] not in BOTTOM_LEFT:
                continue
            right = x + 1
            while right < len(grid[bottom]) and grid[bottom][right] in BORDER:
                right += 1
            if right >= len(grid[bottom]) or grid[bottom][right] not in BOTTOM_RIGHT or grid[y][right] not in TOP_RIGHT:
                continue
            if any(grid[row_][right] not in SIDES for row_ in range(y + 1, bottom)):
                continue
            name = grid[y + 1][x + 1 : right].strip()
            if name:
                boxes.append(DrawnBox(TOP_LEFT[char], name, x, y, right - x + 1, bottom - y + 1))
    return boxes


def read_back(lines: Sequence[str]) -> ReadBack:
    """The boxes of a drawn graph and the edges a reader would take its lines to mean."""
    grid = _grid(lines)
    boxes = find_boxes(grid)
    owner: dict[tuple[int, int], DrawnBox] = {}
    for box in boxes:
        for y in range(box.y, box.y + box.height):
            for x in range(box.x, box.x + box.width):
                owner[x, y] = box

    def arms(x: int, y: int) -> int:
        if (x, y) in owner or not (0 <= y < len(grid) and 0 <= x < len(grid[y])):
            return 0
        return ARMS.get(grid[y][x], 0)

    cells = [(x, y) for y, row in enumerate(grid) for x in range(len(row)) if arms(x, y)]
    parent = {cell: cell for cell in cells}

    def find(cell: tuple[int, int]) -> tuple[int, int]:
        while parent[cell] != cell:
            parent[cell] = parent[parent[cell]]
            cell = parent[cell]
        return cell

    touches: list[tuple[tuple[int, int], DrawnBox, bool]] = []
    problems: list[str] = []
    for x, y in cells:
        for direction in (LEFT, RIGHT, UP, DOWN):
            if not arms(x, y) & direction:
                continue
            dx, dy = STEP[direction]
            nx, ny = x + dx, y + dy
            box = owner.get((nx, ny))
            if box is not None:
                touches.append(((x, y), box, ARROW_INTO.get(grid[y][x]) == direction))
                continue
            if arms(nx, ny) & OPPOSITE[direction]:
                parent[find((x, y))] = find((nx, ny))
                continue
            if direction in (UP, DOWN):
                # A crossing: the vertical line passes under horizontal ones and goes on beyond them.
                while arms(nx, ny) and not arms(nx, ny) & (UP | DOWN):
                    nx, ny = nx + dx, ny + dy
                if arms(nx, ny) & OPPOSITE[direction]:
                    parent[find((x, y))] = find((nx, ny))
                    continue
            problems.append(f"a line ends in the open at column {x}, row {y} ({grid[y][x]!r})")
    sources: dict[tuple[int, int], set[DrawnBox]] = {}
    targets: dict[tuple[int, int], set[DrawnBox]] = {}
    for cell, box, into in touches:
        (targets if into else sources).setdefault(find(cell), set()).add(box)
    edges: set[tuple[DrawnBox, DrawnBox]] = set()
    for root in {find(cell) for cell in cells}:
        found_sources, found_targets = sources.get(root, set()), targets.get(root, set())
        if not found_sources or not found_targets:
            x, y = root
            problems.append(f"a line at column {x}, row {y} joins no {'source' if not found_sources else 'target'}")
        edges.update((source, target) for source in found_sources for target in found_targets)
    return ReadBack(boxes, edges, problems)


NodeId = tuple[str, str]


def name_boxes(
    boxes: Iterable[DrawnBox], nodes: Iterable[NodeId], where: Mapping[NodeId, tuple[int, int]] | None = None
) -> dict[DrawnBox, NodeId]:
    """Which node each drawn box is: the one of its kind whose name it shows (cut names end in …); among
    boxes that read the same (every unknown writer's), the one drawn at that place, as a reader points."""
    by_kind: dict[str, list[str]] = {}
    for kind, name in nodes:
        by_kind.setdefault(kind, []).append(name)
    named: dict[DrawnBox, NodeId] = {}
    for box in boxes:
        kinds = [box.kind] if box.kind else list(by_kind)
        shown = box.name.removesuffix("…")
        matches = [
            (kind, name)
            for kind in kinds
            for name in by_kind.get(kind, ())
            if (label := name.partition(HIDDEN_SUFFIX)[0]) == box.name
            or box.name.startswith(f"{label} ")  # a one-line box: its numbers follow the name
            or (box.name.endswith("…") and label.startswith(shown))
        ]
        if len(matches) > 1:  # "orders" and "orders-dlq" both start "orders-dlq  3.2/s": the longer one
            longest = max(len(name) for _, name in matches)
            matches = (
                [match for match in matches if len(match[1]) == longest] if not box.name.endswith("…") else matches
            )
        if len(matches) > 1 and where is not None:
            matches = [node for node in matches if where.get(node) == (box.x, box.y)]
        if len(matches) != 1:
            raise AssertionError(f"the box {box.name!r} at {box.x},{box.y} names {len(matches)} nodes: {matches}")
        named[box] = matches[0]
    return named


def drawn_edges(
    lines: Sequence[str], nodes: Iterable[NodeId], where: Mapping[NodeId, tuple[int, int]] | None = None
) -> tuple[set[tuple[NodeId, NodeId]], list[str]]:
    """The edges a reader takes the drawing to show, as node pairs, and what could not be read."""
    result = read_back(lines)
    named = name_boxes(result.boxes, nodes, where)
    return {(named[source], named[target]) for source, target in result.edges}, result.problems


def precision_recall(drawn: set[tuple[NodeId, NodeId]], expected: set[tuple[NodeId, NodeId]]) -> tuple[float, float]:
    right = len(drawn & expected)
    precision = right / len(drawn) if drawn else 1.0
    recall = right / len(expected) if expected else 1.0
    return precision, recall


def expected_edges(snapshot: FlowSnapshot, *, show_internal: bool = False) -> set[tuple[NodeId, NodeId]]:
    """The edges the graph must show for a snapshot, worked out from the snapshot alone: every writer of
    a shown topic (an unknown one as a box of the topic's own) and every service whose group reads one."""
    shown = {topic.name for topic in snapshot.topics if show_internal or topic.kind != "internal"}
    service_of = {group.id: group.service for group in snapshot.groups}
    edges: set[tuple[NodeId, NodeId]] = set()
    for edge in snapshot.edges:
        if edge.kind == "produce" and edge.target in shown:
            edges.add((("service", edge.source), ("topic", edge.target)))
        elif edge.kind == "consume" and edge.source in shown:
            edges.add((("topic", edge.source), ("service", service_of.get(edge.target, edge.target))))
    for topic in snapshot.topics:
        if topic.name in shown and UNKNOWN_WRITER in topic.producer_names:
            edges.add((unknown_writer(topic.name), ("topic", topic.name)))
    return edges
