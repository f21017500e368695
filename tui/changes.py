"""The changes strip: the rolling log of notable changes (flow/changes.py), below the graph when it has room."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import Static

from tui.view.changes import TITLE_LINES, changes_text

if TYPE_CHECKING:
    from flow.changes import Change


class ChangesStrip(Static):
    """The newest changes, newest last, each with its time; the app sizes it (:meth:`fit`) to the room the
    graph leaves, and hides it when there is none."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "changes"
        self._changes: tuple[Change, ...] | None = None
        self._height = 0

    @property
    def taken(self) -> int:
        """The rows it takes, title included (0 while hidden)."""
        return self._height

    @property
    def lines(self) -> int:
        """How many changes it shows now (0 while hidden)."""
        return max(self._height - TITLE_LINES, 0)

    def show(self, changes: tuple[Change, ...]) -> None:
        # A snapshot hands over the log's own tuple, the same object until something changed: most frames
        # cost one comparison.
        if changes is self._changes:
            return
        self._changes = changes
        self._draw()

    def fit(self, height: int) -> None:
        """Take ``height`` rows, title included; 0 hides the strip."""
        if height == self._height:
            return
        self._height = height
        self.display = height > 0
        if height > 0:
            self.styles.height = height
            self._draw()

    def _draw(self) -> None:
        if self._changes is not None and self._height > 0:
            # As many lines as the strip has, each cut to one row: a new text needs no layout of the screen.
            self.update(changes_text(self._changes, self.lines), layout=False)
