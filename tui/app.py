"""The flowscope app: one factory for the CLI and the tests, the main screen, keys and commands.

The session folds observations on its own thread and posts frames; handlers here only update widgets
(STYLE 1, 3). The graph layout runs in a worker thread and only when the topology changes.
"""

from __future__ import annotations

import asyncio
import gc
import math
import os
import re
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.command import Hit, Hits, Provider
from textual.containers import Horizontal
from textual.css.query import NoMatches
from textual.message import Message
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Input

from flow.sanitize import clean
from tui.details import DetailsPanel
from tui.format import parse_position
from tui.graph import FlowGraph, Looks, describe
from tui.help import HelpScreen
from tui.keybar import KeyBar
from tui.layout import GraphLayout, NodeId, Topology, layout
from tui.statusbar import CaptionBar, StatusBar, status_text
from tui.tables import FlowTable, GroupsTable, ServicesTable, TopicsTable

if TYPE_CHECKING:
    # The app paints before these load: the session thread imports the data side (pydantic, the
    # readers, the model) while the first frame is already on screen.
    from adapters.files.recorder import Recorder
    from adapters.session import Frame, Session
    from adapters.source import Source
    from flow.config import ModelConfig
    from flow.snapshot import FlowSnapshot


VIEWS = ("graph", "topics", "groups", "services")
VIEW_ALIASES = {
    "graph": "graph", "flow": "graph", "f": "graph",
    "topics": "topics", "topic": "topics", "t": "topics", "tp": "topics",
    "groups": "groups", "group": "groups", "g": "groups", "cg": "groups", "consumers": "groups",
    "services": "services", "service": "services", "producers": "services", "p": "services", "svc": "services",
}  # fmt: skip


class FrameReady(Message):
    """A new frame from the session; a newer one replaces it if both are waiting (latest wins).

    What can be derived without the UI (the filtered topology, the graph's box looks) is computed on
    the session's thread before posting, so the UI loop only updates widgets.
    """

    def __init__(
        self,
        frame: Frame,
        view_filter: ViewFilter | None = None,
        shown: Visible | None = None,
        looks: Looks | None = None,
    ) -> None:
        super().__init__()
        self.frame = frame
        self.view_filter = view_filter
        self.shown = shown
        self.looks = looks

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, FrameReady)


class SessionFailed(Message):
    """The source could not run: say so in one sentence."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class LayoutReady(Message):
    def __init__(self, result: GraphLayout) -> None:
        super().__init__()
        self.layout = result


@dataclass(frozen=True, slots=True)
class ViewFilter:
    """What the views show: a regex on names (``!`` inverts it), command topics only, internal topics."""

    text: str = ""
    commands_only: bool = False
    show_internal: bool = False

    @property
    def pattern(self) -> re.Pattern[str] | None:
        body = self.text[1:] if self.text.startswith("!") else self.text
        if not body:
            return None
        try:
            return re.compile(body, re.IGNORECASE)
        except re.error:
            return re.compile(re.escape(body), re.IGNORECASE)

    def matches(self, *names: str) -> bool:
        pattern = self.pattern
        if pattern is None:
            return True
        found = any(pattern.search(name) for name in names)
        return not found if self.text.startswith("!") else found


@dataclass(frozen=True, slots=True)
class Visible:
    """The names each view shows under a filter."""

    topics: frozenset[str]
    groups: frozenset[str]
    services: frozenset[str]
    topology: Topology


def visible(snapshot: FlowSnapshot, view_filter: ViewFilter) -> Visible:
    """Apply a filter to a snapshot: topics first, then the services and groups around them."""
    service_of = {group.id: group.service for group in snapshot.groups}
    neighbours: dict[str, set[str]] = {topic.name: set() for topic in snapshot.topics}
    for edge in snapshot.edges:
        if edge.kind == "produce":
            neighbours.setdefault(edge.target, set()).add(edge.source)
        else:
            neighbours.setdefault(edge.source, set()).add(service_of.get(edge.target, edge.target))
    topics = frozenset(
        topic.name
        for topic in snapshot.topics
        if (view_filter.show_internal or topic.kind != "internal")
        and (not view_filter.commands_only or topic.kind == "command")
        and view_filter.matches(topic.name, *neighbours.get(topic.name, ()))
    )
    edges: set[tuple[NodeId, NodeId]] = set()
    services: set[str] = set()
    for edge in snapshot.edges:
        if edge.kind == "produce" and edge.target in topics:
            edges.add((("service", edge.source), ("topic", edge.target)))
            services.add(edge.source)
        elif edge.kind == "consume" and edge.source in topics:
            service = service_of.get(edge.target, edge.target)
            edges.add((("topic", edge.source), ("service", service)))
            services.add(service)
    if view_filter.pattern is not None and not view_filter.commands_only:
        services |= {s.name for s in snapshot.services if view_filter.matches(s.name)}
    groups = frozenset(
        group.id
        for group in snapshot.groups
        if (group.service in services or view_filter.matches(group.id))
        and (not view_filter.commands_only or any(t in topics for t in group.topics))
    )
    return Visible(topics, groups, frozenset(services), Topology.build(services, topics, edges))


class FlowscopeCommands(Provider):
    """The command palette (ctrl+p): views, toggles, replay controls, and jumping to any topic or group."""

    async def search(self, query: str) -> Hits:
        app = self.app
        assert isinstance(app, FlowscopeApp)
        matcher = self.matcher(query)
        for title, help_text, callback in app.palette_commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help_text)


class FlowscopeApp(App[int]):
    """Producers -> topics -> consumer groups, live or replayed, with command topics flagged."""

    CSS_PATH = "app.tcss"
    TITLE = "flowscope"
    AUTO_FOCUS = "#graph"
    COMMANDS: ClassVar = App.COMMANDS | {FlowscopeCommands}

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
        Binding("plus,equals_sign", "faster", "Faster", key_display="+", id="app.faster"),
        Binding("minus", "slower", "Slower", key_display="-", id="app.slower"),
        Binding("left_square_bracket", "step(-1)", "Step back", key_display="[", show=False, id="replay.back"),
        Binding("right_square_bracket", "step(1)", "Step", key_display="]", show=False, id="replay.step"),
        Binding("g", "seek_start", "Start", show=False, id="replay.start"),
        Binding("G", "seek_end", "End", show=False, id="replay.end"),
        Binding("ctrl+s", "save_screenshot", "Screenshot", show=False, id="app.screenshot"),
        Binding("r", "toggle_recording", "Record", id="live.record"),
    ]

    def __init__(
        self,
        source: Source | Callable[[], Source],
        *,
        config: ModelConfig | None = None,
        publish_interval: float = 0.25,
        start_paused_at: int | None = None,
        recorder: Recorder | None = None,
    ) -> None:
        super().__init__()
        self.recorder = recorder
        self._runtime: tuple[float, tuple[int, int, int]] = (sys.getswitchinterval(), gc.get_threshold())
        self.finished_recordings: list[str] = []
        """One line per recording made during the app's life, for the terminal after it quits."""
        self._source = source
        self._config = config
        self._publish_interval = publish_interval
        self.session: Session | None = None
        self.frame: Frame | None = None
        self.view_filter = ViewFilter()
        self.view = "graph"
        self.selection: tuple[str, str] | None = None
        self.details_open = False
        self.shown: Visible | None = None
        self._laid_out: Topology | None = None
        self._layout_running = False
        self._updated = asyncio.Event()
        self._start_paused_at = start_paused_at
        self.frames_applied = 0

    # -- composition and life cycle -------------------------------------------------------------------

    @property
    def _main(self) -> Screen[Any]:
        """The main screen, whatever is on top of it (help, palette): widgets are looked up there."""
        return self.screen_stack[0]

    def compose(self) -> ComposeResult:
        yield StatusBar(Text(" flowscope ", style="bold reverse") + Text("  starting…", style="dim"), id="status")
        yield CaptionBar(id="caption")
        with Horizontal(id="main"):
            with ContentSwitcher(initial="graph", id="views"):
                yield FlowGraph(id="graph")
                yield TopicsTable(id="topics")
                yield GroupsTable(id="groups")
                yield ServicesTable(id="services")
            yield DetailsPanel(id="details")
        yield Input(id="prompt")
        yield KeyBar(id="keys")

    def on_mount(self) -> None:
        # The details, the prompt and the caption start hidden in app.tcss: hiding them here would
        # restyle the whole screen before its first frame.
        self._runtime = (sys.getswitchinterval(), gc.get_threshold())
        # The session folds on its own thread, flat out when a replay runs fast. A 1 ms switch interval
        # (5 ms by default) hands the GIL back to the UI loop sooner; full collections only every tenth
        # time they are due (the model holds millions of long-lived, acyclic objects, and a full pass
        # over them stalls both threads for a hundred milliseconds).
        sys.setswitchinterval(0.001)
        gc.set_threshold(700, 10, 100)
        self.call_after_refresh(self._start_session)

    def _start_session(self) -> None:
        """Start folding once the first frame is on screen (the session imports the data side)."""
        from adapters.session import Session

        if self._start_paused_at is not None:
            replay: Any = self._source
            replay.set_paused(True)
            replay.seek(self._start_paused_at)
        self.session = Session(
            self._source,
            self._frame_from_session,
            config=self._config,
            publish_interval=self._publish_interval,
            paced=True,
            on_error=self._error_from_session,
        )
        if self.recorder is not None:  # recording from the very first observation (live --record)
            self.session.set_tap(self.recorder.write)
        self.session.start()

    def _error_from_session(self, error: BaseException) -> None:
        """Runs on the session's thread."""
        self.post_message(SessionFailed(str(error) or type(error).__name__))

    @property
    def source(self) -> Any:
        """The running source (None until the session has made it)."""
        return self.session.source if self.session is not None else None

    def on_unmount(self) -> None:
        if self.session is not None:
            self.session.stop()
        interval, thresholds = self._runtime
        sys.setswitchinterval(interval)
        gc.set_threshold(*thresholds)
        if self.recorder is not None:
            self._finish_recording(self.recorder)

    @on(SessionFailed)
    def _session_failed(self, message: SessionFailed) -> None:
        self.notify(clean(message.text, 300), title="The source stopped", severity="error", timeout=30, markup=False)

    def _frame_from_session(self, frame: Frame) -> None:
        """Runs on the session's thread: prepare what does not need the UI, then hand the frame over."""
        view_filter = self.view_filter
        snapshot = frame.snapshot
        self.post_message(FrameReady(frame, view_filter, visible(snapshot, view_filter), describe(snapshot)))

    # -- frames ---------------------------------------------------------------------------------------

    @on(FrameReady)
    def _apply_frame(self, message: FrameReady) -> None:
        if self._closing or not self.screen_stack:
            return  # a frame that arrived while the app shuts down
        self.frame = message.frame
        current = message.view_filter is self.view_filter  # else the filter changed while it travelled
        try:
            self.refresh_views(message.shown if current else None, message.looks)
        except NoMatches:
            return  # the widgets went first: the app is shutting down
        if self.frames_applied == 0:
            self.refresh_bindings()  # replay keys apply now that the source is known
            gc.freeze()  # what start-up loaded lives as long as the app: keep it out of collections
        self.frames_applied += 1
        if self.session is not None:
            self.session.acknowledge()
        self._updated.set()

    def refresh_views(self, shown: Visible | None = None, looks: Looks | None = None) -> None:
        frame = self.frame
        if frame is None:
            return
        snapshot = frame.snapshot
        with self.batch_update():
            badge = self.recorder.badge() if self.recorder is not None else None
            status = status_text(frame, recording=badge, interval=self._live_interval())
            self._main.query_one("#status", StatusBar).show(status)
            self._main.query_one("#caption", CaptionBar).show(snapshot.note)
            shown = shown or visible(snapshot, self.view_filter)
            self.shown = shown
            if shown.topology != self._laid_out:
                self._laid_out = shown.topology
                if not self._layout_running:
                    self._layout_running = True
                    self._compute_layout(shown.topology)
            graph = self._main.query_one("#graph", FlowGraph)
            graph.set_looks(looks or describe(snapshot))
            if self.view != "graph":
                self._table(self.view).show(snapshot, self._keep(self.view))
            if self.details_open:
                kind, name = self.selection if self.selection else (None, None)
                self._main.query_one("#details", DetailsPanel).show(snapshot, kind, name)

    def _keep(self, view: str) -> Callable[[str], bool]:
        shown = self.shown
        if shown is None:
            return lambda name: True
        names = {"topics": shown.topics, "groups": shown.groups, "services": shown.services}[view]
        return names.__contains__

    def _table(self, view: str) -> FlowTable[Any]:
        return self._main.query_one(f"#{view}", FlowTable)

    # One layout at a time. While producers are being named the topology changes almost every frame;
    # a thread per change would leave several layouts competing for the GIL with the UI loop, each
    # finished only to be thrown away. A change that arrives meanwhile is laid out next, newest only.
    @work(thread=True, group="layout")
    def _compute_layout(self, topology: Topology) -> None:
        self.post_message(LayoutReady(layout(topology)))

    @on(LayoutReady)
    def _apply_layout(self, message: LayoutReady) -> None:
        graph = self._main.query_one("#graph", FlowGraph)
        if message.layout.topology != self._laid_out:
            if self._laid_out is not None:
                self._compute_layout(self._laid_out)  # the topology changed while this one was laid out
            if graph.layout_shown is not None:
                return
            # Nothing on screen yet: a layout a frame old beats an empty graph (new nodes are drawn
            # when the next one lands).
        else:
            self._layout_running = False
        graph.set_layout(message.layout)
        self._updated.set()
        if self.selection and self.selection[0] in ("topic", "service"):
            node: NodeId = (
                ("topic", self.selection[1]) if self.selection[0] == "topic" else ("service", self.selection[1])
            )
            if node in message.layout.boxes and graph.selected != node:
                graph.select(node)

    async def settle(self, predicate: Callable[[FlowscopeApp], bool], timeout: float = 20.0) -> None:
        """Wait until a frame or layout has been applied after which ``predicate`` holds (for tests)."""

        async def wait() -> None:
            while not predicate(self):
                self._updated.clear()
                await self._updated.wait()

        await asyncio.wait_for(wait(), timeout)

    # -- selection and details ------------------------------------------------------------------------

    @on(FlowGraph.Selected)
    def _graph_selected(self, message: FlowGraph.Selected) -> None:
        if message.node is not None:
            self._set_selection(message.node[0], message.node[1])

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
        panel = self._main.query_one("#details", DetailsPanel)
        if self.selection is None:
            graph = self._main.query_one("#graph", FlowGraph)
            if self.view == "graph" and graph.layout_shown and graph.layout_shown.layers:
                graph.action_move(0, 0)
            if self.selection is None:
                self.notify("Nothing selected: move with the arrow keys first.", timeout=2)
                return
        self.details_open = True if open_only else not self.details_open
        panel.display = self.details_open
        if self.details_open and self.frame is not None:
            kind, name = self.selection
            panel.show(self.frame.snapshot, kind, name)

    def select(self, kind: str, name: str) -> None:
        """Select a topic, group or service by name in every view (palette and commands use this)."""
        self._set_selection(kind, name)
        if kind in ("topic", "service"):
            self._main.query_one("#graph", FlowGraph).select((kind, name))  # type: ignore[arg-type]
        table_view = {"topic": "topics", "group": "groups", "service": "services"}[kind]
        self._table(table_view).select_key(name)

    # -- views and filters ----------------------------------------------------------------------------

    def action_view(self, view: str) -> None:
        self.view = view
        self._main.query_one("#views", ContentSwitcher).current = view
        widget = self._main.query_one(f"#{view}")
        widget.focus()
        if view != "graph" and self.frame is not None:
            table = self._table(view)
            table.show(self.frame.snapshot, self._keep(view))
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
        prompt = self._main.query_one("#prompt", Input)
        prompt.placeholder = (
            "filter names by regex (! inverts), enter to apply, esc to clear"
            if mode == "filter"
            else "command: graph topics groups producers commands internal speed 4 seek 01:30 help quit"
        )
        prompt.value = self.view_filter.text if mode == "filter" else ""
        prompt.border_title = "/" if mode == "filter" else ":"
        prompt.mode = mode  # type: ignore[attr-defined]
        prompt.display = True
        prompt.focus()

    @on(Input.Submitted, "#prompt")
    def _prompt_submitted(self, event: Input.Submitted) -> None:
        prompt = event.input
        prompt.display = False
        self._main.query_one(f"#{self.view}").focus()
        if getattr(prompt, "mode", "command") == "filter":
            self.set_filter(replace(self.view_filter, text=event.value.strip()))
        else:
            self.run_command(event.value)

    def action_back_out(self) -> None:
        """Back out one level: the prompt, then the details panel, then the filter, then the selection."""
        prompt = self._main.query_one("#prompt", Input)
        if prompt.display:
            prompt.display = False
            self._main.query_one(f"#{self.view}").focus()
        elif self.details_open:
            self.details_open = False
            self._main.query_one("#details", DetailsPanel).display = False
        elif self.view_filter.text or self.view_filter.commands_only:
            self.set_filter(replace(self.view_filter, text="", commands_only=False))
        elif self.view != "graph":
            self.action_view("graph")

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.key_help()))

    def key_help(self) -> list[tuple[str, str]]:
        return [
            (binding.key_display or binding.key, binding.description)
            for binding in self.BINDINGS
            if isinstance(binding, Binding) and self.check_action(binding.action, ()) is not False
        ]

    # -- replay and live controls ---------------------------------------------------------------------

    @property
    def is_replay(self) -> bool:
        return hasattr(self.source, "toggle_pause")

    def _live_interval(self) -> float | None:
        interval = getattr(self.source, "interval", None)
        return float(interval) if isinstance(interval, int | float) else None

    @property
    def is_live(self) -> bool:
        return hasattr(self.source, "settings")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("toggle_pause", "step", "seek_start", "seek_end"):
            return self.is_replay
        if action == "toggle_recording":
            return self.is_live
        return True

    def action_toggle_recording(self) -> None:
        """Start recording the live view to a new file in the current directory, or finish it."""
        from adapters.files.recorder import RecorderError, attach, live_recorder

        if self.session is None or not self.is_live:
            return
        if self.recorder is not None:
            recorder, self.recorder = self.recorder, None
            self._finish_recording(recorder)
            self.notify(f"Recording finished: {recorder.summary()}", timeout=6, markup=False)
            self.refresh_views()
            return
        path = Path.cwd() / f"flowscope-{time.strftime('%Y%m%d-%H%M%S')}.jsonl.gz"
        try:
            recorder = live_recorder(path, self.source.settings, payloads="none", interval=self._live_interval())
        except RecorderError as error:
            self.notify(str(error), title="Cannot record", severity="error", timeout=10, markup=False)
            return
        attach(self.session, recorder, self.frame.snapshot.status if self.frame else None)
        self.recorder = recorder
        self.notify(f"Recording to {path} (no payloads). Press r again to finish.", timeout=6, markup=False)
        self.refresh_views()

    def _finish_recording(self, recorder: Recorder) -> None:
        from adapters.files.recorder import detach

        if self.session is not None:
            detach(self.session, recorder)
        else:
            recorder.close()
        line = recorder.error if recorder.error is not None else f"recorded {recorder.summary()}"
        self.finished_recordings.append(line)

    def _control(self, name: str, *args: Any) -> None:
        method = getattr(self.source, name, None)
        if method is not None and self.session is not None:
            self.session.call(method, *args)

    def action_toggle_pause(self) -> None:
        self._control("toggle_pause")

    def action_step(self, count: int) -> None:
        self._control("step", count)

    def action_seek_start(self) -> None:
        self._control("seek_start")

    def action_seek_end(self) -> None:
        self._control("seek_end")

    def action_faster(self) -> None:
        if self.is_replay:
            self._control("faster")
        else:
            self._change_interval(0.5)

    def action_slower(self) -> None:
        if self.is_replay:
            self._control("slower")
        else:
            self._change_interval(2.0)

    def _change_interval(self, factor: float) -> None:
        interval = self._live_interval()
        if interval is not None:
            new = min(max(interval * factor, 0.5), 60.0)
            self._control("set_interval", new)
            self.notify(f"Refreshing every {new:g}s.", timeout=2)

    # -- commands -------------------------------------------------------------------------------------

    def run_command(self, text: str) -> None:
        """`:` commands, k9s style, with aliases."""
        words = text.strip().lstrip(":").split()
        if not words:
            return
        verb, rest = words[0].lower(), words[1:]
        if verb in VIEW_ALIASES:
            self.action_view(VIEW_ALIASES[verb])
        elif verb in ("commands", "command", "cmd", "c"):
            self.action_toggle_commands()
        elif verb in ("internal", "i"):
            self.action_toggle_internal()
        elif verb in ("speed", "s") and rest:
            self._command_speed(rest[0])
        elif verb in ("interval", "refresh") and rest:
            self._command_interval(rest[0])
        elif verb in ("seek", "goto") and rest:
            self._command_seek(rest[0])
        elif verb in ("pause", "play"):
            self._control("set_paused", verb == "pause")
        elif verb in ("filter", "f") and rest:
            self.set_filter(replace(self.view_filter, text=" ".join(rest)))
        elif verb in ("mermaid", "dot"):
            self.export_view(verb, rest[0] if rest else None)
        elif verb in ("help", "h", "?"):
            self.action_help()
        elif verb in ("quit", "q", "q!", "exit"):
            self.exit(0)
        else:
            self.notify(
                f"Unknown command {clean(verb, 40)!r}. Try graph, topics, groups, producers, commands, "
                "internal, speed 4, seek 01:30, help or quit.",
                severity="warning",
                markup=False,
            )

    def _command_speed(self, value: str) -> None:
        from adapters.source import parse_speed

        if not self.is_replay:
            self._command_interval(value)
            return
        try:
            speed = parse_speed(value)
        except ValueError as error:
            self.notify(str(error), severity="warning", markup=False)
            return
        self._control("set_speed", speed)
        self.notify(f"Speed {'max' if math.isinf(speed) else f'{speed:g}x'}.", timeout=2)

    def _command_interval(self, value: str) -> None:
        try:
            seconds = float(value.rstrip("s"))
        except ValueError:
            self.notify(f"{clean(value, 20)!r} is not a number of seconds.", severity="warning", markup=False)
            return
        self._control("set_interval", min(max(seconds, 0.5), 60.0))

    def _command_seek(self, value: str) -> None:
        if not self.is_replay:
            self.notify("Seeking needs a replay.", severity="warning")
            return
        try:
            offset = parse_position(value)
        except ValueError as error:
            self.notify(str(error), severity="warning", markup=False)
            return
        playback = self.frame.playback if self.frame else None
        start = playback.start if playback and playback.start is not None else 0
        self._control("seek", start + offset)

    # -- exports --------------------------------------------------------------------------------------------

    def action_save_screenshot(self) -> None:
        """Save what the screen shows as an SVG in the current directory."""
        name = f"flowscope-{time.strftime('%Y%m%d-%H%M%S')}.svg"
        try:
            path = self.save_screenshot(filename=name, path=os.getcwd())
        except OSError as error:
            self.notify(f"Could not save a screenshot: {error.strerror or error}", severity="error", markup=False)
            return
        self.notify(f"Screenshot saved: {path}", timeout=4, markup=False)

    def export_view(self, fmt: str, filename: str | None = None) -> Path | None:
        """Write the current view (filters applied) as a Mermaid flowchart or a Graphviz DOT graph."""
        if self.frame is None or self.shown is None:
            self.notify("Nothing to export yet.", severity="warning")
            return None
        from flow.export import renderer

        shown = self.shown
        snapshot = self.frame.snapshot.restricted(shown.topics, shown.groups, shown.services)
        text = renderer(fmt)(snapshot, self.frame.source.label)
        path = Path(filename or f"flowscope-view.{'mmd' if fmt == 'mermaid' else 'dot'}").expanduser()
        try:
            path.write_text(text, encoding="utf-8")
        except OSError as error:
            self.notify(f"Could not write {path}: {error.strerror or error}", severity="error", markup=False)
            return None
        self.notify(f"{fmt} of the current view written to {path}", timeout=4, markup=False)
        return path

    # -- command palette ------------------------------------------------------------------------------

    def palette_commands(self) -> Iterable[tuple[str, str, Callable[[], Any]]]:
        for view in VIEWS:
            yield f"Show {view}", f"switch to the {view} view", partial(self.action_view, view)
        yield (
            "Toggle command topics only",
            "only command topics and their neighbours",
            self.action_toggle_commands,
        )
        yield (
            "Toggle internal topics",
            "show or hide __consumer_offsets and friends",
            self.action_toggle_internal,
        )
        yield "Clear filter", "show everything again", lambda: self.set_filter(ViewFilter())
        yield "Save screenshot (SVG)", "ctrl+s", self.action_save_screenshot
        yield "Write the current view as Mermaid", ":mermaid FILE", partial(self.export_view, "mermaid")
        yield "Write the current view as Graphviz DOT", ":dot FILE", partial(self.export_view, "dot")
        if self.is_replay:
            yield "Pause or resume", "space", self.action_toggle_pause
            for speed in ("0.25", "1", "4", "16", "64", "max"):
                yield f"Speed {speed}", "replay speed", partial(self._command_speed, speed)
            yield "Jump to start", "g", self.action_seek_start
            yield "Jump to end", "G", self.action_seek_end
        if self.frame is not None:
            snapshot = self.frame.snapshot
            for topic in snapshot.topics:
                label = clean(topic.name, 80)
                yield f"Topic {label}", topic.kind, partial(self._go, "topic", topic.name)
            for group in snapshot.groups:
                yield (
                    f"Group {clean(group.id, 80)}",
                    group.status.value,
                    partial(self._go, "group", group.id),
                )

    def _go(self, kind: str, name: str) -> None:
        if kind == "group":
            self.action_view("groups")
        self.select(kind, name)
        self.action_details(open_only=True)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Help", "Keys and what the marks mean", self.action_help)


def create_app(
    source: Source | Callable[[], Source],
    *,
    config: ModelConfig | None = None,
    publish_interval: float = 0.25,
    start_paused_at: int | None = None,
    recorder: Recorder | None = None,
) -> FlowscopeApp:
    """The one way to build the app, shared by the CLI and the tests."""
    return FlowscopeApp(
        source,
        config=config,
        publish_interval=publish_interval,
        start_paused_at=start_paused_at,
        recorder=recorder,
    )


def run_app(
    source: Source | Callable[[], Source],
    *,
    config: ModelConfig | None = None,
    recorder: Recorder | None = None,
) -> int:
    """Run the app in the terminal until the user quits; returns the exit code. Recordings made while
    it ran are summed up on the terminal afterwards (a write failure too: the view kept running)."""
    app = create_app(source, config=config, recorder=recorder)
    code = app.run()
    for line in app.finished_recordings:
        print(f"flowscope: {line}", file=sys.stderr)
    return code if isinstance(code, int) else 0
