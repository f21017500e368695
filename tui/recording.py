"""Recording from the live view: at most one file at a time, started and finished between two observations."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from textual.app import App

    from adapters.files.recorder import Recorder
    from adapters.session import Session
    from adapters.source import LiveControls
    from flow.snapshot import StatusView


class Recordings:
    """The recording under way (``live --record``, or the record key) and a line for each one finished,
    for the terminal once the app has quit (a write failure too: the live view kept running)."""

    def __init__(self, current: Recorder | None = None) -> None:
        self.current = current
        self.finished: list[str] = []

    def badge(self) -> str | None:
        """What the REC badge says, or None when nothing is being recorded."""
        return self.current.badge() if self.current is not None else None

    def toggle(self, app: App[Any], session: Session, live: LiveControls, status: StatusView | None) -> None:
        """The record key: finish the recording under way, or start one; either way, say so."""
        from adapters.files.recorder import RecorderError

        finished = self.finish(session)
        if finished is not None:
            app.notify(f"Recording finished: {finished.summary()}", timeout=6, markup=False)
            return
        try:
            recorder = self.start(session, live, status)
        except RecorderError as error:
            app.notify(str(error), title="Cannot record", severity="error", timeout=10, markup=False)
            return
        app.notify(f"Recording to {recorder.path} (no payloads). Press r again to finish.", timeout=6, markup=False)

    def start(self, session: Session, live: LiveControls, status: StatusView | None) -> Recorder:
        """Record to a new file in the current directory, no payloads; RecorderError with a sentence.
        ``status`` (the last frame's) is written first, so the file knows the source's state at once."""
        from adapters.files.recorder import attach

        recorder = live.recorder(Path.cwd() / f"flowscope-{time.strftime('%Y%m%d-%H%M%S')}.jsonl.gz")
        attach(session, recorder, status)
        self.current = recorder
        return recorder

    def finish(self, session: Session | None) -> Recorder | None:
        """Finish the recording under way, if any: no observation reaches it any more, the file is closed."""
        from adapters.files.recorder import detach

        recorder, self.current = self.current, None
        if recorder is None:
            return None
        if session is not None:
            detach(session, recorder)
        else:
            recorder.close()
        self.finished.append(recorder.error if recorder.error is not None else f"recorded {recorder.summary()}")
        return recorder
