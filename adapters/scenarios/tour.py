"""The tour: the seed's whole story in one loop, as chapters — the command design, flowscope's proposal for
it, then the event design. What `flowscope` alone plays.

Each chapter is a replay of a bundled recording with a fresh model (the event design is another
cluster, not the first one changed); the tour plays them one after another and starts over. Its
playback controls act on the chapter playing, and it adds chapter and caption jumps.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from functools import cache

from adapters.files.open import open_file
from adapters.files.replay import Replay
from adapters.scenarios.demo import bundled_recording
from adapters.scenarios.interventions import Interventions
from adapters.source import ChapterState, Controls, PlaybackState, Sink, SourceInfo
from flow.observations import (
    CommitsObs,
    EndOffsetsObs,
    GroupObs,
    NoteObs,
    Observation,
    ProducersObs,
    RecordObs,
    TopicsObs,
)

TOUR_SPEED = 1.5
"""Three minutes of each design at 1.5x: the whole loop in about four and a half minutes."""
_POLL_SECONDS = 0.2


@dataclass(frozen=True, slots=True)
class Chapter:
    title: str
    recording: str
    view: str | None = None
    """What the app shows over the graph for this chapter ("proposal"), or None."""
    from_s: float = 0.0
    """Where in the recording the chapter starts."""
    captions: tuple[tuple[float, str], ...] = ()
    """Captions of the tour's own, at seconds from the recording's start."""
    retold: tuple[tuple[str, str], ...] = ()
    """(old, new) rewrites of the recording's captions: a pointer to a command becomes the next chapter."""
    revealed: tuple[float, tuple[str, ...]] | None = None
    """(seconds, topics): topics kept out of sight until their caption brings them in, so the story
    shows them appear (a new topic, a new command topic, a new writer and group) when it tells of them."""


CHAPTERS = (
    Chapter(
        "the command design",
        "shop-commands",
        retold=(("Next: flowscope demo --scenario shop-events", "Next: flowscope's proposal for this design"),),
        revealed=(44.0, ("send-email", "send-text")),
    ),
    Chapter(
        "flowscope's proposal",
        "shop-commands",
        view="proposal",
        from_s=150.0,
        captions=(
            (
                150.0,
                "flowscope's proposal: web-shop records one fact; every service that acted on a command subscribes.",
            ),
            (165.0, "warehouse stops coordinating email and SMS. Next: the event design, as it runs."),
        ),
    ),
    Chapter("the event design", "shop-events"),
)


class Tour:
    """Chapters played in a loop; the controls of :class:`adapters.source.PlaybackControls` act on the
    chapter playing, and ``next_chapter``/``previous_chapter``/``next_caption``/``previous_caption`` move
    through the story."""

    def __init__(self, chapters: tuple[Chapter, ...] = CHAPTERS, *, speed: float = TOUR_SPEED) -> None:
        self.info = SourceInfo("demo", "tour", "the shop's story: command design, proposal, event design")
        self._chapters = chapters
        self._index = 0
        self._loops = 0
        self._speed = speed
        self._jump: asyncio.Event | None = None
        self._interventions = Interventions()
        self._current = self._replay(chapters[0])

    @property
    def controls(self) -> Controls:
        return Controls(playback=self, chapters=self, interventions=self)

    # -- interventions: on the chapter playing, forgotten when another starts ------------------------------

    def add_audience(self, topic: str) -> None:
        self._interventions.add_audience(topic)

    def stall(self, group: str) -> None:
        self._interventions.stall(group)

    def burst(self) -> None:
        self._interventions.burst()

    # -- the story ------------------------------------------------------------------------------------------

    def _replay(self, chapter: Chapter) -> Replay:
        file = open_file(bundled_recording(chapter.recording))
        start, end = file.span()
        begin = None if start is None else start + int(chapter.from_s * 1000)
        interventions = self._interventions = Interventions()

        def observations() -> Iterator[Observation]:
            return interventions.applied(_told(file.read(), chapter, start or 0))

        return Replay(
            observations, self.info, speed=self._speed, span=(start, end), start_at=begin if chapter.from_s else None
        )

    async def run(self, sink: Sink) -> None:
        self._jump = asyncio.Event()
        while True:
            replay = self._current
            playing = asyncio.create_task(replay.run(sink))
            try:
                jumped = await self._until_done(replay)
            finally:
                playing.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await playing
            if not jumped:
                self._index = (self._index + 1) % len(self._chapters)
                self._loops += self._index == 0
            self._speed = replay.playback().speed
            self._current = self._replay(self._chapters[self._index])

    async def _until_done(self, replay: Replay) -> bool:
        """Wait for the chapter to play to its end (False) or for a jump to another chapter (True)."""
        assert self._jump is not None
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._jump.wait(), _POLL_SECONDS)
            if self._jump.is_set():
                self._jump.clear()
                return True
            state = replay.playback()
            if state.finished:
                return False

    # -- chapter controls -------------------------------------------------------------------------------------

    def next_chapter(self) -> None:
        self._go(self._index + 1)

    def previous_chapter(self) -> None:
        self._go(self._index - 1)

    def _go(self, index: int) -> None:
        self._index = index % len(self._chapters)
        if self._jump is not None:
            self._jump.set()

    def next_caption(self) -> None:
        self._seek_caption(after=True)

    def previous_caption(self) -> None:
        self._seek_caption(after=False)

    def _seek_caption(self, *, after: bool) -> None:
        """The next caption of the chapter (after), or the one before the caption on screen."""
        state = self._current.playback()
        times = sorted(
            t for t in _caption_times(self._chapters[self._index]) if state.start is None or t >= state.start
        )
        position = state.position or 0
        if after:
            target = next((t for t in times if t > position), None)
        else:
            earlier = [t for t in times if t <= position]
            target = earlier[-2] if len(earlier) > 1 else (earlier[0] if earlier else None)
        if target is None:
            if after:
                self.next_chapter()
            return
        self._current.seek(target)

    # -- playback controls: the chapter playing ---------------------------------------------------------------

    def playback(self) -> PlaybackState:
        chapter = self._chapters[self._index]
        state = self._current.playback()
        return replace(
            state,
            loop=True,
            finished=False,
            loops=self._loops,
            chapter=ChapterState(self._index, len(self._chapters), chapter.title, chapter.view),
        )

    def toggle_pause(self) -> None:
        self._current.toggle_pause()

    def set_paused(self, paused: bool) -> None:
        self._current.set_paused(paused)

    def step(self, count: int) -> None:
        self._current.step(count)

    def seek(self, t: int) -> None:
        self._current.seek(t)

    def seek_start(self) -> None:
        self._current.seek_start()

    def seek_end(self) -> None:
        self._current.seek_end()

    def set_speed(self, speed: float) -> None:
        self._current.set_speed(speed)

    def faster(self) -> None:
        self._current.faster()

    def slower(self) -> None:
        self._current.slower()

    def set_loop(self, loop: bool) -> None:
        """The tour always starts over; a chapter never loops on its own."""


@cache
def _caption_times(chapter: Chapter) -> tuple[int, ...]:
    """When the chapter's captions come, read once per chapter: the bundled recordings do not change."""
    file = open_file(bundled_recording(chapter.recording))
    start = file.span()[0] or 0
    first = start + int(chapter.from_s * 1000)
    return tuple(obs.t for obs in _told(file.read(), chapter, start) if isinstance(obs, NoteObs) and obs.t >= first)


def _told(stream: Iterable[Observation], chapter: Chapter, start: int) -> Iterator[Observation]:
    """The recording as the chapter tells it: its captions retold, the tour's own captions added, and
    the topics it reveals later left out until then."""
    extra = sorted((start + int(seconds * 1000), text) for seconds, text in chapter.captions)
    hidden: frozenset[str] = frozenset(chapter.revealed[1]) if chapter.revealed else frozenset()
    revealed_at = start + int(chapter.revealed[0] * 1000) if chapter.revealed else 0
    for obs in stream:
        while extra and extra[0][0] <= obs.t:
            t, text = extra.pop(0)
            yield NoteObs(t=t, text=text)
        if isinstance(obs, NoteObs) and chapter.retold:
            obs = replace(obs, text=_retold(obs.text, chapter))
        if hidden and obs.t < revealed_at:
            kept = _without(obs, hidden)
            if kept is not None:
                yield kept
        else:
            yield obs
    yield from (NoteObs(t=t, text=text) for t, text in extra)


def _without(obs: Observation, hidden: frozenset[str]) -> Observation | None:
    """The observation with ``hidden`` topics left out; None when nothing else is left of it."""
    if isinstance(obs, ProducersObs | RecordObs):
        return None if obs.topic in hidden else obs
    if isinstance(obs, TopicsObs):
        return replace(obs, topics=tuple(info for info in obs.topics if info.name not in hidden))
    if isinstance(obs, EndOffsetsObs):
        return replace(obs, offsets={name: ends for name, ends in obs.offsets.items() if name not in hidden})
    if isinstance(obs, CommitsObs):
        offsets = {name: committed for name, committed in obs.offsets.items() if name not in hidden}
        return replace(obs, offsets=offsets) if offsets else None
    if isinstance(obs, GroupObs):
        read = {name for member in obs.members for name in (*member.assigned, *member.subscribed)}
        return None if read and read <= hidden else obs
    return obs


def _retold(text: str, chapter: Chapter) -> str:
    for old, new in chapter.retold:
        text = text.replace(old, new)
    return text
