"""Layered layout of the flow graph: producers, topics and consumers left to right, on a character grid.

Pure and deterministic: the layout depends only on the topology (which services write and read which
topics), never on rates or lag, so numbers changing never move a box. A service that reads one topic
and writes another sits once, between them. The steps are the classic ones for layered drawings:
break cycles, assign layers (services on even columns, topics on odd), add waypoints for edges that
skip layers, order each layer by barycenters to reduce crossings, then place boxes and route edges
through the channels between columns.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Literal, NamedTuple

NodeKind = Literal["service", "topic"]
NodeId = tuple[NodeKind, str]
EdgeId = tuple[NodeId, NodeId]

BOX_HEIGHT = 4
ROW_GAP = 1
# Boxes hold a name and a short line of numbers (topics "6.0/s · 3p", services "lag 1.2k WARN"); badges
# sit in the top border. The sizes let the seed's five-column shop fit a 100-column terminal.
MIN_WIDTH = {"topic": 14, "service": 17}
MAX_BOX_WIDTH = 30
CHANNEL_WIDTH = 5
SWEEPS = 4
BUCKET = 32

# Direction bits of a line cell; a cell's character is chosen from the union of its bits.
LEFT, RIGHT, UP, DOWN = 1, 2, 4, 8


@dataclass(frozen=True, slots=True)
class Topology:
    """What the layout depends on, and nothing else: nodes, their label widths, and directed edges."""

    services: tuple[str, ...]
    topics: tuple[str, ...]
    edges: tuple[EdgeId, ...]

    @staticmethod
    def build(services: Iterable[str], topics: Iterable[str], edges: Iterable[EdgeId]) -> Topology:
        return Topology(tuple(sorted(set(services))), tuple(sorted(set(topics))), tuple(sorted(set(edges))))


class Box(NamedTuple):
    node: NodeId
    x: int
    y: int
    width: int
    layer: int

    @property
    def height(self) -> int:
        return BOX_HEIGHT

    @property
    def port_row(self) -> int:
        """The row where edges enter and leave: the box's name line."""
        return self.y + 1


class Arrow(NamedTuple):
    x: int
    y: int
    edge: EdgeId
    glyph: str


class Segment(NamedTuple):
    """A straight run of line cells that belongs to one edge: horizontal when y0 == y1, else vertical."""

    edge: EdgeId
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
    _rows: dict[int, list[Segment]] = field(default_factory=dict)
    _verticals: dict[int, list[Segment]] = field(default_factory=dict)
    _box_rows: list[tuple[int, int, Box]] = field(default_factory=list)
    _arrow_rows: dict[int, list[Arrow]] | None = None
    _indexed: bool = False

    def _index(self) -> None:
        """Index segments and boxes by row, on first use: only drawing needs it, and off the layout's clock."""
        for segment in self.segments:
            if segment.y0 == segment.y1:
                self._rows.setdefault(segment.y0, []).append(segment)
        self._box_rows = sorted((box.y, box.x, box) for box in self.boxes.values())
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

    def cells(self, y: int) -> dict[int, tuple[int, list[EdgeId]]]:
        """Line cells of row ``y``: x -> (direction bits, edges passing there)."""
        if not self._indexed:
            self._index()
        row: dict[int, tuple[int, list[EdgeId]]] = {}

        def mark(x: int, bits: int, edge: EdgeId) -> None:
            old_bits, edges = row.get(x, (0, []))
            if edge not in edges:
                edges = [*edges, edge]
            row[x] = (old_bits | bits, edges)

        for segment in self._rows.get(y, ()):
            left, right = sorted((segment.x0, segment.x1))
            mark(left, RIGHT, segment.edge)
            for x in range(left + 1, right):
                mark(x, LEFT | RIGHT, segment.edge)
            mark(right, LEFT, segment.edge)
        for segment in self._verticals_near(y):
            top, bottom = sorted((segment.y0, segment.y1))
            if top <= y <= bottom:
                bits = (DOWN if y == top else UP | DOWN) if y != bottom else UP
                mark(segment.x0, bits, segment.edge)
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
        start = bisect_left(self._box_rows, (top - BOX_HEIGHT + 1, -1))
        found = []
        for y, _, box in self._box_rows[start:]:
            if y > bottom:
                break
            found.append(box)
        return found

    def box_at(self, x: int, y: int) -> Box | None:
        for box in self.boxes_in_rows(y, y):
            if box.x <= x < box.x + box.width:
                return box
        return None


def box_width(node: NodeId) -> int:
    return min(max(len(node[1]) + 4, MIN_WIDTH[node[0]]), MAX_BOX_WIDTH)


def layout(topology: Topology) -> GraphLayout:
    """Boxes, edge routes and layers for a topology; deterministic, and only the topology matters."""
    nodes: list[NodeId] = [("service", s) for s in topology.services] + [("topic", t) for t in topology.topics]
    successors: dict[NodeId, list[NodeId]] = defaultdict(list)
    for source, target in topology.edges:
        successors[source].append(target)
    forward = _acyclic_edges(nodes, successors)
    layer_of = _assign_layers(nodes, forward)
    layers, chains = _add_waypoints(nodes, forward, layer_of)
    _order_layers(layers, chains)
    return _place(topology, layers, chains)


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


def _is_waypoint(node: NodeId) -> bool:
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
    for _ in range(SWEEPS):
        sweep(range(1, len(ordered)), up, -1)
        sweep(range(len(ordered) - 2, -1, -1), down, +1)
        crossings = _crossings(ordered, down, position)
        if crossings >= best_crossings:
            break  # a round that does not help means the sweeps have settled
        best, best_crossings = [list(layer) for layer in ordered], crossings
    layers[:] = [[nodes[i] for i in layer] for layer in best]


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


def _place(topology: Topology, layers: list[list[NodeId]], chains: dict[EdgeId, list[NodeId]]) -> GraphLayout:
    widths = [max((box_width(n) for n in layer if not _is_waypoint(n)), default=2) for layer in layers]
    xs: list[int] = []
    x = 0
    for width in widths:
        xs.append(x)
        x += width + CHANNEL_WIDTH
    predecessors: dict[NodeId, list[NodeId]] = defaultdict(list)
    for path in chains.values():
        for a, b in pairwise(path):
            predecessors[b].append(a)

    rows: dict[NodeId, int] = {}
    boxes: dict[NodeId, Box] = {}
    for index, layer in enumerate(layers):
        cursor = 0
        right = xs[index] + widths[index]
        for node in layer:
            waypoint = _is_waypoint(node)
            linked = [rows[p] for p in predecessors[node] if p in rows]
            if len(linked) > 1:
                linked.sort()
            # Line up with the middle predecessor so chains run straight, but never out of order.
            wanted = (linked[(len(linked) - 1) // 2] - (0 if waypoint else 1)) if linked else cursor
            y = max(cursor, wanted)
            if waypoint:
                rows[node] = y
                cursor = y + 1 + ROW_GAP
            else:
                rows[node] = y + 1
                width = box_width(node)
                boxes[node] = Box(node, right - width, y, width, index)
                cursor = y + BOX_HEIGHT + ROW_GAP

    layer_of = {node: index for index, layer in enumerate(layers) for node in layer}
    segments: list[Segment] = []
    arrows: list[Arrow] = []
    slots: dict[int, int] = defaultdict(int)
    for edge, path in sorted(chains.items()):
        shown = edge
        if path[0] != edge[0]:  # drawn reversed: the arrow points left, into the first box
            first = boxes[path[0]]
            arrows.append(Arrow(first.x + first.width, rows[path[0]], edge, "◀"))
        for a, b in pairwise(path):
            column = layer_of[a]
            start_x = xs[column] + widths[column]
            # A line ends just left of a box (where its arrow goes), or where a waypoint's column starts.
            end_x = xs[column + 1] + widths[column + 1] - boxes[b].width - 1 if b in boxes else xs[column + 1]
            if a not in boxes:  # a waypoint: the line crosses its whole column
                segments.append(Segment(shown, xs[column], rows[a], start_x, rows[a]))
            ya, yb = rows[a], rows[b]
            if ya == yb:
                segments.append(Segment(shown, start_x, ya, end_x, yb))
            else:
                channel = start_x + 1 + slots[column] % (CHANNEL_WIDTH - 2)
                slots[column] += 1
                segments.append(Segment(shown, start_x, ya, channel, ya))
                segments.append(Segment(shown, channel, ya, channel, yb))
                segments.append(Segment(shown, channel, yb, end_x, yb))
            if b in boxes and b == edge[1]:
                arrows.append(Arrow(end_x, yb, shown, "▶"))
    height = max((box.y + BOX_HEIGHT for box in boxes.values()), default=0)
    height = max([height, *(rows[n] + 1 for n in rows)])
    width = xs[-1] + widths[-1] if xs else 0
    real_layers = [[n for n in layer if not _is_waypoint(n)] for layer in layers]
    return GraphLayout(topology, width, height, boxes, segments, arrows, [lay for lay in real_layers if lay])
