"""The help screen: the keys of the current mode, what the marks mean (tui/view/marks.py), the `:` commands."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.graph import FlowGraph
from tui.verbs import VERBS
from tui.view.marks import LEGEND

GRAPH_HELP = {
    "activate": "focus on the selected box and show its details; on an overview group, open it in place",
    "focus_selected": "focus: the selected box's neighbourhood, laid out on its own",
    "hops(-1)": "fewer steps up and down the flow in focus",
    "hops(1)": "more steps up and down the flow in focus",
    "overview": "overview: boxes grouped by the first part of their names (a big cluster opens on it)",
    "toggle_compact": "one-line boxes, and back (chosen by itself when framed ones do not fit)",
}
"""What the graph's keys do, in more words than the key bar has room for; esc goes back out of each."""


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar = [Binding("escape,question_mark,q", "dismiss", "Close", id="help.close")]

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 90; max-width: 95%; height: auto; max-height: 90%;
        border: round $accent; background: $panel; padding: 1 2;
    }
    """

    def __init__(self, app: App[Any]) -> None:
        super().__init__()
        # The keys that work now: a live view has no step keys, a replay no record key.
        self._keys = [
            (binding.key_display or binding.key, binding.description)
            for binding in app.BINDINGS
            if isinstance(binding, Binding) and app.check_action(binding.action, ()) is not False
        ]

    def compose(self) -> ComposeResult:
        keys = Table.grid(padding=(0, 2))
        keys.add_column(style="bold")
        keys.add_column()
        for key, description in self._keys:
            keys.add_row(Text(key), Text(description))
        keys.add_row(Text("ctrl+p"), Text("command palette: views, speeds, jump to any topic or group"))
        keys.add_row(Text("arrows"), Text("move between boxes (graph) or rows (tables)"))
        graph_keys = Table.grid(padding=(0, 2))
        graph_keys.add_column(style="bold")
        graph_keys.add_column()
        for binding in FlowGraph.BINDINGS:
            if isinstance(binding, Binding) and binding.action in GRAPH_HELP:
                graph_keys.add_row(Text(binding.key_display or binding.key), Text(GRAPH_HELP[binding.action]))
        legend = Table.grid(padding=(0, 2))
        legend.add_column()
        legend.add_column()
        for mark, style, meaning in LEGEND:
            legend.add_row(Text(mark, style=style), Text(meaning))
        commands = Table.grid(padding=(0, 2))
        commands.add_column(style="bold")
        commands.add_column()
        for verb in VERBS:
            aliases = "  " + " ".join(f":{alias}" for alias in verb.aliases) if verb.aliases else ""
            commands.add_row(Text(verb.usage + aliases), Text(verb.help))
        with VerticalScroll():
            yield Static(Text("flowscope: producers → topics → consumer groups", style="bold"))
            yield Static(
                Text(
                    "A topic with a single audience is a flag, not an error: the writer decided who acts. "
                    "An event is a fact any number of services may react to.",
                    style="italic",
                )
            )
            yield Static(Text("\nMarks", style="bold underline"))
            yield Static(legend)
            yield Static(Text("\nKeys", style="bold underline"))
            yield Static(keys)
            yield Static(Text("\nIn the graph", style="bold underline"))
            yield Static(graph_keys)
            yield Static(Text("\nCommands", style="bold underline"))
            yield Static(commands)
            yield Static(Text("\nesc closes this screen", style="dim"))
