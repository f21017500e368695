"""Placing the boxes of a layered flow graph and routing its edges so that no line lies.

A reader who follows a line takes every source it touches to write to every target it touches. So a
line may be shared only by edges with one source (a fan-out) or one target (a fan-in). Each edge joins
one group: its source's fan-out, its target's fan-in, or none. In the channel between two columns the
edges of a group that meet at the group's box make one bundle, drawn as a tree: a horizontal stub on
a row of its own at each box (a port), one vertical line in a column of its own, and a horizontal
branch to each box at the other end. Bundles never share a cell; where one bundle's vertical meets
another's horizontal, the vertical passes under it (GraphLayout.cells draws that as a gap).

Two bundles' horizontals on one row must not meet: the one from the left ends in its column before the
one into the right begins in its own, so that row orders the two columns. Ports are chosen to avoid such
rows where a box has rows to spare, and a box grows a row when it has none, until the order has no cycle.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import defaultdict
from dataclasses import dataclass, field
from heapq import heappop, heappush
from itertools import pairwise

from tui.view.layout import (
    BOX_HEIGHT,
    CHANNEL_WIDTH,
    ROW_GAP,
    Arrow,
    Box,
    Density,
    EdgeId,
    GraphLayout,
    NodeId,
    Segment,
    Topology,
    box_width,
    is_waypoint,
)

REPAIRS = 12
"""Times a box may grow a row to break a cycle of column orders before the layout gives up growing."""

BundleKey = tuple[str, object, int]
"""("out", source, channel), ("in", target, channel) or ("edge", edge, channel)."""


@dataclass(slots=True)
class Bundle:
    """Edges that share one tree of lines within one channel."""

    key: BundleKey
    number: int
    members: list[tuple[NodeId, NodeId, EdgeId]] = field(default_factory=list)
    """(node on the left, node on the right, the edge drawn) for each edge in the bundle."""
    lefts: list[NodeId] = field(default_factory=list)
    rights: list[NodeId] = field(default_factory=list)

    @property
    def channel(self) -> int:
        return self.key[2]


def place(
    topology: Topology, layers: list[list[NodeId]], chains: dict[EdgeId, list[NodeId]], density: Density = "regular"
) -> GraphLayout:
    """Boxes, lines and arrows for layers already ordered; ``chains`` gives each edge's path, left to right."""
    framed = density != "compact"
    layer_of = {node: index for index, layer in enumerate(layers) for node in layer}
    bundles = _bundles(chains, layer_of)
    outgoing: dict[NodeId, list[Bundle]] = defaultdict(list)  # bundles leaving a node's right side
    incoming: dict[NodeId, list[Bundle]] = defaultdict(list)  # bundles entering its left side
    for bundle in bundles:
        for node in bundle.lefts:
            outgoing[node].append(bundle)
        for node in bundle.rights:
            incoming[node].append(bundle)
    extra: dict[NodeId, int] = defaultdict(int)
    for _ in range(REPAIRS + 1):
        heights = {node: _height(node, outgoing, incoming, extra, framed) for node in layer_of}
        tops = _tops(layers, chains, heights, framed)
        ports = _ports(bundles, outgoing, incoming, tops, heights, framed)
        columns, grow = _columns(bundles, ports, len(layers))
        if not grow:
            break
        for node in grow:
            extra[node] += 1
    return _route(topology, layers, bundles, heights, tops, ports, columns, density)


def _bundles(chains: dict[EdgeId, list[NodeId]], layer_of: dict[NodeId, int]) -> list[Bundle]:
    """Each edge's group, then the bundles that group's edges make in each channel they cross."""
    forward = [edge for edge, path in chains.items() if path[0] == edge[0]]
    out_degree: dict[NodeId, int] = defaultdict(int)
    in_degree: dict[NodeId, int] = defaultdict(int)
    for source, target in forward:
        out_degree[source] += 1
        in_degree[target] += 1
    group: dict[EdgeId, str] = {}
    for source, target in forward:
        if max(out_degree[source], in_degree[target]) >= 2:
            group[source, target] = "out" if out_degree[source] >= in_degree[target] else "in"
    by_key: dict[BundleKey, Bundle] = {}
    for edge, path in sorted(chains.items()):
        for left, right in pairwise(path):
            channel = layer_of[left]
            kind = group.get(edge)
            if kind == "out" and left == edge[0]:
                key: BundleKey = ("out", left, channel)
            elif kind == "in" and right == edge[1]:
                key = ("in", right, channel)
            else:
                key = ("edge", edge, channel)
            bundle = by_key.get(key)
            if bundle is None:
                bundle = by_key[key] = Bundle(key, len(by_key))
            bundle.members.append((left, right, edge))
            if left not in bundle.lefts:
                bundle.lefts.append(left)
            if right not in bundle.rights:
                bundle.rights.append(right)
    return list(by_key.values())


def _height(
    node: NodeId,
    outgoing: dict[NodeId, list[Bundle]],
    incoming: dict[NodeId, list[Bundle]],
    extra: dict[NodeId, int],
    framed: bool,
) -> int:
    if is_waypoint(node):
        return 1
    ports = max(len(outgoing.get(node, ())), len(incoming.get(node, ())), 1) + extra.get(node, 0)
    return max(BOX_HEIGHT, ports + 2) if framed else ports


def _tops(
    layers: list[list[NodeId]], chains: dict[EdgeId, list[NodeId]], heights: dict[NodeId, int], framed: bool
) -> dict[NodeId, int]:
    """Each node's top row: in layer order, lined up with its middle predecessor so that chains run
    straight, but never above the node before it."""
    predecessors: dict[NodeId, list[NodeId]] = defaultdict(list)
    for path in chains.values():
        for a, b in pairwise(path):
            predecessors[b].append(a)
    first_port: dict[NodeId, int] = {}
    tops: dict[NodeId, int] = {}
    for layer in layers:
        cursor = 0
        for node in layer:
            offset = 1 if framed and not is_waypoint(node) else 0
            linked = sorted(first_port[p] for p in predecessors[node] if p in first_port)
            wanted = linked[(len(linked) - 1) // 2] - offset if linked else cursor
            top = max(cursor, wanted)
            tops[node] = top
            first_port[node] = top + offset
            # One-line boxes stack without a gap; a waypoint keeps one, so its line is not taken for a box's.
            cursor = top + heights[node] + (ROW_GAP if framed or is_waypoint(node) else 0)
    return tops


Ports = dict[tuple[int, NodeId], int]
"""(bundle number, node) -> the row where the bundle's line meets the node."""


def _ports(
    bundles: list[Bundle],
    outgoing: dict[NodeId, list[Bundle]],
    incoming: dict[NodeId, list[Bundle]],
    tops: dict[NodeId, int],
    heights: dict[NodeId, int],
    framed: bool,
) -> Ports:
    """Rows for every bundle at every box it meets. Lines leave a box in the order of where they go,
    top to bottom; lines into a box take the rows where nothing leaves the box on their left, first
    the row of their own source when they can run straight."""
    ports: Ports = {}

    def rows(node: NodeId) -> list[int]:
        top, inset = tops[node], 1 if framed and not is_waypoint(node) else 0
        return list(range(top + inset, top + heights[node] - inset))

    def centre(nodes: list[NodeId]) -> float:
        return sum(tops[node] for node in nodes) / len(nodes)

    # A waypoint's row is fixed where it was placed; boxes choose among their rows around them.
    fixed_in: dict[int, dict[int, int]] = defaultdict(dict)  # channel -> row -> bundle entering a waypoint there
    for bundle in bundles:
        for node in bundle.rights:
            if is_waypoint(node):
                fixed_in[bundle.channel][tops[node]] = bundle.number
    for node, leaving in outgoing.items():
        ordered = sorted(leaving, key=lambda b: (centre(b.rights), b.number))
        _choose(node, ordered, rows(node), fixed_in, ports)
    leaving_rows: dict[int, dict[int, int]] = defaultdict(dict)  # channel -> row -> bundle leaving there
    for bundle in bundles:
        for node in bundle.lefts:
            leaving_rows[bundle.channel][ports[bundle.number, node]] = bundle.number
    for node, entering in incoming.items():
        ordered = sorted(entering, key=lambda b: (centre(b.lefts), b.number))
        _choose(node, ordered, rows(node), leaving_rows, ports)
    return ports


def _choose(
    node: NodeId, ordered: list[Bundle], free: list[int], other_side: dict[int, dict[int, int]], ports: Ports
) -> None:
    """Rows for the bundles meeting one side of ``node``, in order: first the row where the same bundle
    meets the other side (a straight line), then a row where no other bundle meets the other side."""
    taken: set[int] = set()
    for bundle in ordered:
        busy = other_side[bundle.channel]
        straight = [r for r in free if r not in taken and busy.get(r) == bundle.number]
        clear = [r for r in free if r not in taken and r not in busy]
        spare = [r for r in free if r not in taken]
        row = (straight or clear or spare or [free[-1]])[0]
        taken.add(row)
        ports[bundle.number, node] = row


def _columns(bundles: list[Bundle], ports: Ports, channels: int) -> tuple[dict[int, int], set[NodeId]]:
    """A column index within its channel for every bundle that turns; and the boxes that must grow a
    row because the order their lines ask for has a cycle (an empty set when it has none)."""
    columns: dict[int, int] = {}
    grow: set[NodeId] = set()
    by_channel: dict[int, list[Bundle]] = defaultdict(list)
    for bundle in bundles:
        by_channel[bundle.channel].append(bundle)
    for channel in range(channels):
        members = by_channel.get(channel, [])
        extents: dict[int, tuple[int, int]] = {}
        leaving: dict[int, tuple[int, NodeId]] = {}
        entering: dict[int, tuple[int, NodeId]] = {}
        for bundle in members:
            left_rows = [ports[bundle.number, node] for node in bundle.lefts]
            right_rows = [ports[bundle.number, node] for node in bundle.rights]
            all_rows = left_rows + right_rows
            if len(set(all_rows)) > 1:
                extents[bundle.number] = (min(all_rows), max(all_rows))
            for node in bundle.lefts:
                leaving[ports[bundle.number, node]] = (bundle.number, node)
            for node in bundle.rights:
                entering[ports[bundle.number, node]] = (bundle.number, node)
        # On a row where a line leaves on the left and another enters on the right, the leaving one
        # must turn in a column left of the entering one's.
        before: dict[int, set[int]] = defaultdict(set)
        culprits: dict[tuple[int, int], NodeId] = {}
        for row, (entering_bundle, into) in entering.items():
            leaving_bundle, out_of = leaving.get(row, (entering_bundle, into))
            if leaving_bundle != entering_bundle:
                before[entering_bundle].add(leaving_bundle)
                # The box that grows a row, so that one of the two lines can move: a waypoint cannot.
                culprits[leaving_bundle, entering_bundle] = out_of if is_waypoint(into) else into
        waves, stuck = _waves(sorted(extents, key=lambda n: (extents[n], n)), before)
        grow.update(node for (p, q), node in culprits.items() if p in stuck and q in stuck)
        _pack(waves, extents, before, columns)
    return columns, grow


def _fits(intervals: list[tuple[int, int]], extent: tuple[int, int]) -> bool:
    """Whether a vertical line over rows ``extent`` fits in a column holding ``intervals`` (sorted, apart):
    lines in one column keep a row between them, so that where one ends the next does not seem to go on."""
    top, bottom = extent
    at = bisect_left(intervals, extent)
    if at > 0 and intervals[at - 1][1] + 1 >= top:
        return False
    return at == len(intervals) or intervals[at][0] > bottom + 1


def _waves(nodes: list[int], before: dict[int, set[int]]) -> tuple[list[list[int]], set[int]]:
    """``nodes`` in waves, each after all those its members must follow, in their given order; and the
    nodes caught in a cycle (a last wave, whatever they must follow)."""
    waves: list[list[int]] = []
    done: set[int] = set()
    remaining = nodes
    while remaining:
        ready = [node for node in remaining if before.get(node, set()) <= done]
        if not ready:
            return [*waves, remaining], set(remaining)
        waves.append(ready)
        done.update(ready)
        remaining = [node for node in remaining if node not in done]
    return waves, set()


def _pack(
    waves: list[list[int]], extents: dict[int, tuple[int, int]], before: dict[int, set[int]], columns: dict[int, int]
) -> None:
    """Columns for one channel's bundles: as few as fit their vertical lines, each right of the columns it
    must follow. The first wave, top to bottom, reuses the column that freed up first; later waves (only
    bundles that must follow others) take the first column that fits."""
    placed: dict[int, list[tuple[int, int]]] = defaultdict(list)
    busy: list[tuple[int, int]] = []  # (last row, column), the first wave's columns in use
    free: list[int] = []
    for number in waves[0] if waves else ():
        top, bottom = extents[number]
        while busy and busy[0][0] + 1 < top:
            heappush(free, heappop(busy)[1])
        column = heappop(free) if free else len(placed)
        columns[number] = column
        placed[column].append((top, bottom))
        heappush(busy, (bottom, column))
    for wave in waves[1:]:
        for number in wave:
            column = max((columns[p] + 1 for p in before.get(number, ()) if p in columns), default=0)
            while not _fits(placed[column], extents[number]):
                column += 1
            columns[number] = column
            insort(placed[column], extents[number])


def _route(
    topology: Topology,
    layers: list[list[NodeId]],
    bundles: list[Bundle],
    heights: dict[NodeId, int],
    tops: dict[NodeId, int],
    ports: Ports,
    columns: dict[int, int],
    density: Density,
) -> GraphLayout:
    widths = [max((box_width(n, density) for n in layer if not is_waypoint(n)), default=2) for layer in layers]
    gaps = [CHANNEL_WIDTH[density]] * len(layers)
    for bundle in bundles:
        if bundle.number in columns:
            gaps[bundle.channel] = max(gaps[bundle.channel], columns[bundle.number] + 3)
    xs: list[int] = []
    x = 0
    for width, gap in zip(widths, gaps, strict=True):
        xs.append(x)
        x += width + gap
    boxes: dict[NodeId, Box] = {}
    for index, layer in enumerate(layers):
        column_end = xs[index] + widths[index]  # boxes line up on the right, where their lines leave
        for node in layer:
            if not is_waypoint(node):
                width = box_width(node, density)
                framed = density != "compact"
                boxes[node] = Box(node, column_end - width, tops[node], width, index, heights[node], framed)
    segments: list[Segment] = []
    arrows: list[Arrow] = []
    for bundle in bundles:
        channel = bundle.channel
        start = xs[channel] + widths[channel]  # the first cell right of the left column
        column = start + 1 + columns[bundle.number] if bundle.number in columns else None
        number = bundle.number
        for left, right, edge in bundle.members:
            row_left, row_right = ports[number, left], ports[number, right]
            end = boxes[right].x - 1 if right in boxes else xs[channel + 1]
            if left not in boxes:  # a waypoint: the line crosses its whole column
                segments.append(Segment(edge, number, xs[channel], row_left, start, row_left))
            if column is None:
                segments.append(Segment(edge, number, start, row_left, end, row_right))
            else:
                segments.append(Segment(edge, number, start, row_left, column, row_left))
                if row_left != row_right:
                    segments.append(Segment(edge, number, column, row_left, column, row_right))
                segments.append(Segment(edge, number, column, row_right, end, row_right))
            if right in boxes and right == edge[1]:
                arrows.append(Arrow(end, row_right, edge, "▶"))
            if left in boxes and left == edge[1]:  # drawn reversed: the arrow points back into its target
                arrows.append(Arrow(start, row_left, edge, "◀"))
    height = max((box.y + box.height for box in boxes.values()), default=0)
    height = max([height, *(tops[n] + 1 for layer in layers for n in layer)])
    width = xs[-1] + widths[-1] if xs else 0
    real_layers = [[n for n in layer if not is_waypoint(n)] for layer in layers]
    return GraphLayout(topology, width, height, boxes, segments, arrows, [lay for lay in real_layers if lay], density)
