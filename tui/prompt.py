"""The prompt: one input line at the bottom for a `:` command or a `/` filter, as k9s has it."""

from __future__ import annotations

from typing import ClassVar, Literal

from textual import on
from textual.binding import Binding
from textual.message import Message
from textual.suggester import SuggestFromList
from textual.widgets import Input

from tui.verbs import VERBS

PromptMode = Literal["command", "filter"]

PLACEHOLDERS: dict[PromptMode, str] = {
    "command": "command: " + " ".join(verb.example for verb in VERBS) + "  (tab completes)",
    "filter": "filter names by regex (! inverts), enter to apply, esc to clear",
}


class Prompt(Input):
    """A `:` command or a `/` filter; hidden until opened, closed by enter or esc."""

    # Tab accepts the suggested completion, as the right arrow does at the end of the line.
    BINDINGS: ClassVar = [Binding("tab", "cursor_right", "Complete", show=False, id="prompt.complete")]

    class Entered(Message):
        """The user pressed enter: run this command or apply this filter."""

        def __init__(self, mode: PromptMode, value: str) -> None:
            super().__init__()
            self.mode = mode
            self.value = value

    def __init__(self, *, id: str | None = None) -> None:
        # Completion offers the verbs and their aliases; arguments are the user's.
        words = [name for verb in VERBS for name in (verb.name, *verb.aliases) if len(name) > 1]
        super().__init__(id=id, suggester=SuggestFromList(words, case_sensitive=False))
        self.mode: PromptMode = "command"

    def open(self, mode: PromptMode, value: str = "") -> None:
        self.mode = mode
        self.placeholder = PLACEHOLDERS[mode]
        self.border_title = ":" if mode == "command" else "/"
        self.value = value
        self.display = True
        self.focus()

    def close(self) -> None:
        self.display = False

    @property
    def is_open(self) -> bool:
        return bool(self.display)

    @on(Input.Submitted)
    def _entered(self, event: Input.Submitted) -> None:
        event.stop()
        self.close()
        self.post_message(self.Entered(self.mode, event.value))
