"""The app's side that runs the source: the session thread, the source's controls and their keys.

SourceApp starts the session once the first frame is on screen, with the process-wide settings of
adapters/runtime.py, and stops it on the way out. Which keys apply (pause, step and seek a replay; the
refresh interval and recording of a live cluster) comes from what the source declares, ``source.controls``.
The app built on it (tui/app.py) draws the frames.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from typing import TYPE_CHECKING

from textual import on
from textual.app import App

from flow.sanitize import clean
from tui.messages import SessionFailed
from tui.recording import Recordings

if TYPE_CHECKING:
    from adapters.files.recorder import Recorder
    from adapters.session import Frame, Session
    from adapters.source import Controls, Source
    from flow.config import ModelConfig


class SourceApp(App[int]):
    """An app that runs one source on a session of its own and lets the user drive it."""

    # The keys for these actions are in the app's one table of bindings (tui/app.py).
    PLAYBACK_ACTIONS = frozenset({"toggle_pause", "step", "seek_start", "seek_end"})
    LIVE_ACTIONS = frozenset({"toggle_recording"})
    CHAPTER_ACTIONS = frozenset({"chapter", "caption"})
    INTERVENTION_ACTIONS = frozenset({"add_audience", "stall", "burst"})

    def __init__(
        self,
        source: Source | Callable[[], Source],
        *,
        config: ModelConfig | None = None,
        publish_interval: float = 0.25,
        recorder: Recorder | None = None,
    ) -> None:
        super().__init__()
        self._source = source
        self._config = config
        self._publish_interval = publish_interval
        self._runtime = ExitStack()
        self.recordings = Recordings(recorder)
        self.session: Session | None = None
        self.frame: Frame | None = None

    def on_mount(self) -> None:
        from adapters.runtime import interactive

        self._runtime.enter_context(interactive())
        self.call_after_refresh(self._start_session)

    def _start_session(self) -> None:
        """Start folding once the first frame is on screen (the session imports the data side)."""
        from adapters.session import Session

        self.session = Session(
            self._source,
            self._frame_from_session,
            config=self._config,
            publish_interval=self._publish_interval,
            paced=True,
            on_error=self._error_from_session,
        )
        if self.recordings.current is not None:  # recording from the very first observation (live --record)
            self.session.set_tap(self.recordings.current.write)
        self.session.start()

    def _error_from_session(self, error: BaseException) -> None:  # on the session's thread
        self.post_message(SessionFailed(str(error) or type(error).__name__))

    def on_unmount(self) -> None:
        if self.session is not None:
            self.session.stop()
        self._runtime.close()
        self.recordings.finish(self.session)

    @property
    def controls(self) -> Controls:
        """What the running source lets the user do (nothing until the session has made the source)."""
        from adapters.source import Controls

        source = self.session.source if self.session is not None else None
        return source.controls if source is not None else Controls()

    def call_source(self, control: Callable[..., object], *args: object) -> None:
        """Run a source control on the session's loop (controls are not thread-safe)."""
        if self.session is not None:
            self.session.call(control, *args)

    @on(SessionFailed)
    def _session_failed(self, message: SessionFailed) -> None:
        self.notify(clean(message.text, 300), title="The source stopped", severity="error", timeout=30, markup=False)

    # -- the source's keys: replay or live, as the source declares ------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        name = action.partition("(")[0]
        if name in self.PLAYBACK_ACTIONS:
            return self.controls.playback is not None
        if name in self.LIVE_ACTIONS:
            return self.controls.live is not None
        if name in self.CHAPTER_ACTIONS:
            return self.controls.chapters is not None
        if name in self.INTERVENTION_ACTIONS:
            return self.controls.interventions is not None
        return True

    def action_chapter(self, step: int) -> None:
        """n and N: the tour's next or previous chapter."""
        if (chapters := self.controls.chapters) is not None:
            self.call_source(chapters.next_chapter if step > 0 else chapters.previous_chapter)

    def action_caption(self, step: int) -> None:
        """) and (: the chapter's next or previous caption."""
        if (chapters := self.controls.chapters) is not None:
            self.call_source(chapters.next_caption if step > 0 else chapters.previous_caption)

    def action_toggle_pause(self) -> None:
        if (playback := self.controls.playback) is not None:
            self.call_source(playback.toggle_pause)

    def action_step(self, count: int) -> None:
        if (playback := self.controls.playback) is not None:
            self.call_source(playback.step, count)

    def action_seek_start(self) -> None:
        if (playback := self.controls.playback) is not None:
            self.call_source(playback.seek_start)

    def action_seek_end(self) -> None:
        if (playback := self.controls.playback) is not None:
            self.call_source(playback.seek_end)

    def action_tempo(self, step: int) -> None:
        """+ and -: a replay's speed, or how often a live source refreshes (the source's own ladder)."""
        playback, live = self.controls.playback, self.controls.live
        if playback is not None:
            self.call_source(playback.faster if step > 0 else playback.slower)
        elif live is not None:
            self.change_interval(live.shorter_interval if step > 0 else live.longer_interval)

    def change_interval(self, change: Callable[[], object]) -> None:
        """Change the live refresh interval on the session's loop, then say what it is now (the source clamps it)."""
        live = self.controls.live
        if live is not None and self.session is not None:
            self.session.call_wait(change)
            self.notify(f"Refreshing every {live.interval:g}s.", timeout=2)

    def action_toggle_recording(self) -> None:
        """Start recording the live view to a new file in the current directory, or finish it."""
        live = self.controls.live
        if self.session is not None and live is not None:
            self.recordings.toggle(self, self.session, live, self.frame.snapshot.status if self.frame else None)
            self.refresh_views()

    # -- what the app built on this draws ------------------------------------------------------------

    def _frame_from_session(self, frame: Frame) -> None:
        """A new frame, on the session's thread."""
        raise NotImplementedError

    def refresh_views(self) -> None:
        """Draw the last frame again (the REC badge changed)."""
        raise NotImplementedError
