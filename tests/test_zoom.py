"""Zooming the graph: a box's neighbourhood (f, enter), the overview of a big cluster (o), and back (esc)."""

from __future__ import annotations

import pytest

from adapters.files.replay import Replay
from adapters.scenarios.specs import large
from adapters.scenarios.synthetic import SyntheticOptions, synthetic
from adapters.source import SourceInfo
from tests.readback import drawn_edges, precision_recall
from tests.tui_support import (
    START,
    app_at,
    at_position,
    drawn_graph,
    screen_text,
    settle,
    shown_after,
    shown_at,
    widget_text,
)
from tui.app import create_app
from tui.graph import FlowGraph
from tui.view.scope import Scope

pytestmark = pytest.mark.asyncio

LARGE_AT = 30


def large_app():
    spec, options = large(), SyntheticOptions(records_per_tick=50)
    replay = Replay(
        lambda: synthetic(spec, options), SourceInfo("demo", "large"), paused=True, start_at=START + LARGE_AT * 1000
    )
    return create_app(replay)


async def read_back_shown(pilot) -> tuple[float, float]:
    """Precision and recall of the drawn graph against the topology the graph was asked to show."""
    graph = pilot.app.query_one("#graph", FlowGraph)
    lines = await drawn_graph(pilot)
    boxes = graph.layout_shown.boxes
    drawn, _ = drawn_edges(lines, set(boxes), {node: (box.x, box.y) for node, box in boxes.items()})
    return precision_recall(drawn, set(pilot.app.shown.topology.edges))


async def test_f_shows_a_neighbourhood_more_steps_widen_it_and_esc_goes_back(shop_commands):
    app = app_at(shop_commands, 60)
    async with app.run_test(size=(160, 40)) as pilot:
        whole = await shown_at(pilot, 60)
        assert "email-service" in whole and "» focus" not in whole
        await pilot.press("right", "right")  # the warehouse topic
        focused = await shown_after(pilot, "f")
        await settle(app, lambda app: app.query_one("#graph", FlowGraph).settled)
        focused = widget_text(app, "#graph")
        assert "focus: warehouse (topic), 2 steps" in widget_text(app, "#crumbs")
        assert "send-email" in focused and "email-service" not in focused
        assert await read_back_shown(pilot) == (1.0, 1.0)

        await pilot.press("greater_than_sign")
        await settle(app, lambda app: "email-service" in widget_text(app, "#graph"))
        assert "3 steps" in widget_text(app, "#crumbs")

        await pilot.press("escape")
        await settle(app, lambda app: app.shown.scope == Scope())
        assert not app.query_one("#crumbs").display
        assert app.selection == ("topic", "warehouse")  # the box chosen stays chosen on the way back


async def test_enter_focuses_and_opens_the_details(shop_commands):
    app = app_at(shop_commands, 60)
    async with app.run_test(size=(160, 40)) as pilot:
        await at_position(app, 60)
        await pilot.press("right", "right", "enter")
        await pilot.pause()
        assert app.scope.focus == ("topic", "warehouse")
        assert "Why it was flagged" in widget_text(app, "#details")
        await pilot.press("escape", "escape")  # the details first, then the focus
        await pilot.pause()
        assert app.scope == Scope() and not app.details_open


async def test_the_large_cluster_opens_on_the_overview_with_every_domains_commands_on_screen():
    app = large_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await at_position(app, LARGE_AT)
        await settle(app, lambda app: app.scope.grouped and app.query_one("#graph", FlowGraph).settled)
        await pilot.pause()
        screen = widget_text(app, "#graph")
        snapshot = app.frame.snapshot
        domains = {topic.name.split(".")[0] for topic in snapshot.topics if not topic.internal}
        for domain in domains:
            commands = sum(1 for t in snapshot.topics if t.name.startswith(f"{domain}.") and t.kind == "command")
            assert f"{domain}.*" in screen, domain
            assert f"{commands} CMD" in screen or f"{commands}C" in screen, (domain, commands)
        assert "overview:" in widget_text(app, "#crumbs")
        assert await read_back_shown(pilot) == (1.0, 1.0)


async def test_enter_opens_a_group_in_place_and_esc_closes_it():
    app = large_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await at_position(app, LARGE_AT)
        await settle(app, lambda app: app.scope.grouped)
        graph = app.query_one("#graph", FlowGraph)
        graph.select(("topic", "tax.*"))
        await pilot.press("enter")
        await settle(app, lambda app: ("topic", "tax.*") in app.shown.scope.expanded)
        tax = {name for kind, name in app.shown.topology.nodes if kind == "topic" and name.startswith("tax.")}
        assert len(tax) > 50 and ("topic", "billing.*") in app.shown.topology.nodes
        await pilot.press("escape")
        await settle(app, lambda app: not app.shown.scope.expanded)
        assert ("topic", "tax.*") in app.shown.topology.nodes


async def test_the_palette_reaches_a_topic_of_the_large_cluster_in_focus_in_three_keys():
    app = large_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await at_position(app, LARGE_AT)
        await settle(app, lambda app: app.scope.grouped)
        name = next(t.name for t in app.frame.snapshot.topics if t.kind == "command")
        await pilot.press("ctrl+p")
        await pilot.press(*name)  # typing the name is one key: the rest are ctrl+p and enter
        await settle(app, lambda app: "Topic " + name in screen_text(app))
        await pilot.press("enter")
        await settle(app, lambda app: app.shown.scope.focus == ("topic", name))
        await settle(app, lambda app: app.query_one("#graph", FlowGraph).settled)
        assert ("topic", name) in app.shown.topology.nodes
        assert app.selection == ("topic", name)
        assert await read_back_shown(pilot) == (1.0, 1.0)
