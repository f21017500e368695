"""The help screen: the keys of the current mode and what the marks on the graph mean."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

LEGEND = (
    (
        "CMD·1",
        "bold black on yellow",
        "a command topic: exactly one consumer group reads it (an audience of one)",
    ),
    ("×3", "cyan", "an event topic and its number of audiences"),
    ("unread", "dim", "no consumer group reads it"),
    ("CHAIN", "bold black on red", "a service that receives commands and issues more commands"),
    ("━━▶", "bold", "a busy edge; ── a quieter one; ╌╌ an idle one"),
    ("lag 98 WARN", "yellow", "lag of a service's groups and its status: OK, WARN, STALL, STOP, REWIND"),
)
COMMANDS = (
    (":graph  :topics  :groups  :producers", "switch views (also 1-4)"),
    (":commands  :internal", "toggle command topics only, internal topics"),
    (":speed 4   :speed max", "replay speed (live: the refresh interval)"),
    (":seek 01:30", "jump to a position in a replay"),
    (":filter REGEX   /REGEX   /!REGEX", "show matching names; ! inverts"),
    (":mermaid FILE   :dot FILE", "write the current view as a diagram (ctrl+s: an SVG screenshot)"),
    (":help   :quit", ""),
)


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar = [Binding("escape,question_mark,q", "dismiss", "Close", id="help.close")]

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 90; max-width: 95%; height: auto; max-height: 90%;
        border: round $accent; background: $panel; padding: 1 2;
    }
    """

    def __init__(self, keys: list[tuple[str, str]]) -> None:
        super().__init__()
        self._keys = keys

    def compose(self) -> ComposeResult:
        keys = Table.grid(padding=(0, 2))
        keys.add_column(style="bold")
        keys.add_column()
        for key, description in self._keys:
            keys.add_row(Text(key), Text(description))
        keys.add_row(Text("ctrl+p"), Text("command palette: views, speeds, jump to any topic or group"))
        keys.add_row(Text("arrows, enter"), Text("move between boxes, open the details of the selection"))
        legend = Table.grid(padding=(0, 2))
        legend.add_column()
        legend.add_column()
        for mark, style, meaning in LEGEND:
            legend.add_row(Text(mark, style=style), Text(meaning))
        commands = Table.grid(padding=(0, 2))
        commands.add_column(style="bold")
        commands.add_column()
        for command, meaning in COMMANDS:
            commands.add_row(Text(command), Text(meaning))
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
            yield Static(Text("\nCommands", style="bold underline"))
            yield Static(commands)
            yield Static(Text("\nesc closes this screen", style="dim"))
