"""Helpers for the UI tests: build the app at a fixed moment of a recording and read what it shows."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.segment import Segment
from textual.message import Message
from textual.notifications import Notify
from textual.pilot import Pilot

from adapters.files.replay import replay_file
from tests.waiting import wait_until_async
from tui.app import FlowscopeApp, create_app
from tui.graph import FlowGraph

START = 1_768_467_600_000  # where the bundled recordings begin


def app_at(recording: Path, seconds: float, **options: object) -> FlowscopeApp:
    """The app replaying ``recording``, paused ``seconds`` into it: the same picture every run."""
    source = replay_file(recording, loop=False, paused=True, start_at=START + int(seconds * 1000))
    return create_app(source, **options)


async def settle(app: FlowscopeApp, predicate: Callable[[FlowscopeApp], bool], timeout: float = 20.0) -> None:
    """Wait until ``predicate`` holds, letting the app handle its messages meanwhile."""
    await wait_until_async(
        lambda: predicate(app), "the app to show what the test waits for", timeout=timeout, interval=0.01
    )


def laid_out(app: FlowscopeApp) -> bool:
    """A frame is shown and the graph's layout is the one for it."""
    return app.frame is not None and app.query_one("#graph", FlowGraph).settled


async def at_position(app: FlowscopeApp, seconds: float) -> None:
    """Wait until the frame for that position has been applied and the graph is laid out."""
    target = START + int(seconds * 1000)

    def ready(app: FlowscopeApp) -> bool:
        frame = app.frame
        return frame is not None and frame.playback is not None and frame.playback.position == target and laid_out(app)

    await settle(app, ready)


async def shown_at(pilot: Pilot[Any], seconds: float) -> str:
    """Wait for the frame at that position of the recording, and return the whole screen as text."""
    await at_position(pilot.app, seconds)
    await pilot.pause()
    return screen_text(pilot.app)


async def shown_after(pilot: Pilot[Any], *keys: str) -> str:
    """Press ``keys``, let the app handle them, and return the whole screen as text."""
    await pilot.press(*keys)
    await pilot.pause()
    return screen_text(pilot.app)


async def step_to(pilot: Pilot[Any], seconds: int, every: int = 2) -> None:
    """Step a paused replay, one refresh (``every`` seconds) at a time, up to ``seconds`` into it: each step
    makes a snapshot, as playing at 1x would, and the same ones every run."""
    app = pilot.app
    assert app.frame is not None and app.frame.playback is not None and app.frame.playback.position is not None
    for position in range(app.frame.playback.position + every * 1000, START + seconds * 1000 + 1, every * 1000):
        await pilot.press("right_square_bracket")
        await settle(app, lambda a, p=position: a.frame is not None and a.frame.playback.position == p)
    await pilot.pause()


class Heard:
    """The messages an app was sent during a test: pass it as ``run_test(message_hook=...)``."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    def __call__(self, message: Message) -> None:
        self.messages.append(message)

    def notifications(self) -> list[str]:
        return [message.notification.message for message in self.messages if isinstance(message, Notify)]


def with_a_new_command_topic(directory: Path, recording: Path, seconds: int = 30) -> Path:
    """The demo ``recording`` with, from ``seconds`` in, a topic `send-push` that the warehouse writes (with
    the producer id it writes `send-email` with) and only `push-service` reads; written into ``directory``."""
    lines = recording.read_text().splitlines()
    at = START + seconds * 1000
    push: list[dict[str, Any]] = [
        {"kind": "end_offsets", "offsets": {"send-push": [40]}},
        {
            "kind": "group",
            "group": "push-service",
            "state": "Stable",
            "members": [
                {
                    "member_id": "push-service-1-0a",
                    "client_id": "push-service-1",
                    "host": "/10.0.3.10",
                    "assigned": {"send-push": [0]},
                    "subscribed": ["send-push"],
                }
            ],
        },
        {"kind": "commits", "group": "push-service", "offsets": {"send-push": [40]}},
        {"kind": "producers", "topic": "send-push", "partitions": {"0": [[4000, 0, 39, at]]}},
    ]
    out, added = [lines[0]], False
    for line in lines[1:]:
        obs = json.loads(line)
        if obs["t"] >= at:
            if obs["kind"] == "topics":
                obs["topics"].append({"name": "send-push", "partitions": 1})
                line = json.dumps(obs)
            if not added:
                out += [json.dumps({"t": obs["t"], **extra}) for extra in push]
                added = True
        out.append(line)
    path = directory / "shop-commands-push.jsonl"
    path.write_text("\n".join(out) + "\n")
    return path


# Textual has no public API for the composed screen's text, so these read its compositor.


def screen_segments(app: FlowscopeApp) -> list[Segment]:
    app.screen._compositor.full_map  # noqa: B018 - make sure the map is current
    return [segment for strip in app.screen._compositor.render_strips() for segment in strip]


def screen_text(app: FlowscopeApp) -> str:
    """The whole screen as plain text, one line per row."""
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(segment.text for segment in strip) for strip in strips)


def shows(*words: str) -> Callable[[FlowscopeApp], bool]:
    """A condition for :func:`settle`: every one of ``words`` is on the screen."""

    def shown(app: FlowscopeApp) -> bool:
        text = screen_text(app)
        return all(word in text for word in words)

    return shown


def widget_text(app: FlowscopeApp, selector: str) -> str:
    """What one widget shows on screen (its region of the rendered screen), as plain text."""
    region = app.query_one(selector).region
    strips = app.screen._compositor.render_strips()
    rows = strips[region.y : region.y + region.height]
    return "\n".join("".join(s.text for s in strip.crop(region.x, region.x + region.width)) for strip in rows)


async def drawn_graph(pilot: Pilot[Any]) -> list[str]:
    """The whole graph as its widget draws it at the app's size, scrolled over piece by piece."""
    graph = pilot.app.query_one("#graph", FlowGraph)
    layout = graph.layout_shown
    assert layout is not None
    width, height = graph.size
    canvas = [[" "] * layout.width for _ in range(layout.height)]
    for top in range(0, max(layout.height, 1), height):
        for left in range(0, max(layout.width, 1), width):
            graph.scroll_to(left, top, animate=False, force=True)
            await pilot.pause()
            scroll_x, scroll_y = graph.scroll_offset
            for y in range(height):
                x = scroll_x
                for segment in graph.render_line(y):
                    for char in segment.text:
                        if 0 <= scroll_y + y < layout.height and 0 <= x < layout.width:
                            canvas[scroll_y + y][x] = char
                        x += 1
    graph.scroll_to(0, 0, animate=False, force=True)
    return ["".join(row).rstrip() for row in canvas]
