"""The details panel: shows what tui/view/details.py says about the selection."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.containers import VerticalScroll
from textual.widgets import Static

from tui.view.details import render_selection

if TYPE_CHECKING:
    from flow.snapshot import FlowSnapshot


class DetailsPanel(VerticalScroll):
    """Shows the selection's details; the app decides what is selected."""

    DEFAULT_CSS = """
    DetailsPanel {
        width: 45%; min-width: 36; border-left: vkey $panel-lighten-2; padding: 0 1; scrollbar-gutter: stable;
    }
    DetailsPanel > Static { width: 1fr; }
    """

    def compose(self):  # type: ignore[no-untyped-def]
        yield Static(id="details-body")

    def show(self, snapshot: FlowSnapshot | None, kind: str | None, name: str | None) -> None:
        body = self.query_one("#details-body", Static)
        body.update(render_selection(snapshot, kind, name))
