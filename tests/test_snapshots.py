"""SVG snapshots of the main screens, from the bundled recordings paused at fixed moments.

Regenerate after an intended change with: .venv/bin/pytest tests/test_snapshots.py --snapshot-update
"""

from __future__ import annotations

from tests.conftest import SAMPLES
from tests.tui_support import app_at, at_position

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


def test_topics_table(snap_compare):
    app = app_at(SAMPLES / "shop-events.jsonl", 60)
    assert snap_compare(app, terminal_size=SIZE, run_before=_before(60, "2"))
