"""What the changes strip under the graph shows: how many lines fit, and each change as one line of text.

The strip takes the room the graph leaves empty below it, never room the graph needs; like a log it
reads down in time, newest last (``tail -f``, k9s' log view), so the newest line sits at the bottom and
older ones scroll away upwards. Change texts quote cluster names: they are cleaned and built as Text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.text import Text

from flow.sanitize import clean
from tui.view.format import clock_text
from tui.view.marks import STATUS_MARKS

if TYPE_CHECKING:
    from flow.changes import Change

MIN_LINES = 2
"""Fewer lines of changes than this are not worth a strip: it stays hidden."""
MAX_LINES = 8
TITLE_LINES = 1
TEXT_LIMIT = 300

KIND_STYLES = {
    "start": "dim italic",
    "command_topic": "yellow",
    "new_finding": "bold",
    "group_recovered": "green",
    "group_gone": "dim",
    "topic_gone": "dim",
}


def strip_height(available: int, graph_height: int, max_lines: int = MAX_LINES) -> int:
    """The strip's height, title included, in ``available`` rows shared with a graph ``graph_height`` rows
    tall (scroll bar included); 0 when the graph leaves too little room."""
    lines = min(available - graph_height - TITLE_LINES, max_lines)
    return lines + TITLE_LINES if lines >= MIN_LINES else 0


def change_line(change: Change) -> Text:
    """One change: its time, then what happened, styled by kind (a group's by the status it went to)."""
    line = Text(clock_text(change.t), style="dim")
    line.append("  ")
    style = STATUS_MARKS[change.status].style if change.status is not None else KIND_STYLES.get(change.kind, "")
    line.append(clean(change.text, TEXT_LIMIT), style=style)
    return line


def changes_text(changes: Sequence[Change], lines: int) -> Text:
    """The newest ``lines`` changes, oldest first, one per line; a word when there are none yet."""
    if not changes:
        return Text("no changes yet: they are listed once the first moments have been seen", style="dim italic")
    text = Text("\n").join(change_line(change) for change in changes[-lines:] if lines > 0)
    text.no_wrap = True
    text.overflow = "ellipsis"
    return text
