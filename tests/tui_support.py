"""Helpers for the UI tests: build the app at a fixed moment of a recording and read what it shows."""

from __future__ import annotations

from pathlib import Path

from rich.segment import Segment

from adapters.files.replay import replay_file
from tui.app import FlowscopeApp, create_app

START = 1_768_467_600_000  # where the bundled recordings begin


def app_at(recording: Path, seconds: float, **options: object) -> FlowscopeApp:
    """The app replaying ``recording``, paused ``seconds`` into it: the same picture every run."""
    source = replay_file(recording, loop=False)
    return create_app(source, start_paused_at=START + int(seconds * 1000), **options)  # type: ignore[arg-type]


async def at_position(app: FlowscopeApp, seconds: float) -> None:
    """Wait until the frame for that position has been applied and the graph is laid out."""
    target = START + int(seconds * 1000)

    def ready(app: FlowscopeApp) -> bool:
        frame = app.frame
        graph = app.query_one("#graph")
        return (
            frame is not None
            and frame.playback is not None
            and frame.playback.position == target
            and graph.layout_shown is not None  # type: ignore[attr-defined]
            and graph.layout_shown.topology == app._laid_out  # type: ignore[attr-defined]
        )

    await app.settle(ready)


def screen_segments(app: FlowscopeApp) -> list[Segment]:
    app.screen._compositor.full_map  # noqa: B018 - make sure the map is current
    return [segment for strip in app.screen._compositor.render_strips() for segment in strip]


def screen_text(app: FlowscopeApp) -> str:
    """The whole screen as plain text, one line per row."""
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(segment.text for segment in strip) for strip in strips)


def widget_text(app: FlowscopeApp, selector: str) -> str:
    """What one widget shows on screen (its region of the rendered screen), as plain text."""
    region = app.query_one(selector).region
    strips = app.screen._compositor.render_strips()
    rows = strips[region.y : region.y + region.height]
    return "\n".join("".join(s.text for s in strip.crop(region.x, region.x + region.width)) for strip in rows)


def notifications(app: FlowscopeApp) -> list[str]:
    return [notification.message for notification in app._notifications]
