"""The status bar (what tui/view/status.py says) and the caption line (a recording's notes)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from flow.sanitize import clean


class StatusBar(Static):
    """The top line: what is shown, from where, and in which state."""

    def show(self, status: Text) -> None:
        # One line, always: a new text needs no layout of the screen (Static.update would do one).
        self.update(status, layout=False)


class CaptionBar(Static):
    """A line shown while it has something to say: a recording's current note (for talks), or where the
    graph is (a focus, the overview)."""

    _note: str | None = None

    def __init__(self, *, marker: str = "▌ ", id: str | None = None) -> None:
        super().__init__(id=id)
        self._marker = marker

    def show(self, note: str | None) -> None:
        if note == self._note:
            return  # the same caption: nothing to lay out or draw
        self._note = note
        self.display = note is not None
        if note is not None:
            text = Text(self._marker, style="bold yellow")
            text.append(clean(note, 400))
            self.update(text)
