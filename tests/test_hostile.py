"""Hostile data stays inert: markup, terminal escapes, bidi tricks, invalid UTF-8, huge values and ids."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import pytest

from adapters.scenarios.hostile import GROUPS, TOPICS
from flow.observations import Blob
from flow.sanitize import clean, payload_text, terminal_safe
from tests.conftest import ROOT, SAMPLES
from tests.terminal import Terminal
from tests.tui_support import app_at, at_position, screen_segments, screen_text

HOSTILE = SAMPLES / "hostile.jsonl"
# Characters that must never reach the terminal from the data: C0 (tab aside), DEL, C1, bidi, zero-width.
FORBIDDEN = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]")


def test_the_sanitiser_makes_every_control_visible():
    shown = clean("a\x1b]0;t\x07b\x9b31m\u202eevil\x00\x7f\tz\nnext")
    assert FORBIDDEN.search(shown) is None
    assert shown == "a␛]0;t␇b<U+009B>31m<U+202E>evil␀␡ z␊next"
    assert clean("x" * 500, 10) == "x" * 10 + "…"
    assert clean("\udc80") == "\ufffd"
    assert payload_text(Blob.from_bytes(b"\xff\xfeok")) == "\\xff\\xfeok"
    assert payload_text(None) == "∅"
    assert clean("line1\nline2\x1b", multiline=True) == "line1\nline2␛"


def test_printed_output_escapes_what_a_terminal_would_act_on():
    assert terminal_safe('{"a": "x\x1b]0;t\x07\x9b\u202e"}') == '{"a": "x\\u001b]0;t\\u0007\\u009b\\u202e"}'
    assert terminal_safe("plain\ntext\twith tabs") == "plain\ntext\twith tabs"


async def visit_everything(pilot, app):
    """Show every view and the details of every hostile topic, group and service; yield after each."""
    snapshot = app.frame.snapshot
    for view in ("1", "2", "3", "4"):
        await pilot.press(view)
        await pilot.pause()
        yield f"view {view}"
    for kind, names in (
        ("topic", [topic.name for topic in snapshot.topics]),
        ("group", [group.id for group in snapshot.groups]),
        ("service", [service.name for service in snapshot.services]),
    ):
        for name in names:
            app.select(kind, name)
            app.action_details(open_only=True)
            await pilot.pause()
            yield f"{kind} {name[:40]!r}"


async def test_every_view_shows_hostile_items_without_a_single_control_character():
    app = app_at(
        HOSTILE,
        14,
    )
    async with app.run_test(size=(200, 60)) as pilot:
        await at_position(app, 14)
        await pilot.press("i")  # internal topics too
        seen = 0
        async for where in visit_everything(pilot, app):
            for segment in screen_segments(app):
                bad = FORBIDDEN.search(segment.text)
                assert bad is None, f"{where}: control character {bad.group()!r} in {segment.text!r}"
                style = segment.style
                if style is not None:
                    # Markup from the data would show up as a click action or a link on a segment.
                    assert "@click" not in str(style.meta), f"{where}: data became a click action"
                    assert not style.link, f"{where}: data became a link"
            seen += 1
        assert seen >= 4 + len(TOPICS) + len(GROUPS)
        assert app.is_running
        assert app.title == "flowscope"


async def test_hostile_text_is_shown_literally():
    app = app_at(HOSTILE, 14)
    async with app.run_test(size=(220, 60)) as pilot:
        await at_position(app, 14)
        app.select("topic", TOPICS["markup"])
        app.action_details(open_only=True)
        await pilot.pause()
        text = screen_text(app)
        assert "[@click=app.quit]quit[/]" in text  # markup shows as the characters it is made of
        assert "[bold red]RED[/]" in text
        assert "␛]0;pwned-title␇" in text  # the title sequence is visible, not executed
        assert "\\xff\\xfe bad" in text  # invalid UTF-8 shows as escaped bytes
        assert "Hostile note:" in text  # the caption too
        assert app.is_running


async def test_a_megabyte_value_and_a_ten_thousand_character_group_id_render_quickly():
    app = app_at(HOSTILE, 0)
    async with app.run_test(size=(200, 60)) as pilot:
        await at_position(app, 0)
        started = time.perf_counter()
        app.select("topic", TOPICS["markup"])
        app.action_details(open_only=True)
        await pilot.pause()
        assert "A" * 50 in screen_text(app)  # the megabyte value, cut for display
        await pilot.press("3")
        app.select("group", GROUPS["long"])
        await pilot.pause()
        assert "group-xxxx" in screen_text(app)
        assert time.perf_counter() - started < 5


@pytest.mark.skipif(sys.platform != "linux", reason="uses a Linux pty")
def test_a_real_terminal_gets_no_title_clipboard_or_c1_sequences_from_the_data():
    """Replay the hostile recording in a pseudo-terminal and read every byte flowscope writes."""
    flowscope = os.path.join(sys.prefix, "bin", "flowscope")
    terminal = Terminal("replay", str(HOSTILE), "--speed", "max", command=[flowscope], size=(40, 120))
    terminal.wait_for(b"  end")  # the status bar: the whole recording has been replayed
    terminal.wait_for(b"pwned")
    terminal.press(b"2")  # the topics table, then quit
    terminal.wait_for(b"Part.")  # its header
    assert terminal.quit(timeout=5) == 0, "flowscope did not quit cleanly"
    output = bytes(terminal.output)
    text = output.decode("utf-8")  # strict: no stray 8-bit bytes a terminal could take for C1 controls
    assert "pwned" in text  # the hostile text was on screen...
    for sequence in ("\x1b]0;", "\x1b]1;", "\x1b]2;", "\x1b]52;", "\x9b", "\x9d", "\x1b[2J\x1b[H"):
        assert sequence not in text, f"{sequence!r} reached the terminal"  # ...but never as a command
    assert "Traceback" not in text


def test_report_text_and_json_are_safe_to_print():
    for fmt in ("text", "json"):
        done = subprocess.run(
            [sys.executable, "-m", "tui.cli", "report", str(HOSTILE), "--format", fmt],
            capture_output=True,
            cwd=ROOT,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert FORBIDDEN.search(done.stdout.decode("utf-8").replace("\n", "")) is None, fmt
