"""What the FlowModel keeps per topic and per group, and what it hands the snapshot builder."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only
    from flow.changes import ChangeLog
    from flow.config import ModelConfig
    from flow.observations import Member, NoteObs, ProducerState, RecordObs
    from flow.snapshot import ClusterView, StatusView

Entries = deque[tuple[int, dict[Any, Any]]]
"""(t, observation payload) pairs, oldest first: the fold keeps references, the snapshot derives."""

ProducerStates = dict[int, tuple["ProducerState", ...]]
"""One producers observation: the producer states of each partition of a topic."""

Written = dict[int, tuple[int, int]]
"""Per producer id: (records written so far, last write time)."""


class ProducerSamples:
    """A topic's producer states over the rate window: what its writers' exact rates come from.

    A rate needs only a base and the newest state, so samples closer than a quarter window add
    nothing: the fold (FlowModel._on_producers, inline as it is the hot path) replaces ``newest`` with
    each arrival until it is a quarter window past the last kept sample, and only then keeps it;
    samples replaced before that are never looked at. Only the sample a rate starts from is ever
    summarised, by the snapshot, and that summary is cached by identity: the base moves only once a
    quarter window, and a live view takes a snapshot every second or so.
    """

    __slots__ = ("_base", "kept", "newest")

    def __init__(self) -> None:
        self.kept: deque[tuple[int, ProducerStates]] = deque()
        """Samples at least a quarter window apart, oldest first; ``newest`` is not among them."""
        self.newest: tuple[int, ProducerStates] | None = None
        self._base: tuple[ProducerStates, Written] | None = None

    def __len__(self) -> int:
        return len(self.kept) + (self.newest is not None)

    def forget_before(self, horizon: int) -> None:
        """Forget every sample when even the newest is older than ``horizon``: the producers went quiet."""
        if self.newest is not None and self.newest[0] < horizon:
            self.kept.clear()
            self.newest = None
            self._base = None

    def rate_span(self, window_start: int) -> tuple[tuple[int, Written], tuple[int, Written]] | None:
        """(base, newest) of the rates, each as (t, records written per producer id); None before any sample.

        The base is the oldest kept sample at or after ``window_start``, or the newest when none is.
        """
        if self.newest is None:
            return None
        newest = (self.newest[0], written(self.newest[1]))
        for t, states in self.kept:
            if t >= window_start:
                cached = self._base
                if cached is None or cached[0] is not states:
                    cached = self._base = (states, written(states))
                return (t, cached[1]), newest
        return newest, newest


def written(partitions: ProducerStates) -> Written:
    """Per producer id: records written so far (sequences count from 0 per partition), last write time."""
    counts: Written = {}
    for states in partitions.values():
        for pid, _epoch, sequence, timestamp in states:
            if sequence >= 0:
                if pid in counts:  # the same producer on another partition
                    count, last = counts[pid]
                    counts[pid] = (count + sequence + 1, timestamp if timestamp > last else last)
                else:
                    counts[pid] = (sequence + 1, timestamp)
    return counts


class TopicState:
    __slots__ = (
        "internal",
        "last_seen",
        "name",
        "offline",
        "partitions",
        "producers",
        "record_writers",
        "records",
        "types",
        "under_replicated",
        "writers",
    )

    def __init__(self, name: str, records_per_topic: int) -> None:
        self.name = name
        self.partitions = 0
        self.internal = False
        self.offline: tuple[int, ...] = ()
        self.under_replicated: tuple[int, ...] = ()
        self.last_seen = 0
        self.records: deque[RecordObs] = deque(maxlen=records_per_topic)
        # Writer name of each record in ``records`` (None when the record names none), same order.
        self.record_writers: deque[str | None] = deque(maxlen=records_per_topic)
        self.types: dict[str, int] = {}
        self.writers: dict[str, int] = {}
        self.producers = ProducerSamples()


class GroupState:
    __slots__ = ("history", "id", "last_seen", "members", "protocol", "state", "thinned_to", "trim_at")

    def __init__(self, group_id: str) -> None:
        self.id = group_id
        self.state = "Unknown"
        self.protocol = "classic"
        self.members: tuple[Member, ...] = ()
        self.last_seen = 0
        # Each entry is a whole commits observation: the newest says which topics the group has offsets for.
        self.history: deque[tuple[int, dict[str, tuple[int | None, ...]]]] = deque()
        self.trim_at = 0
        self.thinned_to = -1


@dataclass(frozen=True, slots=True)
class Folded:
    """What the fold holds, by reference: everything the snapshot builder reads."""

    config: ModelConfig
    now: int
    started: int | None
    observations: int
    topics: Mapping[str, TopicState]
    groups: Mapping[str, GroupState]
    ends: Entries
    """Log-end offset samples, each a whole end-offsets observation."""
    end_latest: Mapping[str, tuple[int, ...]]
    end_seen: Mapping[str, int]
    pid_names: Mapping[int, tuple[str, int]]
    """Producer id to (writer name, when last named)."""
    cluster: ClusterView | None
    status: StatusView | None
    note: NoteObs | None
    changes: ChangeLog | None = None
    """The model's log of notable changes, compared with each snapshot built (None: no log)."""
