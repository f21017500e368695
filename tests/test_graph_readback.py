"""The graph never lies: read back as a person follows its lines, it shows every edge and no other."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.files.replay import Replay, replay_file
from adapters.scenarios.specs import realistic
from adapters.scenarios.synthetic import SyntheticOptions, synthetic
from adapters.source import SourceInfo
from tests.readback import drawn_edges, expected_edges, precision_recall
from tests.tui_support import START, at_position, drawn_graph
from tui.app import create_app
from tui.view.canvas import render_text
from tui.view.layout import Density, EdgeId, NodeId, Topology, layout_for
from tui.view.looks import NodeLook
from tui.view.projection import ViewFilter, build_view
from tui.view.scope import Scope

SIZES = [(100, 30), (200, 50)]


async def read_app(app, seconds: float, size: tuple[int, int]) -> tuple[set, set, list[str]]:
    async with app.run_test(size=size) as pilot:
        await at_position(app, seconds)
        lines = await drawn_graph(pilot)
        snapshot = app.frame.snapshot
        expected = expected_edges(snapshot)
        boxes = app.query_one("#graph").layout_shown.boxes
        nodes = {node for edge in expected for node in edge} | set(boxes)
        drawn, problems = drawn_edges(lines, nodes, {node: (box.x, box.y) for node, box in boxes.items()})
    return drawn, expected, problems + lines


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
@pytest.mark.parametrize(("recording", "seconds"), [("shop-commands", 110), ("shop-events", 110)])
async def test_the_shop_reads_back_as_it_is(recording, seconds, size):
    from tests.conftest import SAMPLES

    app = create_app(replay_file(SAMPLES / f"{recording}.jsonl", paused=True, start_at=START + seconds * 1000))
    drawn, expected, report = await read_app(app, seconds, size)
    assert precision_recall(drawn, expected) == (1.0, 1.0), "\n".join(report)


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
async def test_the_realistic_cluster_reads_back_as_it_is(size):
    spec, options = realistic(), SyntheticOptions(records_per_tick=50)
    replay = Replay(
        lambda: synthetic(spec, options), SourceInfo("demo", "realistic"), paused=True, start_at=START + 150_000
    )
    drawn, expected, report = await read_app(create_app(replay), 150, size)
    assert precision_recall(drawn, expected) == (1.0, 1.0), "\n".join(report)


@st.composite
def topologies(draw: st.DrawFn) -> Topology:
    """Up to about 60 boxes: services writing and reading topics at random, cycles included."""
    services = [f"s{i}" for i in range(draw(st.integers(1, 24)))]
    topics = [f"t{i}" for i in range(draw(st.integers(1, 36)))]
    edges: set[EdgeId] = set()
    for topic in topics:
        writers = draw(st.lists(st.sampled_from(services), max_size=3, unique=True))
        readers = draw(st.lists(st.sampled_from(services), max_size=4, unique=True))
        edges.update((("service", s), ("topic", topic)) for s in writers)
        edges.update((("topic", topic), ("service", s)) for s in readers)
    used = {node for edge in edges for node in edge}
    return Topology.build(
        (name for kind, name in used if kind == "service"), (name for kind, name in used if kind == "topic"), edges
    )


def read_topology(topology: Topology, size: tuple[int, int], density: Density | None = None) -> tuple[set, list[str]]:
    """The topology drawn as on a terminal of ``size`` (the status and key bars take three lines)."""
    width, height = size
    drawing = layout_for(topology, width, height - 3, density)
    looks = {node: NodeLook(node[1], "", "", "", "", "") for node in drawing.boxes}
    lines = render_text(drawing, looks)
    nodes: set[NodeId] = set(drawing.boxes)
    drawn, problems = drawn_edges(lines, nodes)
    return drawn, problems + lines


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(topology=topologies())
def test_random_topologies_read_back_as_they_are(topology, size):
    drawn, report = read_topology(topology, size)
    assert precision_recall(drawn, set(topology.edges)) == (1.0, 1.0), "\n".join(report)


@pytest.mark.parametrize("density", ["regular", "tight", "compact"])
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(topology=topologies())
def test_every_density_reads_back_as_it_is(topology, density):
    drawn, report = read_topology(topology, (100, 30), density)
    assert precision_recall(drawn, set(topology.edges)) == (1.0, 1.0), "\n".join(report)


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
def test_every_focus_and_the_overview_of_the_realistic_cluster_read_back(size):
    from tests.test_scope import realistic_folded

    snapshot = realistic_folded()
    whole = build_view(snapshot, ViewFilter()).whole
    scopes = [Scope(focus=node, hops=hops) for node in sorted(whole.nodes) for hops in (1, 2)]
    scopes.append(Scope(grouped=True))
    for scope in scopes:
        view = build_view(snapshot, ViewFilter(), scope)
        drawn, report = read_topology(view.topology, size)
        assert precision_recall(drawn, set(view.topology.edges)) == (1.0, 1.0), "\n".join([str(scope), *report])
