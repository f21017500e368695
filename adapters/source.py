"""What every observation source offers the session: a run loop feeding a sink, and its playback state."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from flow.observations import Observation


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
