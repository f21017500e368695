"""What every observation source offers the session: a run loop feeding a sink, and its playback state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from flow.observations import Observation


class Sink(Protocol):
    """Where a source puts what it observes (the session, which owns the model)."""

    def apply(self, obs: Observation) -> None: ...

    def reset(self) -> None:
        """Forget the state so far: the source starts over (seek backwards, loop)."""

    def publish(self, force: bool = False) -> None:
        """A good moment to show the state; the sink rate-limits unless forced."""


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


class Source(Protocol):
    info: SourceInfo

    async def run(self, sink: Sink) -> None:
        """Feed observations into the sink until stopped (or, for a finite source, until done)."""

    def playback(self) -> PlaybackState | None:
        """Replay position and controls, or None for a live source."""
