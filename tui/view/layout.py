"""Layered layout of the flow graph: producers, topics and consumers left to right, on a character grid.

Pure and deterministic: the layout depends only on the topology (which services write and read which
topics), never on rates or lag, so numbers changing never move a box. A service that reads one topic
and writes another sits once, between them. The steps are the classic ones for layered drawings:
break cycles, assign layers (services on even columns, topics on odd), add waypoints for edges that
skip layers, order each layer by barycenters to reduce crossings; then tui/view/routing.py places the
boxes and routes the edges through the channels between columns so that no line lies.
"""

from __future__ import annotations

import sys
from bisect import bisect_left, insort
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Literal, NamedTuple

NodeKind = Literal["service", "topic"]
Density = Literal["regular", "tight", "compact"]
"""How boxes are drawn: framed with a line of numbers; framed and only as wide as their names (for a
narrow terminal); or one line each, name and numbers side by side (for a dense graph)."""
NodeId = tuple[NodeKind, str]
EdgeId = tuple[NodeId, NodeId]

BOX_HEIGHT = 4
ROW_GAP = 1
# Boxes hold a name and a short line of numbers (topics "6.0/s · 3p", services "lag 1.2k WARN"); badges
# sit in the top border. The sizes let the seed's five-column shop fit a 100-column terminal, and tight
# boxes let it fit 80 columns.
MIN_WIDTH = {"topic": 14, "service": 17}
TIGHT_MIN_WIDTH = 9
"""Room for a badge in the top border: ``╭ CMD·1 ╮``."""
TILE_MIN_WIDTH = 24
"""A tile is wider than a box of the graph: with no lines to follow, its numbers carry the meaning."""
TILE_GAP = 2
COMPACT_EXTRA = 12
"""A one-line box's room besides its name: brackets, a mark and its numbers."""
MAX_BOX_WIDTH = 30
CHANNEL_WIDTH = {"regular": 5, "tight": 3, "compact": 4}
SWEEPS = 4
TRANSPOSE_UP_TO = 400
"""Swapping neighbours in a layer while it removes crossings costs a pass over the edges per pair: worth
it on the graphs a person reads box by box (a focus, the realistic cluster), not on thousands of boxes."""
BUCKET = 32
CELL_ROWS_CACHED = 1024

# Direction bits of a line cell; a cell's character is chosen from the union of its bits.
LEFT, RIGHT, UP, DOWN = 1, 2, 4, 8


@dataclass(frozen=True, slots=True)
class Topology:
    """What the layout depends on, and nothing else: nodes, their label widths, and directed edges."""

    services: tuple[str, ...]
    topics: tuple[str, ...]
    edges: tuple[EdgeId, ...]

    @property
    def nodes(self) -> frozenset[NodeId]:
        return frozenset([*(("service", s) for s in self.services), *(("topic", t) for t in self.topics)])

    @staticmethod
    def build(services: Iterable[str], topics: Iterable[str], edges: Iterable[EdgeId]) -> Topology:
        return Topology(tuple(sorted(set(services))), tuple(sorted(set(topics))), tuple(sorted(set(edges))))


class Box(NamedTuple):
    node: NodeId
    x: int
    y: int
    width: int
    layer: int
    height: int = BOX_HEIGHT
    """A box taller than usual has more rows where lines can enter and leave it (its ports)."""
    framed: bool = True
    """Framed boxes have a top and a bottom border; one-line (compact) boxes have none."""

    @property
    def port_rows(self) -> range:
        """The rows where lines enter and leave: every row between the top and bottom borders."""
        inset = 1 if self.framed else 0
        return range(self.y + inset, self.y + self.height - inset)


class Arrow(NamedTuple):
    x: int
    y: int
    edge: EdgeId
    glyph: str


class Segment(NamedTuple):
    """A straight run of line cells that belongs to one edge: horizontal when y0 == y1, else vertical.

    ``bundle`` numbers the lines that edges share (see tui/view/routing.py): segments of one bundle join
    where they meet; a vertical segment that meets another bundle's horizontal one passes under it."""

    edge: EdgeId
    bundle: int
    x0: int
    y0: int
    x1: int
    y1: int


@dataclass(slots=True)
class GraphLayout:
    topology: Topology
    width: int
    height: int
    boxes: dict[NodeId, Box]
    segments: list[Segment]
    arrows: list[Arrow]
    layers: list[list[NodeId]]
    """Real nodes per layer, top to bottom (waypoints left out): what keyboard navigation walks."""
    density: Density = "regular"
    _rows: dict[int, list[Segment]] = field(default_factory=dict)
    _verticals: dict[int, list[Segment]] = field(default_factory=dict)
    _box_rows: list[tuple[int, int, Box]] = field(default_factory=list)
    _tallest: int = BOX_HEIGHT
    _arrow_rows: dict[int, list[Arrow]] | None = None
    _indexed: bool = False
    _cells: dict[tuple[int, int, int | None], dict[int, tuple[int, list[EdgeId]]]] = field(default_factory=dict)
    """Rows' line cells as drawn: the lines stay while the numbers and weights change every frame."""

    def _index(self) -> None:
        """Index segments and boxes by row, on first use: only drawing needs it, and off the layout's clock."""
        for segment in self.segments:
            if segment.y0 == segment.y1:
                self._rows.setdefault(segment.y0, []).append(segment)
        self._box_rows = sorted((box.y, box.x, box) for box in self.boxes.values())
        self._tallest = max((box.height for box in self.boxes.values()), default=BOX_HEIGHT)
        self._indexed = True

    def _verticals_near(self, y: int) -> list[Segment]:
        """Vertical segments that may cross row ``y``, indexed by bands of rows on first use."""
        bucket = y // BUCKET
        found = self._verticals.get(bucket)
        if found is None:
            top, bottom = bucket * BUCKET, bucket * BUCKET + BUCKET - 1
            found = self._verticals[bucket] = [
                s for s in self.segments if s.y0 != s.y1 and min(s.y0, s.y1) <= bottom and max(s.y0, s.y1) >= top
            ]
        return found

    def crossings(self) -> int:
        """Cells where lines of different bundles meet, one passing under the other: fewer read better."""
        return sum(len(by_bundle) > 1 for y in range(self.height) for by_bundle in self._marks(y).values())

    def _marks(self, y: int, left: int = 0, right: int | None = None) -> dict[int, dict[int, tuple[int, list[EdgeId]]]]:
        """Row ``y``'s line cells per bundle, in columns ``left`` up to ``right``: x -> bundle -> (direction
        bits, edges). A big graph is thousands of columns wide, and a screen shows a couple of hundred."""
        end = sys.maxsize if right is None else right
        if not self._indexed:
            self._index()
        marks: dict[int, dict[int, tuple[int, list[EdgeId]]]] = {}

        def mark(x: int, bits: int, segment: Segment) -> None:
            by_bundle = marks.setdefault(x, {})
            old_bits, edges = by_bundle.get(segment.bundle, (0, []))
            if segment.edge not in edges:
                edges = [*edges, segment.edge]
            by_bundle[segment.bundle] = (old_bits | bits, edges)

        for segment in self._rows.get(y, ()):
            start, stop = sorted((segment.x0, segment.x1))
            if stop < left or start >= end:
                continue
            if start >= left:
                mark(start, RIGHT, segment)
            for x in range(max(start + 1, left), min(stop, end)):
                mark(x, LEFT | RIGHT, segment)
            if stop < end:
                mark(stop, LEFT, segment)
        for segment in self._verticals_near(y):
            top, bottom = sorted((segment.y0, segment.y1))
            if top <= y <= bottom and left <= segment.x0 < end:
                bits = (DOWN if y == top else UP | DOWN) if y != bottom else UP
                mark(segment.x0, bits, segment)
        return marks

    def cells(self, y: int, left: int = 0, right: int | None = None) -> dict[int, tuple[int, list[EdgeId]]]:
        """Line cells of row ``y`` in columns ``left`` up to ``right``: x -> (direction bits, edges passing there).

        Where a vertical line of one bundle crosses a horizontal line of another, the cell keeps only the
        horizontal one: the vertical line shows a gap there, which a reader takes as passing under it,
        where a junction glyph would join the two."""
        key = (y, left, right)
        cached = self._cells.get(key)
        if cached is not None:
            return cached
        if len(self._cells) >= CELL_ROWS_CACHED:
            self._cells.clear()
        row: dict[int, tuple[int, list[EdgeId]]] = {}
        for x, by_bundle in self._marks(y, left, right).items():
            if len(by_bundle) == 1:
                (row[x],) = by_bundle.values()
                continue
            across = [cell for cell in by_bundle.values() if cell[0] & (LEFT | RIGHT)]
            if len(across) == 1:  # a crossing: the horizontal line is drawn, the vertical one has a gap
                row[x] = across[0]
            else:  # lines of different bundles on one cell: routing must never do this (the tests check)
                bits = 0
                for cell_bits, _ in by_bundle.values():
                    bits |= cell_bits
                row[x] = (bits, [edge for _, edges in by_bundle.values() for edge in edges])
        self._cells[key] = row
        return row

    def arrows_in_row(self, y: int) -> list[Arrow]:
        if self._arrow_rows is None:
            self._arrow_rows = {}
            for arrow in self.arrows:
                self._arrow_rows.setdefault(arrow[1], []).append(arrow)
        return self._arrow_rows.get(y, [])

    def boxes_in_rows(self, top: int, bottom: int) -> list[Box]:
        """Boxes that overlap rows ``top``..``bottom`` inclusive."""
        if not self._indexed:
            self._index()
        start = bisect_left(self._box_rows, (top - self._tallest + 1, -1))
        found = []
        for y, _, box in self._box_rows[start:]:
            if y > bottom:
                break
            if y + box.height > top:
                found.append(box)
        return found

    def box_at(self, x: int, y: int) -> Box | None:
        for box in self.boxes_in_rows(y, y):
            if box.x <= x < box.x + box.width:
                return box
        return None


HIDDEN_SUFFIX = "\x1f"
"""A node's name may end in a part after this character that its box does not show (which topic an
unknown writer writes, say, where every such box reads "unknown writer")."""


def shown_length(node: NodeId) -> int:
    """How long the name a box shows is (without the part after HIDDEN_SUFFIX)."""
    return len(node[1].partition(HIDDEN_SUFFIX)[0])


def box_width(node: NodeId, density: Density = "regular") -> int:
    shown = shown_length(node)
    if density == "tight":
        return min(max(shown + 2, TIGHT_MIN_WIDTH), MAX_BOX_WIDTH)
    if density == "compact":
        return min(shown + COMPACT_EXTRA, MAX_BOX_WIDTH)
    return min(max(shown + 4, MIN_WIDTH[node[0]]), MAX_BOX_WIDTH)


def layout(topology: Topology, density: Density = "regular") -> GraphLayout:
    """Boxes, edge routes and layers for a topology; deterministic: only the topology and the density
    matter, so numbers changing never move a box."""
    nodes: list[NodeId] = [("service", s) for s in topology.services] + [("topic", t) for t in topology.topics]
    successors: dict[NodeId, list[NodeId]] = defaultdict(list)
    for source, target in topology.edges:
        successors[source].append(target)
    forward = _acyclic_edges(nodes, successors)
    layer_of = _assign_layers(nodes, forward)
    layers, chains = _add_waypoints(nodes, forward, layer_of)
    _order_layers(layers, chains)
    from tui.view.routing import place  # routing is built on this module's types

    return place(topology, layers, chains, density)


def layout_for(
    topology: Topology, width: int, height: int, density: Density | None = None, screens: int = 3
) -> GraphLayout:
    """The layout to show on ``width`` x ``height`` cells: ``density`` when one is asked for; else framed
    boxes, as wide as their names when the usual ones do not fit the width, and one-line boxes when
    framed ones would take more than ``screens`` screens' height. Boxes with no lines between them are
    tiled across the width (see :func:`tiles`)."""
    if density is not None:
        return layout(topology, density) if topology.edges else tiles(topology, width, density)
    if not topology.edges:
        framed = tiles(topology, width, "regular")
        return framed if framed.height <= screens * height else tiles(topology, width, "compact")
    chosen = layout(topology, "regular")
    if chosen.width > width:
        chosen = layout(topology, "tight")
    if chosen.height > screens * height:
        compact = layout(topology, "compact")
        if compact.height < chosen.height:
            return compact
    return chosen


def tiles(topology: Topology, width: int, density: Density = "regular") -> GraphLayout:
    """Boxes with no lines between them (the overview when its lines are too many to draw) in rows across
    ``width``: topics first, then services from a new row, alike boxes lined up in columns that the
    arrow keys walk like a graph's layers."""
    framed = density != "compact"
    nodes: list[list[NodeId]] = [[("topic", t) for t in topology.topics], [("service", s) for s in topology.services]]
    # Tiles share one width, as wide as the longest name (up to the screen's): no line needs the room.
    longest = max((shown_length(node) for kind in nodes for node in kind), default=0)
    tile = min(max(longest + 4, TILE_MIN_WIDTH) if framed else longest + COMPACT_EXTRA, max(width, 1))
    per_row = max(1, (width + TILE_GAP) // (tile + TILE_GAP))
    box_height, spacing = (BOX_HEIGHT, 1) if framed else (1, 0)
    boxes: dict[NodeId, Box] = {}
    columns: list[list[NodeId]] = [[] for _ in range(per_row)]
    top = 0
    for kind in nodes:
        for index, node in enumerate(kind):
            row, column = divmod(index, per_row)
            y = top + row * (box_height + spacing)
            boxes[node] = Box(node, column * (tile + TILE_GAP), y, tile, column, box_height, framed)
            columns[column].append(node)
        if kind:
            top += (len(kind) + per_row - 1) // per_row * (box_height + spacing) + 1 - spacing
    used = [column for column in columns if column]
    right = max((box.x + box.width for box in boxes.values()), default=0)
    return GraphLayout(topology, right, max(top - 1, 0), boxes, [], [], used, density)


Drawn = tuple[NodeId, NodeId, EdgeId]
"""An edge as drawn (left node, right node) and the edge it stands for, which may point right to left."""


def _acyclic_edges(nodes: list[NodeId], successors: dict[NodeId, list[NodeId]]) -> list[Drawn]:
    """The edges with those closing a cycle drawn reversed (found by a deterministic depth-first search)."""
    state: dict[NodeId, int] = {}  # 1: on the current path, 2: finished
    edges: list[Drawn] = []
    for root in nodes:
        if root in state:
            continue
        state[root] = 1
        stack = [(root, iter(sorted(successors.get(root, ()))))]
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
                continue
            if state.get(child) == 1:
                edges.append((child, node, (node, child)))  # a back edge: drawn reversed, no cycle left
            else:
                edges.append((node, child, (node, child)))
                if child not in state:
                    state[child] = 1
                    stack.append((child, iter(sorted(successors.get(child, ())))))
    return edges


def _assign_layers(nodes: list[NodeId], edges: list[Drawn]) -> dict[NodeId, int]:
    """Longest path from the sources, services on even layers and topics on odd ones; then sources
    move right, next to what they feed, so a producer does not sit far left of its topic."""
    predecessors: dict[NodeId, list[NodeId]] = defaultdict(list)
    successors: dict[NodeId, list[NodeId]] = defaultdict(list)
    indegree = dict.fromkeys(nodes, 0)
    for source, target, _ in edges:
        predecessors[target].append(source)
        successors[source].append(target)
        indegree[target] += 1
    ready = sorted(node for node in nodes if indegree[node] == 0)
    layer: dict[NodeId, int] = {}
    order: list[NodeId] = []
    while ready:
        node = ready.pop(0)
        order.append(node)
        base = 0 if node[0] == "service" else 1
        layer[node] = max((layer[p] + 1 for p in predecessors[node]), default=base)
        if (layer[node] - base) % 2:
            layer[node] += 1  # keep the kind's parity even if a reversed edge joined two of a kind
        for child in successors[node]:
            indegree[child] -= 1
            if indegree[child] == 0:
                ready.append(child)
        ready.sort()
    for node in reversed(order):
        if not predecessors[node] and successors[node]:
            nearest = min(layer[child] for child in successors[node]) - 1
            layer[node] = max(layer[node], nearest)
    return layer


def _add_waypoints(
    nodes: list[NodeId], edges: list[Drawn], layer_of: dict[NodeId, int]
) -> tuple[list[list[NodeId]], dict[EdgeId, list[NodeId]]]:
    """Layers of nodes, with a waypoint in each layer that an edge passes over; each edge's path,
    left to right (an edge drawn reversed has its path start at its target)."""
    depth = max(layer_of.values(), default=0) + 1
    layers: list[list[NodeId]] = [[] for _ in range(depth)]
    for node in sorted(nodes, key=lambda n: (layer_of[n], n)):
        layers[layer_of[node]].append(node)
    chains: dict[EdgeId, list[NodeId]] = {}
    for source, target, edge in edges:
        start, end = layer_of[source], layer_of[target]
        path = [source]
        for between in range(start + 1, end):
            waypoint: NodeId = ("service", f"\0{edge[0][0]}:{edge[0][1]}>{edge[1][0]}:{edge[1][1]}@{between}")
            layers[between].append(waypoint)
            path.append(waypoint)
        path.append(target)
        chains[edge] = path
    return layers, chains


def is_waypoint(node: NodeId) -> bool:
    return node[1].startswith("\0")


def _order_layers(layers: list[list[NodeId]], chains: dict[EdgeId, list[NodeId]]) -> None:
    """Barycenter sweeps, down then up, keeping the order with the fewest crossings."""
    # The sweeps run on node numbers: hashing (kind, name) tuples over and over was most of their cost.
    nodes = [node for layer in layers for node in layer]
    number = {node: i for i, node in enumerate(nodes)}
    up: list[list[int]] = [[] for _ in nodes]
    down: list[list[int]] = [[] for _ in nodes]
    for path in chains.values():
        for a, b in pairwise(path):
            down[number[a]].append(number[b])
            up[number[b]].append(number[a])
    ordered = [[number[node] for node in layer] for layer in layers]
    small = len(nodes) <= TRANSPOSE_UP_TO
    if small:
        _depth_first_order(ordered, down)
    position = [-1] * len(nodes)
    """Where each node of the reference layer sits; -1 for every other node."""

    def sweep(indices: Iterable[int], neighbours: list[list[int]], offset: int) -> None:
        for index in indices:
            reference = ordered[index + offset]
            for i, node in enumerate(reference):
                position[node] = i
            keyed: list[tuple[float, int, int]] = []
            for i, node in enumerate(ordered[index]):
                total = count = 0
                for neighbour in neighbours[node]:
                    at = position[neighbour]
                    if at >= 0:
                        total += at
                        count += 1
                keyed.append((total / count if count else i, i, node))
            for node in reference:
                position[node] = -1
            keyed.sort()  # by barycenter, ties in the current order (i is unique: nodes never compare)
            ordered[index] = [node for _, _, node in keyed]

    best = [list(layer) for layer in ordered]
    best_crossings = _crossings(ordered, down, position)
    for _ in range(SWEEPS * 3 if small else SWEEPS):
        sweep(range(1, len(ordered)), up, -1)
        sweep(range(len(ordered) - 2, -1, -1), down, +1)
        crossings = _crossings(ordered, down, position)
        if crossings >= best_crossings and not small:
            break  # a round that does not help means the sweeps have settled
        best, best_crossings = [list(layer) for layer in ordered], crossings
    if small:
        _transpose(best, up, down)
    layers[:] = [[nodes[i] for i in layer] for layer in best]


def _depth_first_order(layers: list[list[int]], down: list[list[int]]) -> None:
    """Start each layer in the order a depth-first walk from the left meets its nodes: a chain's boxes
    start on one row, which the sweeps then only have to keep."""
    seen: dict[int, int] = {}

    def walk(node: int) -> None:
        stack = [node]
        while stack:
            current = stack.pop()
            if current in seen:
                continue
            seen[current] = len(seen)
            stack.extend(reversed(down[current]))

    for layer in layers:
        for node in layer:
            walk(node)
    for layer in layers:
        layer.sort(key=seen.__getitem__)


def _transpose(layers: list[list[int]], up: list[list[int]], down: list[list[int]]) -> None:
    """Swap neighbours within a layer while that removes crossings with the layers on either side."""
    position = {node: i for layer in layers for i, node in enumerate(layer)}

    def crossing(u: int, v: int) -> int:
        """Crossings of u's edges with v's when u sits left of v."""
        total = 0
        for neighbours in (up, down):
            for a in neighbours[u]:
                for b in neighbours[v]:
                    if position[a] > position[b]:
                        total += 1
        return total

    improved = True
    while improved:
        improved = False
        for layer in layers:
            for i in range(len(layer) - 1):
                u, v = layer[i], layer[i + 1]
                if crossing(u, v) > crossing(v, u):
                    layer[i], layer[i + 1] = v, u
                    position[u], position[v] = i + 1, i
                    improved = True


def _crossings(layers: list[list[int]], down: list[list[int]], position: list[int]) -> int:
    """Edge crossings between adjacent layers (inversions of target positions, counted by merge sort).
    ``position`` is scratch space, -1 everywhere on entry and on return."""
    total = 0
    for upper, lower in pairwise(layers):
        for i, node in enumerate(lower):
            position[node] = i
        targets: list[int] = []
        for node in upper:
            below = [position[t] for t in down[node] if position[t] >= 0]
            if len(below) > 1:
                below.sort()
            targets.extend(below)
        for node in lower:
            position[node] = -1
        total += _inversions(targets)
    return total


def _inversions(values: list[int]) -> int:
    """Pairs out of order: for each value, how many later values are smaller."""
    seen: list[int] = []
    count = 0
    for value in reversed(values):
        count += bisect_left(seen, value)
        insort(seen, value)
    return count
