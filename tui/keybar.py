"""The key bar: the keys valid now, on the bottom line, as k9s and btop show them.

Textual's Footer builds a widget per key and rebuilds them all whenever the bindings change (focus,
mode); each new key restyles itself, which delayed flowscope's first frame noticeably. This bar is one
line of text, drawn again when the bindings change; a click on a key runs its action.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import events
from textual.widgets import Static

if TYPE_CHECKING:
    from textual.dom import DOMNode
    from textual.screen import Screen


class KeyBar(Static):
    COMPONENT_CLASSES: ClassVar[set[str]] = {"key-bar--key", "key-bar--disabled"}
    DEFAULT_CSS = """
    KeyBar { dock: bottom; height: 1; background: $panel; color: $text-muted; }
    KeyBar > .key-bar--key { color: $accent; text-style: bold; }
    KeyBar > .key-bar--disabled { color: $text-disabled; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._targets: list[tuple[int, int, str, DOMNode]] = []
        """Where each key is drawn: start and end column, its action and the node that runs it."""

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._bindings_changed(self.screen)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[Any]) -> None:
        if screen is not self.screen:
            return
        text = Text(no_wrap=True, overflow="ellipsis")
        targets: list[tuple[int, int, str, DOMNode]] = []
        key_style = self.get_component_rich_style("key-bar--key", partial=True)
        disabled_style = self.get_component_rich_style("key-bar--disabled", partial=True)
        shown: set[str] = set()
        palette = self.app.COMMAND_PALETTE_BINDING
        bindings = list(screen.active_bindings.items())
        # The command palette's key goes last, as in Textual's footer.
        bindings.sort(key=lambda item: item[0] == palette)
        for key, (node, binding, enabled, _) in bindings:
            if not (binding.show or key == palette) or binding.action in shown:
                continue  # one entry per action, whatever number of keys run it
            shown.add(binding.action)
            start = len(text)
            text.append(f" {self.app.get_key_display(binding)} ", key_style if enabled else disabled_style)
            text.append(f"{binding.description or 'palette'} ", None if enabled else disabled_style)
            if enabled:
                targets.append((start, len(text), binding.action, node))
        self._targets = targets
        self.update(text, layout=False)

    async def on_click(self, event: events.Click) -> None:
        for start, end, action, node in self._targets:
            if start <= event.x < end:
                event.stop()
                await self.app.run_action(action, node)
                return
