"""Messages the session's thread sends the app."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from adapters.session import Frame
    from tui.view.projection import View


class FrameReady(Message):
    """A new frame from the session with its view; a newer one replaces it if both wait (latest wins)."""

    def __init__(self, frame: Frame, view: View) -> None:
        super().__init__()
        self.frame = frame
        self.view = view

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, FrameReady)


class SessionFailed(Message):
    """The source could not run: say so in one sentence."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text
