"""The proposal screen (P, `:proposal`): the event flow flowscope proposes for today's command flow.

It follows the flow as it moves (a live cluster, a replay), one proposal at a time; `:propose NAME`
names the fact topic of the proposal on screen. The words are in tui/view/proposal.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from flow.proposal import Proposal, propose
from tui.view.proposal import proposal_view

if TYPE_CHECKING:
    from textual.app import ComposeResult

    from flow.snapshot import FlowSnapshot
    from tui.app import FlowscopeApp

FOLLOW_SECONDS = 1.0


class ProposalScreen(ModalScreen[None]):
    BINDINGS: ClassVar = [
        Binding("escape,P,q", "dismiss", "Close", id="proposal.close"),
        Binding("left", "turn(-1)", "Previous proposal", id="proposal.previous"),
        Binding("right", "turn(1)", "Next proposal", id="proposal.next"),
    ]

    DEFAULT_CSS = """
    ProposalScreen { align: center middle; }
    ProposalScreen > VerticalScroll {
        width: 95%; height: auto; max-height: 95%;
        border: round $accent; background: $panel; padding: 1 2;
    }
    """

    def __init__(self, owner: FlowscopeApp) -> None:
        super().__init__()
        self._owner = owner
        self._proposals: tuple[Proposal, ...] = ()
        self._shown_for: FlowSnapshot | None = None

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(id="proposal-body")

    def on_mount(self) -> None:
        self.show()
        self.set_interval(FOLLOW_SECONDS, self.follow)

    def follow(self) -> None:
        frame = self._owner.frame
        if frame is not None and frame.snapshot is not self._shown_for:
            self.show()

    def show(self) -> None:
        """Work the proposals out again, off the UI loop: on a cluster of thousands of topics and a
        hundred findings that takes longer than a frame."""
        frame = self._owner.frame
        self._shown_for = frame.snapshot if frame is not None else None
        self._propose(self._shown_for, dict(self._owner.proposal_names))

    @work(thread=True, exclusive=True, group="proposal")
    def _propose(self, snapshot: FlowSnapshot | None, names: dict[str, str]) -> None:
        proposals = propose(snapshot, names) if snapshot is not None else ()
        self.app.call_from_thread(self._draw, proposals)

    def _draw(self, proposals: tuple[Proposal, ...]) -> None:
        if not self.is_attached:
            return  # dismissed while the proposals were worked out
        self._proposals = proposals
        owner = self._owner
        owner.proposal_index = min(owner.proposal_index, max(len(proposals) - 1, 0))
        shown = proposals[owner.proposal_index] if proposals else None
        body = proposal_view(shown, owner.proposal_index, len(proposals), self.app.size.width)
        self.query_one("#proposal-body", Static).update(body)

    def action_turn(self, step: int) -> None:
        if self._proposals:
            self._owner.proposal_index = (self._owner.proposal_index + step) % len(self._proposals)
            self._draw(self._proposals)
