"""What every observation source offers: a run loop feeding a sink, and the controls it declares.

A source says what a user can do with it through :class:`Controls`: play it back (a replay, the demo) or
watch it live (a cluster). The UI reads ``source.controls`` and never guesses; every control runs on the
session's loop (``Session.call``), never on the UI thread.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from pathlib import Path

    from adapters.files.recorder import Recorder
    from flow.observations import Observation, SourceState


SPEEDS: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, math.inf)
"""The speed ladder that + and - walk; inf is "as fast as possible"."""


def parse_speed(text: str) -> float:
    """`4`, `4x`, `0.25` or `max` -> a speed factor; raises ValueError with the accepted range."""
    cleaned = text.strip().lower()
    if cleaned in ("max", "inf", "fast"):
        return math.inf
    cleaned = cleaned.removesuffix("x")
    try:
        speed = float(cleaned)
    except ValueError:
        raise ValueError(f"speed {text!r} is not a number (use 0.25 to 64, or max)") from None
    if not SPEEDS[0] <= speed <= SPEEDS[-2]:
        raise ValueError(f"speed {text!r} is out of range (use 0.25 to 64, or max)")
    return speed


class Sink(Protocol):
    """Where a source puts what it observes (the session, which owns the model)."""

    def apply(self, obs: Observation) -> None: ...

    def reset(self) -> None:
        """Forget the state so far: the source starts over (seek backwards, loop)."""

    def publish(self, force: bool = False) -> None:
        """A good moment to show the state; the sink rate-limits unless forced."""

    def rebase(self) -> None:
        """A jump (a seek) lands here: what changed on the way is not news, the log of changes starts over."""


@dataclass(frozen=True, slots=True)
class ChapterState:
    """Which chapter of a story is playing (the tour), and what the app shows over the graph for it."""

    index: int
    count: int
    title: str
    view: str | None = None
    """"proposal": the proposal screen; None: the flow alone."""


@dataclass(frozen=True, slots=True)
class PlaybackState:
    """Where a replay is: its position in recording time, span, speed and mode."""

    position: int | None
    start: int | None
    end: int | None
    speed: float
    paused: bool
    loop: bool
    finished: bool
    loops: int = 0
    skipped: int = 0
    problem: str | None = None
    chapter: ChapterState | None = None

    @property
    def progress(self) -> float | None:
        if self.position is None or self.start is None or self.end is None or self.end <= self.start:
            return None
        return min(max((self.position - self.start) / (self.end - self.start), 0.0), 1.0)


@dataclass(frozen=True, slots=True)
class SourceInfo:
    kind: Literal["replay", "demo", "live", "import"]
    label: str
    """A file name, a scenario name or a cluster's bootstrap address (never credentials)."""
    detail: str = ""


class PlaybackControls(Protocol):
    """What a replay lets a user do: pause, step, seek, change speed, loop."""

    def playback(self) -> PlaybackState:
        """Where the replay is and how it plays."""

    def toggle_pause(self) -> None: ...

    def set_paused(self, paused: bool) -> None: ...

    def step(self, count: int) -> None:
        """Pause, then play ``count`` more refreshes (negative: go back that many)."""

    def seek(self, t: int) -> None:
        """Show the state as of recording time ``t`` (clamped to the recording)."""

    def seek_start(self) -> None: ...

    def seek_end(self) -> None: ...

    def set_speed(self, speed: float) -> None: ...

    def faster(self) -> None:
        """The next speed up the ladder (:data:`SPEEDS`)."""

    def slower(self) -> None: ...

    def set_loop(self, loop: bool) -> None: ...


class LiveControls(Protocol):
    """What a live source lets a user do: change how often it refreshes, and record what it sees."""

    state: SourceState | None
    """connected / reconnecting / lost, or None before the first attempt."""
    attempt: int
    """Reconnect attempts since the last refresh that worked."""

    @property
    def interval(self) -> float:
        """Seconds between refreshes."""

    def set_interval(self, seconds: float) -> None:
        """Refresh every ``seconds`` (the source clamps it to its range) from now on."""

    def shorter_interval(self) -> None:
        """Refresh more often: the next step down the source's ladder of intervals."""

    def longer_interval(self) -> None: ...

    def recorder(self, path: Path) -> Recorder:
        """A recorder of this source's observations into ``path`` (no payloads, secrets masked);
        raises RecorderError with a sentence when the file cannot be made."""


class ChapterControls(Protocol):
    """What a story in chapters lets a user do besides playing it back: move through it."""

    def next_chapter(self) -> None: ...

    def previous_chapter(self) -> None: ...

    def next_caption(self) -> None:
        """Jump to the chapter's next caption (past the last: the next chapter)."""

    def previous_caption(self) -> None: ...


class InterventionControls(Protocol):
    """What a demo lets a speaker change in the world it plays (adapters/scenarios/interventions.py)."""

    def add_audience(self, topic: str) -> None:
        """A new consumer group subscribes to ``topic`` and keeps up."""

    def stall(self, group: str) -> None:
        """``group`` stops committing: its lag grows."""

    def burst(self) -> None:
        """A burst of traffic on every topic for a while; readers keep up."""


@dataclass(frozen=True, slots=True)
class Controls:
    """What a source lets a user do: one of the two kinds of controls, or neither; a story in chapters
    adds chapter controls to its playback, and a demo the interventions."""

    playback: PlaybackControls | None = None
    live: LiveControls | None = None
    chapters: ChapterControls | None = None
    interventions: InterventionControls | None = None


class Source(Protocol):
    info: SourceInfo

    @property
    def controls(self) -> Controls:
        """What a user can do with this source."""

    async def run(self, sink: Sink) -> None:
        """Feed observations into the sink until stopped (or, for a finite source, until done)."""
