"""The FlowModel folds observations into bounded state; :mod:`flow.build` derives its snapshots.

Folding is the hot path (every line of a recording passes through it), so it only stores references.
Memory stays bounded: histories are windowed and thinned, rings are capped, and anything not seen for
``retention_ms`` is forgotten.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any, ClassVar

from flow import build
from flow.changes import ChangeLog
from flow.config import ModelConfig
from flow.naming import source_service
from flow.observations import (
    Broker,
    ClusterObs,
    CommitsObs,
    EndOffsetsObs,
    GroupObs,
    NoteObs,
    Observation,
    ProducersObs,
    RecordObs,
    StatusObs,
    TopicsObs,
)
from flow.snapshot import ClusterView, FlowSnapshot, StatusView
from flow.state import Entries, Folded, GroupState, TopicState

SERVICE_NAMES_KEPT = 10_000


class FlowModel:
    """Folds one observation stream; :meth:`snapshot` says what the flow looks like now."""

    def __init__(self, config: ModelConfig | None = None) -> None:
        self.config = config or ModelConfig()
        self._window_ms = self.config.rate_window_ms
        self._lag_window = self.config.lag_window
        # Commit histories are trimmed this often rather than on every sample (a quarter window of extra
        # samples costs little memory and saves a call per commit, the commonest observation); producer
        # samples closer than this add nothing to a rate.
        self._quarter_window = max(self._window_ms // 4, 1)
        self.reset()

    def reset(self) -> None:
        """Forget everything, as if no observation had been seen (used by seek and loop)."""
        self._now = -1  # before any observation, so the first one always starts an instant
        self._started: int | None = None
        self._count = 0
        self._topics: dict[str, TopicState] = {}
        self._groups: dict[str, GroupState] = {}
        self._ends: deque[tuple[int, dict[str, tuple[int, ...]]]] = deque()
        self._end_latest: dict[str, tuple[int, ...]] = {}
        self._end_seen: dict[str, int] = {}
        self._ends_thinned_to = -1
        self._pid_names: dict[int, tuple[str, int]] = {}
        self._services: dict[str, str] = {}
        """Header values and transactional ids already turned into service names (the same few repeat)."""
        self._cluster: ClusterView | None = None
        self._brokers_seen: dict[int, Broker] = {}
        self._status: StatusView | None = None
        self._note: NoteObs | None = None
        self._next_sweep = 0
        self._listed_at: int | None = None
        self._dead: set[str] = set()
        self._changes = ChangeLog(self.config.changes_kept, self.config.changes_settle_ms)

    @property
    def now(self) -> int:
        return max(self._now, 0)

    @property
    def observations(self) -> int:
        return self._count

    def apply(self, obs: Observation) -> None:
        t = obs.t
        if t > self._now:
            self._advance(t)
        self._count += 1
        self._DISPATCH[type(obs)](self, obs)

    def _advance(self, t: int) -> None:
        """A new instant begins: settle the previous one, and forget what is too old now and then."""
        self._end_step()
        self._now = t
        if self._started is None:
            self._started = t
        if t >= self._next_sweep:
            self._sweep()

    def apply_all(self, observations: Iterable[Observation]) -> None:
        """:meth:`apply` for each observation, without a call per observation: a replay's inner loop."""
        dispatch = self._DISPATCH
        count = 0
        try:
            for obs in observations:
                count += 1
                t = obs.t
                if t > self._now:
                    self._advance(t)
                # The class is the kind: a look-up by type() hashes no string.
                dispatch[type(obs)](self, obs)
        finally:
            self._count += count

    def footprint(self) -> dict[str, int]:
        """How much the model holds, by kind: what the boundedness tests and benchmarks watch."""
        topics = self._topics.values()
        return {
            "topics": len(self._topics),
            "groups": len(self._groups),
            "end_samples": len(self._ends),
            "end_latest": len(self._end_latest),
            "commit_samples": sum(len(group.history) for group in self._groups.values()),
            "producer_samples": sum(len(topic.producers) for topic in topics),
            "records": sum(len(topic.records) for topic in topics),
            "record_types": sum(len(topic.types) for topic in topics),
            "writers": sum(len(topic.writers) for topic in topics),
            "producer_names": len(self._pid_names),
        }

    # -- folding: store references, trim windows, nothing per partition --------------------------------

    def _topic(self, name: str) -> TopicState:
        topic = self._topics.get(name)
        if topic is None:
            topic = self._topics[name] = TopicState(name, self.config.records_per_topic)
        return topic

    def _trim(self, entries: Entries, t: int, keep: int) -> None:
        """Drop entries older than the rate window, but keep ``keep`` for the lag window's look-ups."""
        horizon = t - self._window_ms
        while len(entries) > keep and entries[1][0] <= horizon:
            entries.popleft()

    def _on_end_offsets(self, obs: EndOffsetsObs) -> None:
        t, offsets = obs.t, obs.offsets
        for name in offsets.keys() - self._topics.keys():
            self._topic(name)
        self._end_latest.update(offsets)
        self._end_seen.update(dict.fromkeys(offsets, t))
        self._ends.append((t, offsets))
        self._trim(self._ends, t, self._lag_window + 1)
        self._ends_thinned_to = _thin(self._ends, self._lag_window + 1, self._quarter_window, self._ends_thinned_to)

    def _on_commits(self, obs: CommitsObs) -> None:
        t = obs.t
        group = self._groups.get(obs.group) or self._new_group(obs.group)
        group.last_seen = t
        group.history.append((t, obs.offsets))
        if t >= group.trim_at:
            group.trim_at = t + self._quarter_window
            self._trim(group.history, t, self._lag_window)
            group.thinned_to = _thin(group.history, self._lag_window, self._quarter_window, group.thinned_to)

    def _new_group(self, group_id: str) -> GroupState:
        group = self._groups[group_id] = GroupState(group_id)
        return group

    def _on_record(self, obs: RecordObs) -> None:
        config = self.config
        topic = self._topic(obs.topic)
        t = obs.t
        topic.last_seen = t
        writer: str | None = None
        for key, value in obs.headers:
            if isinstance(value, str):
                if writer is None and key in config.producer_headers:
                    writer = self._service(value)
                elif key in config.type_headers:
                    self._typed(topic.types, value, t)
        schema = obs.value_schema
        if schema is not None and schema.record_type:
            # A schema's record name is the same evidence as a type header.
            self._typed(topic.types, schema.record_type, t)
        if writer is not None:
            topic.writers[writer] = t
            if obs.producer_id is not None:
                self._pid_names[obs.producer_id] = (writer, t)
        if isinstance(obs.value, str) and len(obs.value) > config.value_chars:
            obs = replace(obs, value=obs.value[: config.value_chars])
        topic.records.append(obs)
        topic.record_writers.append(writer)

    def _typed(self, types: dict[str, int], name: str, t: int) -> None:
        """Note a record type seen at ``t``; the least recently seen goes when the cap is reached."""
        if name not in types and len(types) >= self.config.types_per_topic:
            del types[min(types, key=types.__getitem__)]
        types[name] = t

    def _on_producers(self, obs: ProducersObs) -> None:
        t = obs.t
        topic = self._topics.get(obs.topic) or self._topic(obs.topic)
        topic.last_seen = t
        # A rate needs only a base and the newest state; samples closer than a quarter window add nothing.
        samples = topic.producers
        newest = samples.newest
        if newest is not None:
            kept = samples.kept
            if not kept or newest[0] - kept[-1][0] >= self._quarter_window:
                kept.append(newest)
                self._trim(kept, t, 1)
        samples.newest = (t, obs.partitions)
        if obs.transactional_ids:
            for pid, transactional_id in obs.transactional_ids.items():
                self._pid_names[pid] = (self._service(transactional_id), t)

    def _service(self, value: str) -> str:
        name = self._services.get(value)
        if name is None:
            if len(self._services) >= SERVICE_NAMES_KEPT:
                self._services.clear()
            name = self._services[value] = source_service(value, self.config.aliases)
        return name

    def _on_group(self, obs: GroupObs) -> None:
        group = self._groups.get(obs.group) or self._new_group(obs.group)
        group.last_seen = obs.t
        group.state = obs.state
        group.protocol = obs.protocol
        group.members = obs.members
        if obs.state == "Dead":
            self._dead.add(obs.group)

    def _on_topics(self, obs: TopicsObs) -> None:
        t = obs.t
        for info in obs.topics:
            topic = self._topic(info.name)
            topic.partitions = info.partitions
            topic.internal = info.internal
            topic.offline = info.offline
            topic.under_replicated = info.under_replicated
            topic.last_seen = t
        self._listed_at = t

    def _end_step(self) -> None:
        """Apply what an instant's observations decided together, once the instant is complete.

        A topic list leaves out deleted topics, and a Dead group is gone; acting on them at the end of
        the instant, rather than on arrival, keeps the result independent of the order within it.
        """
        if self._listed_at is not None:
            listed_at, self._listed_at = self._listed_at, None
            for name in [name for name in self._topics if self._last_seen(name) < listed_at]:
                self._forget_topic(name)
        if self._dead:
            for group_id in self._dead:
                self._groups.pop(group_id, None)
            self._dead.clear()

    def _on_cluster(self, obs: ClusterObs) -> None:
        self._brokers_seen.update((broker.id, broker) for broker in obs.brokers)
        missing = tuple(self._brokers_seen.get(node, Broker(id=node, host="", port=0)) for node in obs.missing)
        self._cluster = ClusterView(obs.cluster_id, obs.brokers, obs.controller_id, missing)

    def _on_status(self, obs: StatusObs) -> None:
        since = obs.t
        if self._status is not None and self._status.state == obs.state:
            since = self._status.since
        self._status = StatusView(obs.state, obs.detail, obs.attempt, since)

    def _on_note(self, obs: NoteObs) -> None:
        self._note = obs

    def _last_seen(self, name: str) -> int:
        return max(self._topics[name].last_seen, self._end_seen.get(name, 0))

    def _forget_topic(self, name: str) -> None:
        del self._topics[name]
        self._end_latest.pop(name, None)
        self._end_seen.pop(name, None)

    def _sweep(self) -> None:
        """Forget what has not been seen within the retention period; runs a few times per period."""
        retention = self.config.retention_ms
        self._next_sweep = self._now + max(retention // 8, 1)
        horizon = self._now - retention
        if horizon <= 0:
            return
        for name in [name for name in self._topics if self._last_seen(name) < horizon]:
            self._forget_topic(name)
        for group_id in [gid for gid, group in self._groups.items() if group.last_seen < horizon]:
            del self._groups[group_id]
        for pid in [pid for pid, (_, seen) in self._pid_names.items() if seen < horizon]:
            del self._pid_names[pid]
        for topic in self._topics.values():
            for writer in [w for w, seen in topic.writers.items() if seen < horizon]:
                del topic.writers[writer]
            for record_type in [k for k, seen in topic.types.items() if seen < horizon]:
                del topic.types[record_type]
            topic.producers.forget_before(horizon)
            records = topic.records
            # Sampled records age out too, but the newest stays: a quiet topic still shows what it carries.
            while len(records) > 1 and records[0].t < horizon:
                records.popleft()
                topic.record_writers.popleft()

    # Plain functions, not bound methods: a model holding its own bound methods would be a reference
    # cycle, freed only when the garbage collector next runs rather than as soon as it is dropped.
    _DISPATCH: ClassVar[dict[type[Any], Callable[[FlowModel, Any], None]]] = {
        EndOffsetsObs: _on_end_offsets,
        CommitsObs: _on_commits,
        RecordObs: _on_record,
        ProducersObs: _on_producers,
        GroupObs: _on_group,
        TopicsObs: _on_topics,
        ClusterObs: _on_cluster,
        StatusObs: _on_status,
        NoteObs: _on_note,
    }

    # -- snapshot: everything derived (rates, lag, services, findings) is computed by flow.build ---------

    def rebase_changes(self) -> None:
        """A jump (a seek) lands here: the log of changes starts over from the next snapshot."""
        self._changes.restart()

    def snapshot(self) -> FlowSnapshot:
        """What the flow looks like now."""
        self._end_step()
        return build.snapshot(
            Folded(
                config=self.config,
                now=self.now,
                started=self._started,
                observations=self._count,
                topics=self._topics,
                groups=self._groups,
                ends=self._ends,
                end_latest=self._end_latest,
                end_seen=self._end_seen,
                pid_names=self._pid_names,
                cluster=self._cluster,
                status=self._status,
                note=self._note,
                changes=self._changes,
            )
        )


def _thin(entries: Entries, recent: int, spacing: int, thinned_to: int) -> int:
    """Keep the newest ``recent`` entries and, before them, only entries at least ``spacing`` apart.

    The lag status reads the newest few samples; older ones only serve as the base of a rate, for
    which one every quarter window is plenty. Fewer kept samples is less for the collector to walk.
    Entries older than ``thinned_to`` (a time) were settled by an earlier call, and trimming the
    oldest does not unsettle them, so each entry is looked at about once; returns the time to pass
    next time.
    """
    older = len(entries) - recent
    if older <= 2:
        return thinned_to
    start = 1
    while start < older and entries[start][0] < thinned_to:
        start += 1
    kept_t = entries[start - 1][0]
    dropped: list[int] = []
    for index in range(start, older):
        t = entries[index][0]
        if t - kept_t >= spacing:
            kept_t = t
        else:
            dropped.append(index)
    newest_looked_at: int = entries[older - 1][0]
    for index in reversed(dropped):
        del entries[index]
    return newest_looked_at
