"""Live interventions in the demo: change the played world while it plays, for speakers (and for fun).

An intervention rewrites the observation stream from the moment it is made, so what the model folds,
what a recording of the session keeps and what a replay of it shows are the same ordinary
observations: a new consumer group with its commits, a group whose commits stop, more traffic.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace

from flow.observations import CommitsObs, EndOffsetsObs, GroupObs, Member, NoteObs, Observation

BURST_SECONDS = 20
BURST_FACTOR = 5
"""A burst writes this many times the usual traffic (the extra on every topic, and its readers keep up)."""


@dataclass(slots=True)
class Interventions:
    """What the user asked for so far; :meth:`applied` applies it to a stream (each replay opens one)."""

    audiences: dict[str, str] = field(default_factory=dict)
    """Topic to the group added to read it."""
    stalled: set[str] = field(default_factory=set)
    burst_requested: bool = False
    _pending: list[str] = field(default_factory=list)
    """Captions saying what was just done, shown at the next instant."""

    # -- what the keys ask for (on the session's loop) ---------------------------------------------------

    def add_audience(self, topic: str) -> None:
        if topic not in self.audiences:
            self.audiences[topic] = f"{topic}-listener"
            self._pending.append(f"Intervention: `{topic}-listener` subscribes to `{topic}`, another audience.")

    def stall(self, group: str) -> None:
        if group not in self.stalled:
            self.stalled.add(group)
            self._pending.append(f"Intervention: `{group}` stalls: its commits stop moving, and its lag grows.")

    def burst(self) -> None:
        self.burst_requested = True
        self._pending.append(f"Intervention: a traffic burst, {BURST_FACTOR}x for {BURST_SECONDS} s.")

    # -- the stream -------------------------------------------------------------------------------------------

    def applied(self, stream: Iterable[Observation]) -> Iterator[Observation]:
        """The stream with every intervention made so far, and those made while it plays, applied."""
        extra: dict[str, list[int]] = {}
        """Records a burst added per topic partition, so far: the log-end offsets move on by that much."""
        burst_until: int | None = None
        last_end: dict[str, tuple[int, ...]] = {}
        last_commits: dict[str, dict[str, tuple[int | None, ...]]] = {}
        frozen: dict[str, dict[str, tuple[int | None, ...]]] = {}
        """A stalled group's commits as they were when it stalled."""
        for obs in stream:
            t = obs.t
            while self._pending:
                yield NoteObs(t=t, text=self._pending.pop(0), duration_ms=8000)
            if self.burst_requested:
                self.burst_requested = False
                burst_until = t + BURST_SECONDS * 1000
            if isinstance(obs, EndOffsetsObs):
                obs = self._grown(obs, extra, last_end, burst=burst_until is not None and t <= burst_until)
                last_end = dict(obs.offsets)
                yield obs
                yield from self._audience_observations(t, last_end)
            elif isinstance(obs, CommitsObs):
                if obs.group in self.stalled:
                    # What a live view sees of a stuck consumer: the same committed offsets, refresh after refresh.
                    obs = replace(obs, offsets=frozen.setdefault(obs.group, last_commits.get(obs.group, obs.offsets)))
                else:
                    obs = self._moved_on(obs, extra)
                    last_commits[obs.group] = obs.offsets
                yield obs
            else:
                yield obs

    def _grown(
        self, obs: EndOffsetsObs, extra: dict[str, list[int]], last: dict[str, tuple[int, ...]], *, burst: bool
    ) -> EndOffsetsObs:
        if burst:
            for name, ends in obs.offsets.items():
                before = last.get(name)
                added = extra.setdefault(name, [0] * len(ends))
                added.extend([0] * (len(ends) - len(added)))
                for p, end in enumerate(ends):
                    grown = end - before[p] if before is not None and p < len(before) else 0
                    added[p] += max(grown, 0) * (BURST_FACTOR - 1)
        if not extra:
            return obs
        offsets = {
            name: tuple(end + added for end, added in zip(ends, _padded(extra, name, ends), strict=True))
            for name, ends in obs.offsets.items()
        }
        return replace(obs, offsets=offsets)

    @staticmethod
    def _moved_on(obs: CommitsObs, extra: dict[str, list[int]]) -> CommitsObs:
        """A reader keeps up with a burst: its commits move on with the records the burst added."""
        if not any(name in extra for name in obs.offsets):
            return obs
        offsets = {
            name: tuple(
                None if c is None else c + added
                for c, added in zip(committed, _padded(extra, name, committed), strict=True)
            )
            for name, committed in obs.offsets.items()
        }
        return replace(obs, offsets=offsets)

    def _audience_observations(self, t: int, ends: dict[str, tuple[int, ...]]) -> Iterator[Observation]:
        """Each added audience reads its topic and keeps up: a described group and its commits."""
        for topic, group in self.audiences.items():
            end = ends.get(topic)
            if end is None:
                continue
            member = Member(member_id=f"{group}-1", client_id=group, assigned={topic: tuple(range(len(end)))})
            yield GroupObs(t=t, group=group, state="Stable", members=(member,))
            yield CommitsObs(t=t, group=group, offsets={topic: end})


def _padded(extra: dict[str, list[int]], name: str, like: tuple[object, ...]) -> list[int]:
    """What a burst added to each of ``like``'s partitions of topic ``name`` (0 where nothing)."""
    added = extra.get(name, [])
    return [*added[: len(like)], *[0] * (len(like) - len(added))]
