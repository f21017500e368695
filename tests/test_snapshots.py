"""SVG snapshots of the main screens, from the bundled recordings paused at fixed moments.

Regenerate after an intended change with: .venv/bin/pytest tests/test_snapshots.py --snapshot-update
"""

from __future__ import annotations

from adapters.files.replay import Replay
from adapters.scenarios.specs import large, realistic
from adapters.scenarios.synthetic import SyntheticOptions, synthetic
from adapters.source import SourceInfo
from tests.conftest import SAMPLES
from tests.tui_support import START, app_at, at_position, screen_text, settle, step_to, with_a_new_command_topic
from tui.app import create_app
from tui.graph import FlowGraph

SIZE = (120, 36)


def _before(seconds: float, *keys: str):
    async def run_before(pilot) -> None:
        await at_position(pilot.app, seconds)
        if keys:
            await pilot.press(*keys)
        await pilot.pause()

    return run_before


def test_shop_commands_graph(snap_compare):
    app = app_at(SAMPLES / "shop-commands.jsonl", 60)
    assert snap_compare(app, terminal_size=SIZE, run_before=_before(60))


def test_shop_events_graph(snap_compare):
    app = app_at(SAMPLES / "shop-events.jsonl", 60)
    assert snap_compare(app, terminal_size=SIZE, run_before=_before(60))


def test_command_topic_details(snap_compare):
    app = app_at(SAMPLES / "shop-commands.jsonl", 60)
    assert snap_compare(app, terminal_size=(160, 44), run_before=_before(60, "right", "right", "enter"))


def test_groups_table_with_a_consumer_falling_behind(snap_compare):
    app = app_at(SAMPLES / "shop-commands.jsonl", 110)
    assert snap_compare(app, terminal_size=SIZE, run_before=_before(110, "3"))


def test_changes_strip_under_the_demo(snap_compare, tmp_path):
    """100x30, as a speaker's terminal: the strip tells a new command topic, its writer and a group going WARN."""
    recording = with_a_new_command_topic(tmp_path, SAMPLES / "shop-commands.jsonl")

    async def run_before(pilot) -> None:
        await at_position(pilot.app, 0)
        await step_to(pilot, 100)

    assert snap_compare(app_at(recording, 0), terminal_size=(100, 30), run_before=run_before)


def test_topics_table(snap_compare):
    app = app_at(SAMPLES / "shop-events.jsonl", 60)
    assert snap_compare(app, terminal_size=SIZE, run_before=_before(60, "2"))


def scenario_app(name: str, seconds: float):
    spec = {"realistic": realistic, "large": large}[name]()
    options = SyntheticOptions(records_per_tick=50)
    replay = Replay(
        lambda: synthetic(spec, options), SourceInfo("demo", name), paused=True, start_at=START + int(seconds * 1000)
    )
    return create_app(replay)


def test_realistic_saga_in_focus(snap_compare):
    async def run_before(pilot) -> None:
        await at_position(pilot.app, 150)
        pilot.app.query_one(FlowGraph).focus_on(("topic", "payment-settled"))
        await settle(pilot.app, lambda app: app.shown.scope.focus is not None and app.query_one(FlowGraph).settled)
        await pilot.pause()

    assert snap_compare(scenario_app("realistic", 150), terminal_size=(120, 36), run_before=run_before)


def test_large_cluster_overview(snap_compare):
    async def run_before(pilot) -> None:
        await at_position(pilot.app, 30)
        await settle(pilot.app, lambda app: app.shown.scope.grouped and app.query_one(FlowGraph).settled)
        await pilot.pause()

    assert snap_compare(scenario_app("large", 30), terminal_size=(120, 36), run_before=run_before)


def _proposal_drawn(seconds: float):
    async def run_before(pilot) -> None:
        await _before(seconds, "P")(pilot)
        await settle(pilot.app, lambda app: "Proposal 1 of 1" in screen_text(app))

    return run_before


def test_proposal_view_wide(snap_compare):
    app = app_at(SAMPLES / "shop-commands.jsonl", 60)
    assert snap_compare(app, terminal_size=SIZE, run_before=_proposal_drawn(60))


def test_proposal_view_narrow(snap_compare):
    app = app_at(SAMPLES / "shop-commands.jsonl", 60)
    assert snap_compare(app, terminal_size=(80, 40), run_before=_proposal_drawn(60))
