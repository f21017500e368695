"""The graph layout: layered left to right, deterministic, and dependent on the topology alone."""

from __future__ import annotations

import itertools
import random

from tui.view.layout import Topology, layout, layout_for


def service(name):
    return ("service", name)


def topic(name):
    return ("topic", name)


SHOP = Topology.build(
    services=["web-shop", "warehouse", "email-service", "sms-service"],
    topics=["warehouse", "send-email", "send-text"],
    edges=[
        (service("web-shop"), topic("warehouse")),
        (topic("warehouse"), service("warehouse")),
        (service("warehouse"), topic("send-email")),
        (service("warehouse"), topic("send-text")),
        (topic("send-email"), service("email-service")),
        (topic("send-text"), service("sms-service")),
    ],
)


def test_the_shop_reads_left_to_right_with_the_warehouse_service_in_the_middle():
    result = layout(SHOP)
    column = {node: box.layer for node, box in result.boxes.items()}
    assert column[service("web-shop")] == 0
    assert column[topic("warehouse")] == 1
    assert column[service("warehouse")] == 2  # once, between what it reads and what it writes
    assert column[topic("send-email")] == column[topic("send-text")] == 3
    assert column[service("email-service")] == column[service("sms-service")] == 4
    chain = [service("web-shop"), topic("warehouse"), service("warehouse"), topic("send-email")]
    assert len({result.boxes[node].y for node in chain}) == 1  # the chain runs straight along one row


def test_services_sit_on_even_columns_and_topics_on_odd_ones():
    result = layout(random_topology(7))
    for node, box in result.boxes.items():
        assert box.layer % 2 == (1 if node[0] == "topic" else 0), node


def test_boxes_never_overlap_and_edges_end_at_an_arrow_next_to_their_target():
    result = layout(random_topology(3))
    boxes = list(result.boxes.values())
    for a, b in itertools.combinations(boxes, 2):
        apart = a.x + a.width <= b.x or b.x + b.width <= a.x or a.y + a.height <= b.y or b.y + b.height <= a.y
        assert apart, (a, b)
    for x, y, (_, target), glyph in result.arrows:
        box = result.boxes[target]
        assert y in box.port_rows
        if glyph == "▶":
            assert x == box.x - 1
        else:  # an edge closing a cycle points back, into the right side of its target
            assert (glyph, x) == ("◀", box.x + box.width)


def test_the_same_topology_always_gives_the_same_layout():
    first, second = layout(random_topology(5)), layout(random_topology(5))
    assert first.boxes == second.boxes
    assert first.segments == second.segments


def test_cycles_are_drawn_without_losing_an_edge():
    looped = Topology.build(
        services=["a", "b"],
        topics=["x", "y"],
        edges=[
            (service("a"), topic("x")),
            (topic("x"), service("b")),
            (service("b"), topic("y")),
            (topic("y"), service("a")),
        ],
    )
    result = layout(looped)
    assert set(result.boxes) == {service("a"), service("b"), topic("x"), topic("y")}
    drawn = {segment.edge for segment in result.segments}
    assert drawn == set(looped.edges)
    assert sorted(arrow.glyph for arrow in result.arrows) == ["▶", "▶", "▶", "◀"]


def test_a_service_that_reads_and_writes_the_same_topic_keeps_both_edges():
    retry = Topology.build(
        services=["worker"],
        topics=["jobs"],
        edges=[(service("worker"), topic("jobs")), (topic("jobs"), service("worker"))],
    )
    result = layout(retry)
    assert {segment.edge for segment in result.segments} == set(retry.edges)


def test_rows_are_indexed_for_drawing():
    result = layout(SHOP)
    row = result.boxes[service("web-shop")].port_rows[0]
    cells = result.cells(row)
    assert cells  # the edge out of web-shop runs along its name row
    assert result.box_at(result.boxes[topic("warehouse")].x + 1, row).node == topic("warehouse")
    assert result.box_at(0, result.height + 5) is None


def test_a_window_of_a_row_has_the_cells_of_the_whole_row_in_it():
    result = layout(random_topology(7))
    for y in range(result.height):
        whole = result.cells(y)
        for left in range(0, result.width, 37):
            window = result.cells(y, left, left + 50)
            assert window == {x: cell for x, cell in whole.items() if left <= x < left + 50}, (y, left)


def random_topology(seed: int) -> Topology:
    rng = random.Random(seed)
    services = [f"s{i}" for i in range(25)]
    topics = [f"t{i}" for i in range(40)]
    edges = set()
    for name in topics:
        edges.add((service(rng.choice(services)), topic(name)))
        for reader in rng.sample(services, rng.randint(0, 3)):
            edges.add((topic(name), service(reader)))
    return Topology.build(services, topics, edges)


def test_reordering_small_graphs_draws_fewer_crossings_than_the_sweeps_alone(monkeypatch):
    from tests.test_scope import realistic_whole

    whole = realistic_whole()
    ordered = layout(whole)
    monkeypatch.setattr("tui.view.layout.TRANSPOSE_UP_TO", 0)  # barycenter sweeps only, as on big graphs
    swept = layout(whole)
    assert ordered.crossings() < swept.crossings()
    saga = [("service", "payment-service"), ("topic", "payment-settled"), ("service", "shipping-service")]
    assert len({ordered.boxes[node].y for node in saga}) == 1  # the saga's steps read along one row


def test_boxes_without_lines_are_tiled_across_the_width_topics_first():
    flow = Topology.build([f"svc{i}-*" for i in range(7)], [f"domain{i}.*" for i in range(10)], [])
    tiled = layout_for(flow, 110, 30)
    boxes = list(tiled.boxes.values())
    assert {box.node for box in boxes} == flow.nodes and not tiled.segments
    assert max(box.x + box.width for box in boxes) <= 110
    cells = [(x, y) for box in boxes for x in range(box.x, box.x + box.width) for y in range(box.y, box.y + box.height)]
    assert len(cells) == len(set(cells))  # no two boxes overlap
    last_topic_row = max(box.y for box in boxes if box.node[0] == "topic")
    assert all(box.y > last_topic_row for box in boxes if box.node[0] == "service")
    assert sorted(node for column in tiled.layers for node in column) == sorted(flow.nodes)  # the arrows reach all
    assert len({box.y for box in boxes if box.node[0] == "topic"}) == 3  # ten topics, four to a row
