"""The session: runs a source and the FlowModel on their own thread and hands finished frames to the UI.

The UI never sees individual observations: the session folds them off the UI loop and publishes a
frame (snapshot + source state) at most every ``publish_interval`` seconds, latest wins.
"""

from __future__ import annotations

import asyncio
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from adapters.source import PlaybackState, Source, SourceInfo
from flow.snapshot import FlowSnapshot

if TYPE_CHECKING:
    from flow.config import ModelConfig
    from flow.model import FlowModel
    from flow.observations import Observation


@dataclass(frozen=True, slots=True)
class Frame:
    """Everything a view needs to draw one moment."""

    snapshot: FlowSnapshot
    source: SourceInfo
    playback: PlaybackState | None
    """Where a replay is; None for a live source."""
    interval: float | None = None
    """How often a live source refreshes; None for a replay."""
    error: str | None = None


class Session:
    """Owns one source and one model; all source controls run on the session's own event loop."""

    def __init__(
        self,
        source: Source | Callable[[], Source],
        on_frame: Callable[[Frame], None],
        *,
        config: ModelConfig | None = None,
        publish_interval: float = 0.25,
        on_error: Callable[[BaseException], None] | None = None,
        paced: bool = False,
    ) -> None:
        # A factory is called on the session's thread, like the model's creation: what they import
        # (pydantic, the recording reader) then loads while the UI is already on screen.
        self._make_source = None if hasattr(source, "run") else source
        self.source: Source | None = None if self._make_source else source  # type: ignore[assignment]
        self._config = config
        self.model: FlowModel | None = None
        self._on_frame = on_frame
        self._on_error = on_error
        self._interval = publish_interval
        self._last_publish = 0.0
        self._dirty = False
        self._unacknowledged = False
        self._paced = paced
        self._tap: Callable[[Observation], None] | None = None
        """When paced, a new frame waits until the receiver acknowledged the previous one."""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._task: asyncio.Task[None] | None = None
        self._ready = threading.Event()
        self.error: str | None = None
        self.snapshot_seconds = 0.0
        """Wall time spent building the last snapshot (shown by the benchmarks)."""

    # -- Sink -----------------------------------------------------------------------------------------

    def apply(self, obs: Observation) -> None:
        assert self.model is not None
        self.model.apply(obs)
        self._dirty = True
        tap = self._tap
        if tap is not None:
            tap(obs)

    def set_tap(self, tap: Callable[[Observation], None] | None) -> None:
        """Also hand every observation to ``tap`` (a recorder), on the session's thread; None stops it.

        Call it through :meth:`call` from another thread, so the change lands between two observations.
        """
        self._tap = tap

    def reset(self) -> None:
        assert self.model is not None
        self.model.reset()
        self._dirty = True

    def rebase(self) -> None:
        assert self.model is not None
        self.model.rebase_changes()
        self._dirty = True

    def publish(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and (not self._dirty or self._unacknowledged or now - self._last_publish < self._interval):
            return
        self._last_publish = now
        self._dirty = False
        self._unacknowledged = self._paced
        self._on_frame(self.frame())

    def acknowledge(self) -> None:
        """The UI has drawn the last frame: the next may come (frames never pile up behind a slow UI)."""
        self._unacknowledged = False

    def frame(self) -> Frame:
        assert self.model is not None
        assert self.source is not None
        started = time.perf_counter()
        snapshot = self.model.snapshot()
        self.snapshot_seconds = time.perf_counter() - started
        controls = self.source.controls
        playback = controls.playback.playback() if controls.playback is not None else None
        interval = controls.live.interval if controls.live is not None else None
        return Frame(snapshot, self.source.info, playback, interval, self.error)

    # -- running ----------------------------------------------------------------------------------------

    def start(self) -> None:
        """Run the source on a daemon thread with its own event loop."""
        self._thread = threading.Thread(target=self._run_thread, name="flowscope-session", daemon=True)
        self._thread.start()
        self._ready.wait()

    def _run_thread(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        self._task = loop.create_task(self._run())
        self._ready.set()
        try:
            loop.run_until_complete(self._task)
        except asyncio.CancelledError:
            pass
        finally:
            loop.close()

    async def _run(self) -> None:
        from flow.model import FlowModel

        self.model = FlowModel(self._config)
        try:
            if self.source is None:
                assert self._make_source is not None
                self.source = self._make_source()
            await self.source.run(self)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # the UI shows it as a sentence; the session stays inspectable
            self.error = str(error) or type(error).__name__
            if self._on_error is not None:
                self._on_error(error)
            else:
                traceback.print_exc()
        if self.source is not None:
            self.publish(force=True)

    def call(self, function: Callable[..., Any], *args: Any) -> None:
        """Run ``function(*args)`` on the session loop (source controls are not thread-safe)."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(function, *args)

    def call_wait(self, function: Callable[[], Any], timeout: float = 5.0) -> Any:
        """Run ``function`` on the session loop and wait for its result."""
        if self._loop is None:
            return function()
        future: Future[Any] = Future()

        def run() -> None:
            try:
                future.set_result(function())
            except Exception as error:
                future.set_exception(error)

        self._loop.call_soon_threadsafe(run)
        return future.result(timeout)

    def stop(self, timeout: float = 5.0) -> None:
        loop, task = self._loop, self._task
        if loop is not None and task is not None and not loop.is_closed():
            loop.call_soon_threadsafe(task.cancel)
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()
