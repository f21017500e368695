"""Replay: plays an observation stream with its recorded timing scaled by a speed; pause, step, seek, loop.

Seeking backwards starts the stream again and folds up to the target as fast as possible: the model's
state is the fold of everything before, so there is no cheaper honest way back.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Iterator
from pathlib import Path

from adapters.files.open import open_file
from adapters.files.recording import BadLines, RecordingError, is_stream
from adapters.source import SPEEDS, Controls, PlaybackState, Sink, SourceInfo
from flow.observations import Observation

_YIELD_EVERY = 2000
"""Observations folded between two chances for controls to run while fast-forwarding."""

Clock = Callable[[], float]
Waiter = Callable[[asyncio.Event, float], Awaitable[bool]]


async def wait_for_event(event: asyncio.Event, timeout: float) -> bool:
    """True when the event was set before ``timeout`` seconds passed."""
    try:
        await asyncio.wait_for(event.wait(), timeout)
    except TimeoutError:
        return False
    return True


class Replay:
    """A replay of any re-openable observation stream (a recording file or a synthetic scenario).

    Its controls (:class:`adapters.source.PlaybackControls`) run on the session's loop (Session.call).
    """

    def __init__(
        self,
        open_stream: Callable[[], Iterable[Observation]],
        info: SourceInfo,
        *,
        speed: float = 1.0,
        loop: bool = False,
        paused: bool = False,
        span: tuple[int | None, int | None] = (None, None),
        start_at: int | None = None,
        clock: Clock = time.monotonic,
        waiter: Waiter = wait_for_event,
    ) -> None:
        self.info = info
        self._open = open_stream
        self._speed = speed
        self._loop = loop
        self._paused = paused
        self._start, self._end = span
        self._clock = clock
        self._waiter = waiter
        self._position: int | None = None
        self._recent: deque[int] = deque(maxlen=256)
        self._finished = False
        self._loops = 0
        self._seek_to: int | None = start_at
        self._steps = 0
        self._anchor: tuple[float, int] | None = None
        self._changed: asyncio.Event | None = None
        self._stream: Iterable[Observation] | None = None

    # -- controls: call them on the session's loop (Session.call) -------------------------------------

    @property
    def controls(self) -> Controls:
        return Controls(playback=self)

    def toggle_pause(self) -> None:
        self.set_paused(not self._paused)

    def set_paused(self, paused: bool) -> None:
        self._paused = paused
        self._anchor = None
        self._wake()

    def set_speed(self, speed: float) -> None:
        self._speed = speed
        self._anchor = None
        self._wake()

    def faster(self) -> None:
        self.set_speed(next((s for s in SPEEDS if s > self._speed), SPEEDS[-1]))

    def slower(self) -> None:
        self.set_speed(next((s for s in reversed(SPEEDS) if s < self._speed), SPEEDS[0]))

    def set_loop(self, loop: bool) -> None:
        self._loop = loop
        self._wake()

    def step(self, count: int = 1) -> None:
        """Pause, then play ``count`` more refreshes (negative: go back that many)."""
        self._paused = True
        if count >= 0:
            self._steps += count
        else:
            times = list(self._recent)
            back = min(-count, len(times) - 1)
            self._seek_to = times[-1 - back] if back > 0 else (self._start or 0)
        self._wake()

    def seek(self, t: int) -> None:
        """Show the state as of recording time ``t`` (clamped to the recording)."""
        self._seek_to = t
        self._wake()

    def seek_fraction(self, fraction: float) -> None:
        if self._start is not None and self._end is not None:
            self.seek(int(self._start + (self._end - self._start) * min(max(fraction, 0.0), 1.0)))

    def seek_start(self) -> None:
        self.seek(-1)

    def seek_end(self) -> None:
        self._paused = True
        self.seek(2**62)

    def playback(self) -> PlaybackState:
        return PlaybackState(
            position=self._position,
            start=self._start,
            end=self._end,
            speed=self._speed,
            paused=self._paused,
            loop=self._loop,
            finished=self._finished,
            loops=self._loops,
            skipped=stream.skipped if isinstance(stream := self._stream, BadLines) else 0,
            problem=stream.summary() if isinstance(stream, BadLines) else None,
        )

    def _wake(self) -> None:
        if self._changed is not None:
            self._changed.set()

    # -- the run loop -----------------------------------------------------------------------------------

    async def run(self, sink: Sink) -> None:
        self._changed = asyncio.Event()
        while True:
            restart = await self._play_once(sink)
            if restart:
                continue
            if self._loop and not self._paused:
                self._loops += 1
                continue
            # A finished replay waits paused at its end: play, step or seek starts it again.
            self._finished = True
            self._paused = True
            sink.publish(force=True)
            while self._seek_to is None and self._paused and self._steps == 0:
                self._changed.clear()
                await self._changed.wait()
                sink.publish(force=True)
            self._finished = False

    async def _play_once(self, sink: Sink) -> bool:
        """Play the stream from its start; True when a seek backwards asks for a fresh start."""
        sink.reset()
        self._position = None
        self._recent.clear()
        self._anchor = None
        stream = self._open()
        self._stream = stream
        folded = 0
        fast_until: int | None = None
        try:
            for batch in _batches(stream):
                t = batch[0].t
                if self._start is None or t < self._start:
                    self._start = t
                while True:
                    if self._seek_to is not None:
                        target, self._seek_to = self._seek_to, None
                        if self._position is not None and target < self._position:
                            self._seek_to = target
                            return True
                        fast_until = max(target, t)  # a target before the start shows the first instant
                    if fast_until is not None:
                        if t <= fast_until:
                            break
                        fast_until = None
                        self._anchor = None
                        sink.rebase()
                        sink.publish(force=True)
                    if await self._due(t):
                        break
                    sink.publish(force=True)  # a control changed something: show it even while paused
                for obs in batch:
                    sink.apply(obs)
                folded += len(batch)
                self._position = t
                self._recent.append(t)
                if self._end is None or t > self._end:
                    self._end = t
                if fast_until is None:
                    sink.publish(force=self._paused)
                elif folded >= _YIELD_EVERY:
                    folded = 0
                    sink.publish()
                    await asyncio.sleep(0)
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()
        if fast_until is not None:
            self._anchor = None
            sink.rebase()
        sink.publish(force=True)
        return False

    async def _due(self, t: int) -> bool:
        """Wait until the batch at ``t`` is due; False when a control changed the plan first."""
        assert self._changed is not None
        if self._steps > 0:
            self._steps -= 1
            self._anchor = None
            return True
        if self._paused:
            self._changed.clear()
            await self._changed.wait()
            return False
        if math.isinf(self._speed):
            await asyncio.sleep(0)
            return True
        now = self._clock()
        if self._anchor is None:
            self._anchor = (now, self._position if self._position is not None else t)
        wall, recorded = self._anchor
        delay = wall + (t - recorded) / 1000 / self._speed - now
        if delay <= 0:
            return True
        self._changed.clear()
        return not await self._waiter(self._changed, delay)


def _batches(stream: Iterable[Observation]) -> Iterator[list[Observation]]:
    """Consecutive observations with the same timestamp: one refresh of the source."""
    batch: list[Observation] = []
    for obs in stream:
        if batch and obs.t != batch[0].t:
            yield batch
            batch = []
        batch.append(obs)
    if batch:
        yield batch


def replay_file(
    path: str | Path,
    *,
    speed: float = 1.0,
    loop: bool = False,
    paused: bool = False,
    strict: bool = False,
    start_at: int | None = None,
) -> Replay:
    """A replay of a recording or a kcat ``-J`` dump; raises RecordingError at once if it cannot be read.

    Standard input and pipes are refused before they are opened: a replay goes back in its file to seek
    and loop, and the app reads the keyboard from the terminal.
    """
    if is_stream(path):
        raise RecordingError(
            f"{path}: replay needs a file it can go back in (to seek and to loop), not a pipe; "
            "save the stream to a file first, or use `flowscope report -`"
        )
    file = open_file(path, strict=strict)
    return Replay(file.read, file.info(), speed=speed, loop=loop, paused=paused, span=file.span(), start_at=start_at)
