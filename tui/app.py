"""The flowscope app: one factory for the CLI and the tests, the main screen, its keys and its handlers.

The session folds observations on its own thread and posts frames with their view already worked out
(tui/view/); handlers here hand that view to the widgets and change nothing else (STYLE 1, 3). What a
source lets the user do comes from ``source.controls``; the `:` commands are in tui/verbs.py; the
process-wide settings the app runs with are in adapters/runtime.py.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widgets import ContentSwitcher

from tui.changes import ChangesStrip
from tui.commands import EXIT_ERROR, EXIT_OK
from tui.details import DetailsPanel
from tui.graph import FlowGraph
from tui.help import HelpScreen
from tui.keybar import KeyBar
from tui.messages import FrameReady
from tui.prompt import Prompt
from tui.proposal import ProposalScreen
from tui.source_app import SourceApp
from tui.statusbar import CaptionBar, StatusBar
from tui.tables import FlowTable
from tui.verbs import VerbPalette, run_command, save_screenshot
from tui.view.changes import strip_height
from tui.view.layout import NodeId
from tui.view.projection import View, ViewFilter, build_view, rescoped
from tui.view.scope import Scope, starts_grouped
from tui.view.status import status_text
from tui.view.tables import GROUPS, SERVICES, TOPICS

if TYPE_CHECKING:
    # The app paints before these load: the session thread imports the data side (pydantic, the
    # readers, the model) while the first frame is already on screen.
    from adapters.files.recorder import Recorder
    from adapters.session import Frame
    from adapters.source import Source
    from flow.config import ModelConfig


class FlowscopeApp(SourceApp):
    """Producers -> topics -> consumer groups, live or replayed, with command topics flagged."""

    CSS_PATH = "app.tcss"
    TITLE = "flowscope"
    AUTO_FOCUS = "#graph"
    COMMANDS: ClassVar = SourceApp.COMMANDS | {VerbPalette}

    BINDINGS: ClassVar = [
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("question_mark", "help", "Help", key_display="?", id="app.help"),
        Binding("colon", "prompt('command')", "Command", key_display=":", id="app.command"),
        Binding("slash", "prompt('filter')", "Filter", key_display="/", id="app.filter"),
        Binding("escape", "back_out", "Back", show=False, id="app.back"),
        Binding("enter", "details", "Details", id="app.details"),
        Binding("1", "view('graph')", "Graph", show=False, id="app.view.graph"),
        Binding("2", "view('topics')", "Topics", show=False, id="app.view.topics"),
        Binding("3", "view('groups')", "Groups", show=False, id="app.view.groups"),
        Binding("4", "view('services')", "Services", show=False, id="app.view.services"),
        Binding("c", "toggle_commands", "Commands only", id="app.commands"),
        Binding("i", "toggle_internal", "Internal", show=False, id="app.internal"),
        Binding("space", "toggle_pause", "Pause", id="replay.pause"),
        Binding("plus,equals_sign", "tempo(1)", "Faster", key_display="+", id="app.faster"),
        Binding("minus", "tempo(-1)", "Slower", key_display="-", id="app.slower"),
        Binding("left_square_bracket", "step(-1)", "Step back", key_display="[", show=False, id="replay.back"),
        Binding("right_square_bracket", "step(1)", "Step", key_display="]", show=False, id="replay.step"),
        Binding("g", "seek_start", "Start", show=False, id="replay.start"),
        Binding("G", "seek_end", "End", show=False, id="replay.end"),
        Binding("ctrl+s", "save_screenshot", "Screenshot", show=False, id="app.screenshot"),
        Binding("r", "toggle_recording", "Record", id="live.record"),
        Binding("P", "proposal", "Proposal", show=False, id="app.proposal"),
        Binding("n", "chapter(1)", "Next chapter", id="tour.next"),
        Binding("N", "chapter(-1)", "Previous chapter", show=False, id="tour.previous"),
        Binding("right_parenthesis", "caption(1)", "Next caption", key_display=")", show=False, id="tour.caption"),
        Binding("left_parenthesis", "caption(-1)", "Previous caption", key_display="(", show=False, id="tour.back"),
        Binding("a", "add_audience", "Add audience", show=False, id="demo.audience"),
        Binding("x", "stall", "Stall consumer", show=False, id="demo.stall"),
        Binding("b", "burst", "Burst", show=False, id="demo.burst"),
    ]

    def __init__(
        self,
        source: Source | Callable[[], Source],
        *,
        config: ModelConfig | None = None,
        publish_interval: float = 0.25,
        recorder: Recorder | None = None,
    ) -> None:
        super().__init__(source, config=config, publish_interval=publish_interval, recorder=recorder)
        self.shown: View | None = None
        """What the views show now: the last frame under the current filter and scope."""
        self.view_filter = ViewFilter()
        self.scope = Scope()
        """What the graph shows (whole, a focus, the overview): the graph changes it, frames follow it."""
        self.view = "graph"
        self.selection: tuple[str, str] | None = None
        self.details_open = False
        self.frames_applied = 0
        self.proposal_names: dict[str, str] = {}
        """Fact topic names given with `:propose NAME`, by proposal key."""
        self.proposal_index = 0

    # -- composition and life cycle -------------------------------------------------------------------

    @property
    def _main(self) -> Screen[Any]:
        """The main screen, whatever is on top of it (help, palette): widgets are looked up there."""
        return self.screen_stack[0]

    def compose(self) -> ComposeResult:
        yield StatusBar(Text(" flowscope ", style="bold reverse") + Text("  starting…", style="dim"), id="status")
        yield CaptionBar(id="caption")
        yield CaptionBar(marker="» ", id="crumbs")
        with Horizontal(id="main"):
            with Vertical(id="left"):
                with ContentSwitcher(initial="graph", id="views"):
                    yield FlowGraph(id="graph")
                    yield FlowTable(TOPICS, id="topics")
                    yield FlowTable(GROUPS, id="groups")
                    yield FlowTable(SERVICES, id="services")
                yield ChangesStrip(id="changes")  # under the graph only: the details keep their height
            yield DetailsPanel(id="details")
        yield Prompt(id="prompt")
        yield KeyBar(id="keys")

    # -- frames ---------------------------------------------------------------------------------------

    def _frame_from_session(self, frame: Frame) -> None:
        """Runs on the session's thread: work out the view, then hand the frame over."""
        self.post_message(FrameReady(frame, build_view(frame.snapshot, self.view_filter, self.scope)))

    @on(FrameReady)
    def _apply_frame(self, message: FrameReady) -> None:
        if self.return_code is not None or not self.screen_stack:
            return  # a frame that arrived while the app shuts down
        previous, self.frame = self.frame, message.frame
        self._follow_chapter(previous, message.frame)
        # Else the filter or the graph's scope changed while the frame travelled: work the view out again.
        view: View | None = None
        if message.view.filter is self.view_filter:
            view = message.view if message.view.scope is self.scope else rescoped(message.view, self.scope)
        try:
            self.refresh_views(view)
        except NoMatches:
            return  # the widgets went first: the app is shutting down
        if self.frames_applied == 0:
            from adapters.runtime import freeze_long_lived

            self.refresh_bindings()  # the source's keys apply now that it is known
            freeze_long_lived()
            graph = self._main.query_one("#graph", FlowGraph)
            if starts_grouped(message.view.whole, graph.size.height or self.size.height):
                graph.zoom(Scope(grouped=True), remember=False)  # a big cluster opens on its overview
        self.frames_applied += 1
        if self.session is not None:
            self.session.acknowledge()

    def _follow_chapter(self, previous: Frame | None, frame: Frame) -> None:
        """A chapter of the tour that shows the proposal opens it, and the next chapter closes it."""
        before = previous.playback.chapter if previous is not None and previous.playback else None
        now = frame.playback.chapter if frame.playback else None
        if now == before:
            return
        if now is not None and now.view == "proposal":
            self.action_proposal()
        elif isinstance(self.screen, ProposalScreen):
            self.screen.dismiss()

    def refresh_views(self, view: View | None = None) -> None:
        """Show the last frame: its view as given, or worked out again under the current filter."""
        frame = self.frame
        if frame is None:
            return
        view = view or build_view(frame.snapshot, self.view_filter, self.scope)
        self.shown = view
        main = self._main
        with self.batch_update():
            main.query_one("#status", StatusBar).show(status_text(frame, recording=self.recordings.badge()))
            main.query_one("#caption", CaptionBar).show(frame.snapshot.note)
            main.query_one("#crumbs", CaptionBar).show(view.crumbs)
            main.query_one("#graph", FlowGraph).show(view.topology, view.looks, view.screens)
            main.query_one("#changes", ChangesStrip).show(frame.snapshot.changes)
            if self.view != "graph":
                self._table(self.view).show(view.rows(self.view))
            if self.details_open and self.selection is not None:
                main.query_one("#details", DetailsPanel).show(frame.snapshot, *self.selection)

    @on(FlowGraph.Measured)
    def _fit_changes(self) -> None:
        """Give the changes strip the rows the graph leaves empty below it, in the graph view only."""
        if not self.screen_stack:
            return  # the graph measured itself while the app shuts down
        main = self._main
        try:
            strip = main.query_one("#changes", ChangesStrip)
            graph = main.query_one("#graph", FlowGraph)
        except NoMatches:
            return  # the widgets went first: the app is shutting down
        layout = graph.layout_shown
        if self.view != "graph" or layout is None:
            strip.fit(0)
            return
        width, height = graph.size
        scroll_bar = 1 if layout.width > width else 0
        # The strip's rows are the graph's to take back: what the two share does not change as it moves.
        strip.fit(strip_height(height + strip.taken, layout.height + scroll_bar))

    def _table(self, view: str) -> FlowTable[Any]:
        return self._main.query_one(f"#{view}", FlowTable)

    # -- selection and details ------------------------------------------------------------------------

    @on(FlowGraph.Selected)
    def _graph_selected(self, message: FlowGraph.Selected) -> None:
        if message.node is not None:
            self._set_selection(*message.node)

    @on(FlowGraph.Zoomed)
    def _zoomed(self, message: FlowGraph.Zoomed) -> None:
        self.scope = message.scope
        shown, frame = self.shown, self.frame
        if shown is not None and frame is not None and shown.snapshot is frame.snapshot:
            self.refresh_views(rescoped(shown, self.scope))  # only the graph's scope changed
        else:
            self.refresh_views()

    @on(FlowGraph.Activated)
    def _graph_activated(self, message: FlowGraph.Activated) -> None:
        self._set_selection(*message.node)
        self.action_details(open_only=True)

    @on(FlowTable.Selected)
    def _table_selected(self, message: FlowTable.Selected) -> None:
        if message.name is not None:
            self._set_selection(message.kind, message.name)

    @on(FlowTable.Activated)
    def _table_row_entered(self, message: FlowTable.Activated) -> None:
        self._set_selection(message.kind, message.name)
        self.action_details(open_only=True)

    def _set_selection(self, kind: str, name: str) -> None:
        self.selection = (kind, name)
        if self.details_open and self.frame is not None:
            self._main.query_one("#details", DetailsPanel).show(self.frame.snapshot, kind, name)

    def action_details(self, open_only: bool = False) -> None:
        if self.selection is None and self.view == "graph":
            self._main.query_one("#graph", FlowGraph).action_move(0, 0)  # the first box, as an arrow key would
        if self.selection is None:
            self.notify("Nothing selected: move with the arrow keys first.", timeout=2)
            return
        panel = self._main.query_one("#details", DetailsPanel)
        self.details_open = True if open_only else not self.details_open
        panel.display = self.details_open
        if self.details_open and self.frame is not None:
            panel.show(self.frame.snapshot, *self.selection)

    def select(self, kind: str, name: str) -> None:
        """Select a topic, group or service by name in every view (palette and commands use this)."""
        self._set_selection(kind, name)
        if kind in ("topic", "service"):
            self._main.query_one("#graph", FlowGraph).select((kind, name))  # type: ignore[arg-type]
        self._table({"topic": "topics", "group": "groups", "service": "services"}[kind]).select_key(name)

    def go_to(self, kind: str, name: str) -> None:
        """The palette's jumps: focus on a topic, or on the service behind a consumer group, with details."""
        group = self.frame.snapshot.group(name) if kind == "group" and self.frame else None
        node: NodeId = ("service", group.service) if group else ("topic", name)
        self.action_view("graph")
        self._main.query_one("#graph", FlowGraph).focus_on(node)
        self.select(kind, name)
        self.action_details(open_only=True)

    # -- views, filters and the prompt ------------------------------------------------------------------

    def action_view(self, view: str) -> None:
        self.view = view
        self._main.query_one("#views", ContentSwitcher).current = view
        self._main.query_one(f"#{view}").focus()
        self._fit_changes()
        if view != "graph" and self.shown is not None:
            table = self._table(view)
            table.show(self.shown.rows(view))
            if self.selection:
                table.select_key(self.selection[1])

    def set_filter(self, view_filter: ViewFilter) -> None:
        self.view_filter = view_filter
        self.refresh_views()

    def action_toggle_commands(self) -> None:
        self.set_filter(replace(self.view_filter, commands_only=not self.view_filter.commands_only))
        state = "only command topics and their neighbours" if self.view_filter.commands_only else "all topics"
        self.notify(f"Showing {state}.", timeout=2)

    def action_toggle_internal(self) -> None:
        self.set_filter(replace(self.view_filter, show_internal=not self.view_filter.show_internal))
        self.notify("Internal topics " + ("shown." if self.view_filter.show_internal else "hidden."), timeout=2)

    def action_prompt(self, mode: str) -> None:
        prompt = self._main.query_one("#prompt", Prompt)
        prompt.open("filter", self.view_filter.text) if mode == "filter" else prompt.open("command")

    @on(Prompt.Entered)
    def _prompt_entered(self, message: Prompt.Entered) -> None:
        self._main.query_one(f"#{self.view}").focus()
        if message.mode == "filter":
            self.set_filter(replace(self.view_filter, text=message.value.strip()))
        else:
            run_command(self, message.value)

    def action_back_out(self) -> None:
        """Back out one level: the prompt, the details panel, the graph's last zoom, the filter, the view."""
        prompt = self._main.query_one("#prompt", Prompt)
        if prompt.is_open:
            prompt.close()
            self._main.query_one(f"#{self.view}").focus()
        elif self.details_open:
            self.details_open = False
            self._main.query_one("#details", DetailsPanel).display = False
        elif self.view == "graph" and self._main.query_one("#graph", FlowGraph).back():
            pass  # out of a focus or an opened group, back to where the graph was
        elif self.view_filter.text or self.view_filter.commands_only:
            self.set_filter(replace(self.view_filter, text="", commands_only=False))
        elif self.view != "graph":
            self.action_view("graph")

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self))

    def action_proposal(self) -> None:
        if isinstance(self.screen, ProposalScreen):
            self.screen.show()  # a new name for the fact, or the flow moved on
        else:
            self.push_screen(ProposalScreen(self))

    # -- interventions in the demo -----------------------------------------------------------------------

    def action_add_audience(self) -> None:
        """a: another consumer group subscribes to the selected topic."""
        if (interventions := self.controls.interventions) is None:
            return
        if self.selection is None or self.selection[0] != "topic":
            self.notify("Select a topic first (arrow keys), then press a to add an audience.", timeout=3)
            return
        self.call_source(interventions.add_audience, self.selection[1])

    def action_stall(self) -> None:
        """x: the selected consumer (its group, or every group of the selected service) stops committing."""
        if (interventions := self.controls.interventions) is None:
            return
        groups: tuple[str, ...] = ()
        if self.selection is not None and self.frame is not None:
            kind, name = self.selection
            service = next((s for s in self.frame.snapshot.services if s.name == name), None)
            groups = (name,) if kind == "group" else service.groups if service is not None else ()
        if not groups:
            self.notify("Select a consumer first (arrow keys), then press x to stall it.", timeout=3)
            return
        for group in groups:
            self.call_source(interventions.stall, group)

    def action_burst(self) -> None:
        """b: a burst of traffic on every topic."""
        if (interventions := self.controls.interventions) is not None:
            self.call_source(interventions.burst)

    def action_save_screenshot(self) -> None:
        save_screenshot(self)


def create_app(
    source: Source | Callable[[], Source],
    *,
    config: ModelConfig | None = None,
    publish_interval: float = 0.25,
    recorder: Recorder | None = None,
) -> FlowscopeApp:
    """The one way to build the app, shared by the CLI and the tests."""
    return FlowscopeApp(source, config=config, publish_interval=publish_interval, recorder=recorder)


def run_app(
    source: Source | Callable[[], Source],
    *,
    config: ModelConfig | None = None,
    recorder: Recorder | None = None,
) -> int:
    """Run the app in the terminal until the user quits; returns the exit code (see :func:`finish`)."""
    app = create_app(source, config=config, recorder=recorder)
    code = app.run()
    return finish(app, code)


def finish(app: FlowscopeApp, code: object = None) -> int:
    """The exit code of an app that has ended, with what the terminal should keep said on stderr: the
    recordings made while it ran (a write failure too: the view kept running), a source that stopped
    (exit 2) or skipped bad lines (a warning). A failure never exits 0."""
    for line in app.recordings.finished:
        print(f"flowscope: {line}", file=sys.stderr)
    if app.return_code:  # the app itself failed; Textual has printed what happened
        return EXIT_ERROR
    if app.session is not None and app.session.error:
        print(f"flowscope: the source stopped: {app.session.error}", file=sys.stderr)
        return EXIT_ERROR
    playback = app.frame.playback if app.frame is not None else None
    if playback is not None and playback.problem:
        print(f"flowscope: {playback.problem}", file=sys.stderr)
    return code if isinstance(code, int) else EXIT_OK
