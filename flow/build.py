"""Building a FlowSnapshot from what the fold holds: everything derived (rates, lag, services, findings)."""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from itertools import islice
from typing import TYPE_CHECKING, Any

from flow.classify import classify_topic, find_findings
from flow.lag import current_lag_status, lag_seconds, partition_status, worst
from flow.naming import group_service, streams_application
from flow.snapshot import (
    Edge,
    Finding,
    FlowSnapshot,
    GroupView,
    MemberView,
    PartitionLag,
    ProducerRate,
    ServiceView,
    TopicView,
)
from flow.state import Entries, Folded, GroupState, ProducerSamples, TopicState
from flow.vocabulary import UNKNOWN_WRITER, LagStatus

if TYPE_CHECKING:  # annotations only
    from flow.observations import Member, NoteObs

UNNAMED_PRODUCER = "producer-id {}"

CommitRow = tuple[int | None, ...]
WindowRow = tuple[CommitRow | None, tuple[int, ...] | None]
"""A topic's (committed, log-end) offsets at one commit sample of the lag window."""


def snapshot(folded: Folded) -> FlowSnapshot:
    """What the flow looks like at ``folded.now``."""
    ends = _EndSeries(folded.ends)
    groups = tuple(_group_view(folded, group, ends) for _, group in sorted(folded.groups.items()))
    topics = _topic_views(folded, groups, _streams_owners(folded, groups))
    writers = _writers(topics)
    writes = _writes(writers)
    reads = _reads(groups)
    findings = _findings(topics, writers, writes, reads)
    log = folded.changes
    return FlowSnapshot(
        t=folded.now,
        started=folded.started,
        observations=folded.observations,
        cluster=folded.cluster,
        status=folded.status,
        topics=topics,
        groups=groups,
        services=_services(writes, reads, groups),
        edges=_edges(writers, groups),
        findings=findings,
        note=_caption(folded.note, folded.now),
        changes=log.update(folded.now, folded.started, topics, groups, findings) if log is not None else (),
    )


# -- consumer groups ---------------------------------------------------------------------------------


def _group_view(folded: Folded, group: GroupState, ends: _EndSeries) -> GroupView:
    """A group with its members, the lag of each partition it reads and its consume rate per topic."""
    history = group.history
    commits = history[-1][1] if history else {}
    assigned = _assigned(group.members)
    topic_names = sorted(set(commits) | set(assigned))
    window = list(islice(history, max(len(history) - folded.config.lag_window, 0), None))
    active = bool(group.members)
    rows: list[PartitionLag] = []
    for name in topic_names:
        rows += _partition_lags(folded, ends, name, commits.get(name, ()), assigned.get(name, set()), window, active)
    topic_rates = _consume_rates(folded, history, topic_names)
    known_rates = [rate for _, rate in topic_rates if rate is not None]
    lag_values = [row.lag for row in rows if row.lag is not None]
    ages = [row.lag_seconds for row in rows if row.lag_seconds is not None]
    return GroupView(
        id=group.id,
        service=group_service(group.id, folded.config.aliases),
        state=group.state,
        protocol=group.protocol,
        members=_member_views(group.members),
        topics=tuple(topic_names),
        lag=sum(lag_values),
        lag_seconds=max(ages) if ages else None,
        status=worst([row.status for row in rows]) if rows else LagStatus.UNKNOWN,
        rate=sum(known_rates) if known_rates else None,
        topic_rates=topic_rates,
        partitions=tuple(rows),
    )


def _assigned(members: Iterable[Member]) -> dict[str, set[int]]:
    """The partitions of each topic assigned to any member."""
    assigned: dict[str, set[int]] = defaultdict(set)
    for member in members:
        for topic_name, numbers in member.assigned.items():
            assigned[topic_name].update(numbers)
    return assigned


def _member_views(members: Iterable[Member]) -> tuple[MemberView, ...]:
    return tuple(
        MemberView(
            member.member_id,
            member.client_id,
            member.host,
            tuple((name, tuple(sorted(parts))) for name, parts in sorted(member.assigned.items())),
        )
        for member in members
    )


def _partition_lags(
    folded: Folded,
    ends: _EndSeries,
    topic: str,
    committed: CommitRow,
    mine: Collection[int],
    window: Sequence[tuple[int, dict[str, CommitRow]]],
    active: bool,
) -> list[PartitionLag]:
    """Lag of each partition of ``topic`` that the group has committed or is assigned (``mine``)."""
    end = folded.end_latest.get(topic, ())
    # Looked up once per topic rather than once per lagging partition, and only once one lags.
    window_rows: list[WindowRow] | None = None
    rows: list[PartitionLag] = []
    # Partitions are keys: an assignment names them, and nothing is sized by the highest number named.
    for partition in sorted({p for p, c in enumerate(committed) if c is not None}.union(mine)):
        c = committed[partition] if partition < len(committed) else None
        e = end[partition] if partition < len(end) else None
        lag = max(e - c, 0) if c is not None and e is not None else None
        status = current_lag_status(lag)
        seconds: float | None = None if lag is None else 0.0
        if status is None:
            assert c is not None  # the lag is known
            history = ends.partition_history(topic, partition)
            seconds = lag_seconds(c, history, folded.now, _partition_rate(history))
            if window_rows is None:
                window_rows = [(then.get(topic), ends.row_at(t, topic)) for t, then in window]
            samples = [(_at(then_c, partition), _at(then_e, partition)) for then_c, then_e in window_rows]
            status = partition_status(samples, active)
        rows.append(PartitionLag(topic, partition, e, c, lag, seconds, status))
    return rows


def _consume_rates(
    folded: Folded, history: Entries, topic_names: Iterable[str]
) -> tuple[tuple[str, float | None], ...]:
    """Messages per second the group's commits moved on over the rate window, per topic."""
    commits = history[-1][1] if history else {}
    base = _first_in_window(history, folded.now - folded.config.rate_window_ms, commits)
    rates: list[tuple[str, float | None]] = []
    for name in topic_names:
        committed = commits.get(name, ())
        last = (history[-1][0], committed) if committed else None
        rates.append((name, _rate(base.get(name), last)))
    return tuple(rates)


# -- topics and their writers ------------------------------------------------------------------------


def _streams_owners(folded: Folded, groups: Iterable[GroupView]) -> dict[str, str]:
    """The Kafka Streams app, as a service, of each changelog and repartition topic that has one."""
    services = {group.id: group.service for group in groups}
    owners: dict[str, str] = {}
    for name in folded.topics:
        app = streams_application(name, services)
        if app is not None:
            owners[name] = services[app]
    return owners


def _producer_names(folded: Folded, owners: Mapping[str, str]) -> Mapping[int, tuple[str, int]]:
    """Producer id to (writer name, when named): from headers and transactional ids, and from what a
    producer writes. Streams writes an app's changelog, repartition and output topics with one producer
    per thread and nothing else writes its internal topics, so a producer seen there is the app's, even
    when its transactional id (`<application.id>-<process>-<thread>`) would name it otherwise."""
    if not owners:
        return folded.pid_names
    names = dict(folded.pid_names)
    for name, app in owners.items():
        newest = folded.topics[name].producers.newest
        if newest is not None:
            for states in newest[1].values():
                names.update((state[0], (app, newest[0])) for state in states)
    return names


def _topic_views(folded: Folded, groups: Iterable[GroupView], owners: Mapping[str, str]) -> tuple[TopicView, ...]:
    """Every topic with its produce rate, readers (``groups``), writers and owning Streams app, by name."""
    readers: dict[str, list[str]] = defaultdict(list)
    for view in groups:
        for topic_name in view.topics:
            readers[topic_name].append(view.id)
    end_base = _first_in_window(folded.ends, folded.now - folded.config.rate_window_ms, folded.end_latest)
    names = _producer_names(folded, owners)
    return tuple(
        _topic_view(folded, topic, end_base.get(name), tuple(readers.get(name, ())), names, owners.get(name))
        for name, topic in sorted(folded.topics.items())
    )


def _topic_view(
    folded: Folded,
    topic: TopicState,
    end_base: tuple[int, tuple[int, ...]] | None,
    audience: tuple[str, ...],
    producer_names: Mapping[int, tuple[str, int]],
    owner: str | None,
) -> TopicView:
    """One topic; its rate starts from ``end_base``, and ``audience`` are the groups that read it."""
    name = topic.name
    end = folded.end_latest.get(name, ())
    types = tuple(sorted(topic.types, key=lambda k: (-topic.types[k], k)))
    rate = _rate(end_base, (folded.end_seen.get(name, 0), end))
    return TopicView(
        name=name,
        partitions=max(topic.partitions, len(end)),
        internal=topic.internal,
        classification=classify_topic(name, internal=topic.internal, groups=audience, record_types=types, owner=owner),
        rate=rate,
        messages=sum(end),
        end_offsets=tuple(end),
        groups=audience,
        producers=_producer_rates(folded, topic, rate, producer_names),
        record_types=types,
        records=tuple(topic.records),
        offline=topic.offline,
        under_replicated=topic.under_replicated,
        owner=owner,
    )


def _producer_rates(
    folded: Folded, topic: TopicState, topic_rate: float | None, names: Mapping[int, tuple[str, int]]
) -> tuple[ProducerRate, ...]:
    """Writers of a topic with their rates (``names``: producer id to writer name).

    Idempotent and transactional producers report sequence numbers, which give exact rates per
    producer id; writers known only from record headers share the rest of the topic's rate.
    """
    result = _measured_rates(folded, topic.producers, names)
    result.extend(_header_shares(topic, topic_rate, result))
    if not result and topic_rate:
        result.append(ProducerRate(UNKNOWN_WRITER, topic_rate, estimated=True))
    return tuple(sorted(result, key=lambda p: p.name))


def _measured_rates(
    folded: Folded, samples: ProducerSamples, names: Mapping[int, tuple[str, int]]
) -> list[ProducerRate]:
    """Rates from sequence numbers, per writer name (a name may stand for several producer ids).

    Producer states the broker still retains but that wrote nothing within the retention period are
    not writers any more.
    """
    span = samples.rate_span(folded.now - folded.config.rate_window_ms)
    if span is None:
        return []
    (base_t, base), (last_t, last) = span
    horizon = folded.now - folded.config.retention_ms
    measured: dict[str, float | None] = {}
    pids: dict[str, list[int]] = defaultdict(list)
    for pid, (sequence, last_write) in sorted(last.items()):
        if 0 <= last_write < horizon:
            continue  # the broker still keeps its state, but it has stopped writing
        name = names.get(pid, (UNNAMED_PRODUCER.format(pid), 0))[0]
        rate = None
        if pid in base and base_t < last_t and sequence >= base[pid][0]:
            rate = (sequence - base[pid][0]) * 1000 / (last_t - base_t)
        previous = measured.get(name)
        measured[name] = rate if previous is None else previous + (rate or 0.0)
        pids[name].append(pid)
    return [ProducerRate(name, rate, tuple(pids[name])) for name, rate in measured.items()]


def _header_shares(topic: TopicState, topic_rate: float | None, measured: list[ProducerRate]) -> list[ProducerRate]:
    """Writers known only from record headers, sharing what the measured ones leave of the topic's rate
    in proportion to how often they appear among the sampled records."""
    named = {producer.name for producer in measured}
    header_only = sorted(name for name in topic.writers if name not in named)
    if not header_only:
        return []
    residual = None
    if topic_rate is not None:
        residual = max(topic_rate - sum(producer.rate or 0.0 for producer in measured), 0.0)
    counts = dict.fromkeys(header_only, 1)
    for writer in topic.record_writers:
        if writer in counts:
            counts[writer] += 1
    total = sum(counts.values())
    estimated = len(header_only) > 1 or bool(measured)
    return [
        ProducerRate(name, None if residual is None else residual * counts[name] / total, estimated=estimated)
        for name in header_only
    ]


# -- services, edges and findings --------------------------------------------------------------------


def _writers(topics: Iterable[TopicView]) -> dict[str, list[ProducerRate]]:
    """Each topic's writers that have a name or a producer id (all but the unknown writer)."""
    return {topic.name: [p for p in topic.producers if p.name != UNKNOWN_WRITER] for topic in topics}


def _writes(writers: Mapping[str, list[ProducerRate]]) -> dict[str, set[str]]:
    """The topics each writer produces to."""
    writes: dict[str, set[str]] = defaultdict(set)
    for topic_name, producers in writers.items():
        for producer in producers:
            writes[producer.name].add(topic_name)
    return writes


def _reads(groups: Iterable[GroupView]) -> dict[str, set[str]]:
    """The topics each consuming service reads (a service with a group but no topics reads nothing)."""
    reads: dict[str, set[str]] = defaultdict(set)
    for group in groups:
        reads[group.service].update(group.topics)
    return reads


def _services(
    writes: Mapping[str, set[str]], reads: Mapping[str, set[str]], groups: Iterable[GroupView]
) -> tuple[ServiceView, ...]:
    """Every service that writes or reads, with its topics and groups."""
    service_groups: dict[str, list[str]] = defaultdict(list)
    for group in groups:
        service_groups[group.service].append(group.id)
    return tuple(
        ServiceView(
            name=name,
            produces=tuple(sorted(writes.get(name, ()))),
            consumes=tuple(sorted(reads.get(name, ()))),
            groups=tuple(service_groups.get(name, ())),
            unknown=_is_unnamed(name),
        )
        for name in sorted(set(writes) | set(reads))
    )


def _edges(writers: Mapping[str, list[ProducerRate]], groups: Iterable[GroupView]) -> tuple[Edge, ...]:
    """Produce edges in topic order, then consume edges in group order."""
    produce = [Edge(p.name, name, "produce", p.rate) for name, producers in writers.items() for p in producers]
    consume = [Edge(name, group.id, "consume", rate) for group in groups for name, rate in group.topic_rates]
    return (*produce, *consume)


def _findings(
    topics: Iterable[TopicView],
    writers: Mapping[str, list[ProducerRate]],
    writes: Mapping[str, set[str]],
    reads: Mapping[str, set[str]],
) -> tuple[Finding, ...]:
    """Command chains and fan-outs among the named services."""
    # Producer ids without a name are left out: their identity is a guess.
    named_writes = {name: names for name, names in writes.items() if not _is_unnamed(name)}
    topic_writers = {name: [p.name for p in producers] for name, producers in writers.items()}
    return find_findings({topic.name: topic.kind for topic in topics}, named_writes, reads, topic_writers)


def _is_unnamed(name: str) -> bool:
    return name.startswith(UNNAMED_PRODUCER.format(""))


def _caption(note: NoteObs | None, now: int) -> str | None:
    """The note's text while it lasts."""
    if note is not None and (note.duration_ms is None or now < note.t + note.duration_ms):
        return note.text
    return None


# -- offsets over time -------------------------------------------------------------------------------


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


def _rate(base: tuple[int, tuple[Any, ...]] | None, last: tuple[int, tuple[Any, ...]] | None) -> float | None:
    """Messages per second between two (t, offsets) samples; None when they do not span any time."""
    if base is None or last is None or last[0] <= base[0]:
        return None
    return max(_total(last[1]) - _total(base[1]), 0) * 1000 / (last[0] - base[0])


def _total(offsets: tuple[int | None, ...]) -> int:
    try:
        return sum(offsets)  # type: ignore[arg-type]  # the common case: every partition has an offset
    except TypeError:
        return sum(o for o in offsets if o is not None)


def _partition_rate(history: list[tuple[int, int]]) -> float | None:
    if len(history) < 2 or history[-1][0] <= history[0][0]:
        return None
    return (history[-1][1] - history[0][1]) * 1000 / (history[-1][0] - history[0][0])


def _at(values: tuple[int | None, ...] | None, partition: int) -> int | None:
    return values[partition] if values is not None and partition < len(values) else None
