"""The FlowModel folds observations into bounded state and renders immutable snapshots.

Folding is the hot path (every line of a recording passes through it), so it stores references;
everything derived (rates, records written per producer id, lag, lag status, classification, services,
findings) is computed in :meth:`FlowModel.snapshot`. Memory stays bounded:
histories are windowed and thinned, rings are capped, and anything not seen for ``retention_ms`` is
forgotten.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict, deque
from collections.abc import Callable, Collection, Iterable
from dataclasses import replace
from itertools import islice
from typing import Any, ClassVar

from flow.classify import classify_topic, find_findings
from flow.config import ModelConfig
from flow.lag import lag_seconds, partition_status, worst
from flow.naming import group_service, source_service
from flow.observations import (
    ClusterObs,
    CommitsObs,
    EndOffsetsObs,
    GroupObs,
    Member,
    NoteObs,
    Observation,
    ProducersObs,
    ProducerState,
    RecordObs,
    StatusObs,
    TopicsObs,
)
from flow.snapshot import (
    ClusterView,
    Edge,
    FlowSnapshot,
    GroupView,
    MemberView,
    PartitionLag,
    ProducerRate,
    ServiceView,
    StatusView,
    TopicView,
)
from flow.vocabulary import UNKNOWN_WRITER, LagStatus

UNNAMED_PRODUCER = "producer-id {}"
SERVICE_NAMES_KEPT = 10_000


Entries = deque[tuple[int, dict[Any, Any]]]
"""(t, observation payload) pairs, oldest first: the fold keeps references, the snapshot derives."""


class _Topic:
    __slots__ = (
        "internal",
        "last_seen",
        "name",
        "partitions",
        "producers",
        "producers_base",
        "producers_newest",
        "record_writers",
        "records",
        "types",
        "writers",
    )

    def __init__(self, name: str, records_per_topic: int) -> None:
        self.name = name
        self.partitions = 0
        self.internal = False
        self.last_seen = 0
        self.records: deque[RecordObs] = deque(maxlen=records_per_topic)
        # Writer name of each record in ``records`` (None when the record names none), same order.
        self.record_writers: deque[str | None] = deque(maxlen=records_per_topic)
        self.types: dict[str, int] = {}
        self.writers: dict[str, int] = {}
        # Producer states per partition as observed, samples at least a quarter rate window apart, oldest
        # first. Only the one a rate starts from is ever summarised (see _written), by the snapshot.
        self.producers: deque[tuple[int, dict[int, tuple[ProducerState, ...]]]] = deque()
        # The newest sample: each arrival replaces it until it is a quarter window past the last kept one,
        # and only then is it kept; samples replaced before that are never looked at.
        self.producers_newest: tuple[int, dict[int, tuple[ProducerState, ...]]] | None = None
        # The kept sample the last snapshot's rates started from, with its summary: the base moves only
        # once a quarter window, and a live view takes a snapshot every second or so.
        self.producers_base: tuple[dict[int, tuple[ProducerState, ...]], dict[int, tuple[int, int]]] | None = None


class _Group:
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
        self._topics: dict[str, _Topic] = {}
        self._groups: dict[str, _Group] = {}
        self._ends: deque[tuple[int, dict[str, tuple[int, ...]]]] = deque()
        self._end_latest: dict[str, tuple[int, ...]] = {}
        self._end_seen: dict[str, int] = {}
        self._ends_thinned_to = -1
        self._pid_names: dict[int, tuple[str, int]] = {}
        self._services: dict[str, str] = {}
        """Header values and transactional ids already turned into service names (the same few repeat)."""
        self._cluster: ClusterView | None = None
        self._status: StatusView | None = None
        self._note: NoteObs | None = None
        self._next_sweep = 0
        self._listed_at: int | None = None
        self._dead: set[str] = set()

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
            "producer_samples": sum(len(topic.producers) + (topic.producers_newest is not None) for topic in topics),
            "records": sum(len(topic.records) for topic in topics),
            "record_types": sum(len(topic.types) for topic in topics),
            "writers": sum(len(topic.writers) for topic in topics),
            "producer_names": len(self._pid_names),
        }

    # -- folding: store references, trim windows, nothing per partition --------------------------------

    def _topic(self, name: str) -> _Topic:
        topic = self._topics.get(name)
        if topic is None:
            topic = self._topics[name] = _Topic(name, self.config.records_per_topic)
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

    def _new_group(self, group_id: str) -> _Group:
        group = self._groups[group_id] = _Group(group_id)
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
                    types = topic.types
                    if value not in types and len(types) >= config.types_per_topic:
                        del types[min(types, key=types.__getitem__)]
                    types[value] = t
        if writer is not None:
            topic.writers[writer] = t
            if obs.producer_id is not None:
                self._pid_names[obs.producer_id] = (writer, t)
        if isinstance(obs.value, str) and len(obs.value) > config.value_chars:
            obs = replace(obs, value=obs.value[: config.value_chars])
        topic.records.append(obs)
        topic.record_writers.append(writer)

    def _on_producers(self, obs: ProducersObs) -> None:
        t = obs.t
        topic = self._topics.get(obs.topic) or self._topic(obs.topic)
        topic.last_seen = t
        # A rate needs only a base and the newest state; samples closer than a quarter window add nothing.
        newest = topic.producers_newest
        if newest is not None:
            kept = topic.producers
            if not kept or newest[0] - kept[-1][0] >= self._quarter_window:
                kept.append(newest)
                self._trim(kept, t, 1)
        topic.producers_newest = (t, obs.partitions)
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
        self._cluster = ClusterView(obs.cluster_id, obs.brokers, obs.controller_id)

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
            if topic.producers_newest is not None and topic.producers_newest[0] < horizon:
                topic.producers.clear()
                topic.producers_newest = None
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

    # -- snapshot: everything derived happens here ---------------------------------------------------

    def snapshot(self) -> FlowSnapshot:
        self._end_step()
        now = self.now
        horizon = now - self.config.rate_window_ms
        end_base = _first_in_window(self._ends, horizon, self._end_latest)
        ends = _EndSeries(self._ends)
        groups = [self._group_view(group, now, ends) for _, group in sorted(self._groups.items())]

        readers: dict[str, list[str]] = defaultdict(list)
        for view in groups:
            for topic_name in view.topics:
                readers[topic_name].append(view.id)

        topics: list[TopicView] = []
        for name, topic in sorted(self._topics.items()):
            end = self._end_latest.get(name, ())
            types = tuple(sorted(topic.types, key=lambda k: (-topic.types[k], k)))
            audience = tuple(readers.get(name, ()))
            rate = _rate(end_base.get(name), (self._end_seen.get(name, 0), end))
            topics.append(
                TopicView(
                    name=name,
                    partitions=max(topic.partitions, len(end)),
                    internal=topic.internal,
                    classification=classify_topic(name, internal=topic.internal, groups=audience, record_types=types),
                    rate=rate,
                    messages=sum(end),
                    end_offsets=tuple(end),
                    groups=audience,
                    producers=self._producer_rates(topic, rate, now),
                    record_types=types,
                    records=tuple(topic.records),
                )
            )

        writes: dict[str, set[str]] = defaultdict(set)
        topic_writers: dict[str, list[str]] = {}
        edges: list[Edge] = []
        for topic_view in topics:
            named = [p for p in topic_view.producers if p.name != UNKNOWN_WRITER]
            topic_writers[topic_view.name] = [p.name for p in named]
            for producer in named:
                writes[producer.name].add(topic_view.name)
                edges.append(Edge(producer.name, topic_view.name, "produce", producer.rate))
        reads: dict[str, set[str]] = defaultdict(set)
        service_groups: dict[str, list[str]] = defaultdict(list)
        for group in groups:
            reads[group.service].update(group.topics)
            service_groups[group.service].append(group.id)
            edges.extend(Edge(topic, group.id, "consume", rate) for topic, rate in group.topic_rates)

        services = tuple(
            ServiceView(
                name=name,
                produces=tuple(sorted(writes.get(name, ()))),
                consumes=tuple(sorted(reads.get(name, ()))),
                groups=tuple(service_groups.get(name, ())),
                unknown=_is_unnamed(name),
            )
            for name in sorted(set(writes) | set(reads))
        )
        named_writes = {name: topics_ for name, topics_ in writes.items() if not _is_unnamed(name)}
        findings = find_findings({t.name: t.kind for t in topics}, named_writes, reads, topic_writers)
        note = self._note
        caption = None
        if note is not None and (note.duration_ms is None or now < note.t + note.duration_ms):
            caption = note.text
        return FlowSnapshot(
            t=now,
            started=self._started,
            observations=self._count,
            cluster=self._cluster,
            status=self._status,
            topics=tuple(topics),
            groups=tuple(groups),
            services=services,
            edges=tuple(edges),
            findings=findings,
            note=caption,
        )

    def _producer_rates(self, topic: _Topic, topic_rate: float | None, now: int) -> tuple[ProducerRate, ...]:
        """Writers of a topic with their rates.

        Idempotent and transactional producers report sequence numbers, which give exact rates per
        producer id; writers known only from record headers share the rest of the topic's rate in
        proportion to how often they appear among the sampled records. Producer states the broker
        still retains but that wrote nothing within the retention period are not writers any more.
        """
        measured: dict[str, float | None] = {}
        pids: dict[str, list[int]] = defaultdict(list)
        if topic.producers_newest is not None:
            horizon = now - self.config.retention_ms
            last_t, latest = topic.producers_newest[0], _written(topic.producers_newest[1])
            window_start = now - self.config.rate_window_ms
            base_t, base = last_t, latest
            for t, states in topic.producers:
                if t >= window_start:
                    cached = topic.producers_base
                    if cached is None or cached[0] is not states:
                        cached = topic.producers_base = (states, _written(states))
                    base_t, base = t, cached[1]
                    break
            for pid, (sequence, last_write) in sorted(latest.items()):
                if 0 <= last_write < horizon:
                    continue  # the broker still keeps its state, but it has stopped writing
                name = self._pid_names.get(pid, (UNNAMED_PRODUCER.format(pid), 0))[0]
                rate = None
                if pid in base and base_t < last_t and sequence >= base[pid][0]:
                    rate = (sequence - base[pid][0]) * 1000 / (last_t - base_t)
                previous = measured.get(name)
                measured[name] = rate if previous is None else previous + (rate or 0.0)
                pids[name].append(pid)
        result = [ProducerRate(name, rate, tuple(pids[name])) for name, rate in measured.items()]

        header_only = sorted(name for name in topic.writers if name not in measured)
        if header_only:
            residual = None
            if topic_rate is not None:
                residual = max(topic_rate - sum(r or 0.0 for r in measured.values()), 0.0)
            counts = dict.fromkeys(header_only, 1)
            for writer in topic.record_writers:
                if writer in counts:
                    counts[writer] += 1
            total = sum(counts.values())
            for name in header_only:
                share = None if residual is None else residual * counts[name] / total
                result.append(ProducerRate(name, share, estimated=len(header_only) > 1 or bool(measured)))
        if not result and topic_rate:
            result.append(ProducerRate(UNKNOWN_WRITER, topic_rate, estimated=True))
        return tuple(sorted(result, key=lambda p: p.name))

    def _group_view(self, group: _Group, now: int, ends: _EndSeries) -> GroupView:
        assigned: dict[str, set[int]] = defaultdict(set)
        for member in group.members:
            for topic_name, numbers in member.assigned.items():
                assigned[topic_name].update(numbers)
        history = group.history
        commits = history[-1][1] if history else {}
        commit_base = _first_in_window(history, now - self.config.rate_window_ms, commits)
        window = list(islice(history, max(len(history) - self.config.lag_window, 0), None))
        topic_names = sorted(set(commits) | set(assigned))
        active = bool(group.members)
        rows: list[PartitionLag] = []
        topic_rates: list[tuple[str, float | None]] = []
        for topic_name in topic_names:
            committed = commits.get(topic_name, ())
            end = self._end_latest.get(topic_name, ())
            mine = assigned.get(topic_name, set())
            # The topic's (committed, log-end) offsets at each commit sample of the lag window, looked up
            # once per topic rather than once per lagging partition.
            window_rows: list[tuple[tuple[int | None, ...] | None, tuple[int, ...] | None]] | None = None
            for partition in range(max(len(committed), len(end), max(mine, default=-1) + 1)):
                c = committed[partition] if partition < len(committed) else None
                if c is None and partition not in mine:
                    continue
                e = end[partition] if partition < len(end) else None
                lag = max(e - c, 0) if c is not None and e is not None else None
                seconds: float | None = None
                if lag == 0:
                    status = LagStatus.OK  # Burrow's first rule: zero lag anywhere in the window is OK
                    seconds = 0.0
                elif lag is None:
                    status = LagStatus.UNKNOWN
                else:
                    assert c is not None
                    history_p = ends.partition_history(topic_name, partition)
                    seconds = lag_seconds(c, history_p, now, _partition_rate(history_p))
                    if window_rows is None:
                        window_rows = [(then.get(topic_name), ends.row_at(t, topic_name)) for t, then in window]
                    samples = [(_at(then_c, partition), _at(then_e, partition)) for then_c, then_e in window_rows]
                    status = partition_status(samples, active)
                rows.append(PartitionLag(topic_name, partition, e, c, lag, seconds, status))
            last = (history[-1][0], committed) if committed else None
            topic_rates.append((topic_name, _rate(commit_base.get(topic_name), last)))
        known_rates = [rate for _, rate in topic_rates if rate is not None]
        lag_values = [row.lag for row in rows if row.lag is not None]
        ages = [row.lag_seconds for row in rows if row.lag_seconds is not None]
        return GroupView(
            id=group.id,
            service=group_service(group.id, self.config.aliases),
            state=group.state,
            protocol=group.protocol,
            members=tuple(
                MemberView(
                    member.member_id,
                    member.client_id,
                    member.host,
                    tuple((name, tuple(sorted(parts))) for name, parts in sorted(member.assigned.items())),
                )
                for member in group.members
            ),
            topics=tuple(topic_names),
            lag=sum(lag_values),
            lag_seconds=max(ages) if ages else None,
            status=worst([row.status for row in rows]) if rows else LagStatus.UNKNOWN,
            rate=sum(known_rates) if known_rates else None,
            topic_rates=tuple(topic_rates),
            partitions=tuple(rows),
        )


def _is_unnamed(name: str) -> bool:
    return name.startswith(UNNAMED_PRODUCER.format(""))


def _first_in_window(entries: Entries, horizon: int, wanted: Collection[str]) -> dict[str, tuple[int, Any]]:
    """For each wanted name, the oldest entry at or after ``horizon`` that holds it: the base of its rate."""
    found: dict[str, tuple[int, Any]] = {}
    missing = set(wanted)
    for t, payload in entries:
        if t >= horizon:
            for key in missing.intersection(payload):
                found[key] = (t, payload[key])
            missing.difference_update(payload)
            if not missing:
                break
    return found


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


def _total(offsets: tuple[int | None, ...]) -> int:
    try:
        return sum(offsets)  # type: ignore[arg-type]  # the common case: every partition has an offset
    except TypeError:
        return sum(o for o in offsets if o is not None)


class _EndSeries:
    """The kept log-end samples rearranged per topic, built once per snapshot and only for topics asked about."""

    def __init__(self, ends: Entries) -> None:
        self._ends = ends
        self._series: dict[str, tuple[list[int], list[tuple[int, ...]]]] = {}

    def _of(self, topic: str) -> tuple[list[int], list[tuple[int, ...]]]:
        series = self._series.get(topic)
        if series is None:
            times: list[int] = []
            values: list[tuple[int, ...]] = []
            for t, offsets in self._ends:
                topic_values = offsets.get(topic)
                if topic_values is not None:
                    times.append(t)
                    values.append(topic_values)
            series = self._series[topic] = (times, values)
        return series

    def partition_history(self, topic: str, partition: int) -> list[tuple[int, int]]:
        """(t, log-end offset) samples of one partition within the kept history, oldest first."""
        times, values = self._of(topic)
        return [(t, v[partition]) for t, v in zip(times, values, strict=True) if partition < len(v)]

    def row_at(self, t: int, topic: str) -> tuple[int, ...] | None:
        """The topic's log-end offsets as last sampled at or before ``t``."""
        times, values = self._of(topic)
        index = bisect_right(times, t) - 1
        return values[index] if index >= 0 else None


def _rate(base: tuple[int, tuple[Any, ...]] | None, last: tuple[int, tuple[Any, ...]] | None) -> float | None:
    """Messages per second between two (t, offsets) samples; None when they do not span any time."""
    if base is None or last is None or last[0] <= base[0]:
        return None
    return max(_total(last[1]) - _total(base[1]), 0) * 1000 / (last[0] - base[0])


def _written(partitions: dict[int, tuple[ProducerState, ...]]) -> dict[int, tuple[int, int]]:
    """Per producer id: records written so far (sequences count from 0 per partition), last write time."""
    written: dict[int, tuple[int, int]] = {}
    for states in partitions.values():
        for pid, _epoch, sequence, timestamp in states:
            if sequence >= 0:
                if pid in written:  # the same producer on another partition
                    count, last = written[pid]
                    written[pid] = (count + sequence + 1, timestamp if timestamp > last else last)
                else:
                    written[pid] = (sequence + 1, timestamp)
    return written


def _partition_rate(history: list[tuple[int, int]]) -> float | None:
    if len(history) < 2 or history[-1][0] <= history[0][0]:
        return None
    return (history[-1][1] - history[0][1]) * 1000 / (history[-1][0] - history[0][0])


def _at(values: tuple[int | None, ...] | None, partition: int) -> int | None:
    return values[partition] if values is not None and partition < len(values) else None
