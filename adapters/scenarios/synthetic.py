"""Synthetic sources: a scenario simulated in virtual time, as the observations a live source would see.

Deterministic for a given seed: the same scenario, seed and interval give the same stream, line for line.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from adapters.files.recording import RecordingWriter, iso_utc
from adapters.scenarios.specs import GroupSpec, ScenarioSpec
from flow.observations import (
    Broker,
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
    TopicInfo,
    TopicsObs,
)

EPOCH_MS = 1_768_467_600_000
"""2026-01-15T09:00:00Z: where virtual time starts, so recordings do not depend on the day they were made."""


@dataclass(frozen=True, slots=True)
class SyntheticOptions:
    seed: int = 7
    interval_ms: int = 2000
    start_ms: int = EPOCH_MS
    duration_s: float | None = None
    """None: the scenario's own duration."""
    records_per_tick: int | None = None
    """At most this many sampled records per refresh (None: one per topic that received records)."""
    producers_every: int = 1
    """Emit producer states every this many refreshes."""
    describe_every: int = 15
    """Emit the topic list and group descriptions every this many refreshes."""


class _Simulation:
    def __init__(self, spec: ScenarioSpec, options: SyntheticOptions) -> None:
        self.spec = spec
        self.options = options
        self.rng = random.Random(options.seed)
        rng = self.rng
        self.partitions = {topic.name: topic.partitions for topic in spec.topics}
        self.end = {
            topic.name: [1000 + int(rng.random() * 40_000) for _ in range(topic.partitions)] for topic in spec.topics
        }
        self.committed = {
            group.group: {topic: [max(o - int(rng.random() * 3), 0) for o in self.end[topic]] for topic in group.topics}
            for group in spec.groups
        }
        services = sorted({e.service for e in spec.emitters} | {r.service for r in spec.reactions})
        self.pids = {service: 4000 + index for index, service in enumerate(services)}
        self.sequences: dict[tuple[str, str], list[int]] = {}
        self.writers_of: dict[str, list[str]] = {}
        self.phases = [rng.random() for _ in spec.emitters]
        self.reactions_by_trigger: dict[tuple[str, str], list[int]] = {}
        for index, reaction in enumerate(spec.reactions):
            self.reactions_by_trigger.setdefault((reaction.service, reaction.trigger), []).append(index)
        self.order_counter = 10_000
        self.members = {group.group: self._members(index, group) for index, group in enumerate(spec.groups)}

    def _members(self, index: int, group: GroupSpec) -> tuple[Member, ...]:
        members = []
        for number in range(group.members):
            assigned: dict[str, tuple[int, ...]] = {}
            for topic in group.topics:
                mine = tuple(p for p in range(self.partitions[topic]) if p % group.members == number)
                if mine:
                    assigned[topic] = mine
            client_id = f"{group.service}-{number + 1}"
            suffix = f"{int(self.rng.random() * 0xFFFFFFFF):08x}"
            members.append(
                Member(
                    member_id=f"{client_id}-{suffix}",
                    client_id=client_id,
                    host=f"/10.0.{index % 250}.{10 + number}",
                    assigned=assigned,
                    subscribed=group.topics,
                )
            )
        return tuple(members)

    def _poisson(self, mean: float) -> int:
        if mean <= 0:
            return 0
        if mean > 30:
            return max(round(mean + math.sqrt(mean) * self.rng.gauss(0, 1)), 0)
        limit, k, product = math.exp(-mean), 0, self.rng.random()
        while product > limit:
            k += 1
            product *= self.rng.random()
        return k

    def _spread(self, topic: str, count: int) -> list[int]:
        partitions = self.partitions[topic]
        split = [count // partitions] * partitions
        for _ in range(count % partitions):
            split[int(self.rng.random() * partitions)] += 1
        return split

    def _write(self, service: str, topic: str, split: list[int], produced: dict[str, list[int]]) -> None:
        end = self.end[topic]
        sequences = self.sequences.get((service, topic))
        if sequences is None:
            sequences = self.sequences[service, topic] = [-1] * len(end)
            self.writers_of.setdefault(topic, []).append(service)
        tick = produced.setdefault(topic, [0] * len(end))
        for partition, count in enumerate(split):
            if count:
                end[partition] += count
                sequences[partition] += count
                tick[partition] += count

    def _capacity(self, group: GroupSpec, seconds: float) -> float:
        slow = group.slow
        if slow is not None and slow.start_s <= seconds < slow.end_s:
            return group.capacity * slow.factor
        return group.capacity

    def tick(self, seconds: float, dt: float) -> tuple[dict[str, list[int]], dict[str, dict[str, int]]]:
        """Advance one refresh; returns records produced per topic and partition, and per topic by writer."""
        produced: dict[str, list[int]] = {}
        writers: dict[str, dict[str, int]] = {}
        for index, emitter in enumerate(self.spec.emitters):
            phase = self.phases[index]
            wave = 1 + 0.35 * math.sin(2 * math.pi * (seconds / 97 + phase)) + 0.15 * math.sin(seconds / 7 + phase)
            count = self._poisson(emitter.rate * wave * dt)
            if count:
                self._write(emitter.service, emitter.topic, self._spread(emitter.topic, count), produced)
                by_writer = writers.setdefault(emitter.topic, {})
                by_writer[emitter.service] = by_writer.get(emitter.service, 0) + count
        for group in self.spec.groups:
            budget = self._capacity(group, seconds) * dt
            commits = self.committed[group.group]
            wanted: list[tuple[str, int, int]] = []
            for topic in group.topics:
                fresh = produced.get(topic)
                for partition, end in enumerate(self.end[topic]):
                    # Records written in the last moments of the refresh are not read yet: lag is rarely 0.
                    in_flight = int(fresh[partition] * self.rng.random() * 0.3) if fresh else 0
                    backlog = end - in_flight - commits[topic][partition]
                    if backlog > 0:
                        wanted.append((topic, partition, backlog))
            total = sum(backlog for _, _, backlog in wanted)
            share = min(budget / total, 1.0) if total else 0.0
            consumed: dict[str, int] = {}
            for topic, partition, backlog in wanted:
                count = min(int(backlog * share + self.rng.random()), backlog)
                commits[topic][partition] += count
                consumed[topic] = consumed.get(topic, 0) + count
            for topic, count in consumed.items():
                for index in self.reactions_by_trigger.get((group.service, topic), ()):
                    reaction = self.spec.reactions[index]
                    out = int(count * reaction.ratio)
                    if out:
                        self._write(reaction.service, reaction.topic, self._spread(reaction.topic, out), produced)
                        by_writer = writers.setdefault(reaction.topic, {})
                        by_writer[reaction.service] = by_writer.get(reaction.service, 0) + out
        return produced, writers

    def record(self, t: int, topic: str, writer: str, partition: int, record_type: str) -> RecordObs:
        rng = self.rng
        self.order_counter += 1
        order = f"o-{self.order_counter}"
        template = self.spec.values.get(record_type)
        value = (
            template.format(
                order=order,
                sku=f"SKU-{int(rng.random() * 9000) + 1000}",
                n=1 + int(rng.random() * 3),
                customer=f"c-{int(rng.random() * 90000) + 10000}",
            )
            if template
            else f'{{"id":"{order}","type":"{record_type}"}}'
        )
        ce_id = f"{int(rng.random() * 0xFFFFFFFF):08x}-{int(rng.random() * 0xFFFF):04x}"
        unnamed = writer in self.spec.unnamed
        cloud_event = (
            ("ce_specversion", "1.0"),
            ("ce_id", ce_id),
            ("ce_source", f"/{writer}"),
            ("ce_type", record_type),
        )
        return RecordObs(
            t=t,
            topic=topic,
            partition=partition,
            offset=self.end[topic][partition] - 1,
            timestamp=t - int(rng.random() * self.options.interval_ms),
            key=order,
            headers=(*(() if unnamed else cloud_event), ("content-type", "application/json")),
            size=len(value.encode()),
            value=value,
            producer_id=None if unnamed else self.pids[writer],
        )

    def groups(self, t: int) -> Iterator[GroupObs]:
        for group in self.spec.groups:
            yield GroupObs(
                t=t,
                group=group.group,
                state="Stable" if group.members else "Empty",
                protocol=group.protocol,
                assignor="uniform" if group.protocol == "consumer" else "range",
                members=self.members[group.group],
            )

    def producers(self, t: int, topic: str) -> ProducersObs | None:
        """What DescribeProducers says of a topic: its idempotent and transactional writers' states (a plain
        producer, one of the scenario's unnamed services, leaves none)."""
        states: dict[int, list[ProducerState]] = {}
        transactional: dict[int, str] = {}
        for service in self.writers_of.get(topic, ()):
            if service in self.spec.unnamed:
                continue
            pid = self.pids[service]
            for partition, sequence in enumerate(self.sequences[service, topic]):
                if sequence >= 0:
                    states.setdefault(partition, []).append((pid, 0, sequence, t))
            if service in self.spec.transactional:
                transactional[pid] = self.spec.transactional[service]
        if not states:
            return None
        partitions = {p: tuple(s) for p, s in states.items()}
        return ProducersObs(t=t, topic=topic, partitions=partitions, transactional_ids=transactional)


def synthetic(spec: ScenarioSpec, options: SyntheticOptions | None = None) -> Iterator[Observation]:
    """The observations a live source refreshing every ``interval_ms`` would see of this scenario."""
    options = options or SyntheticOptions()
    sim = _Simulation(spec, options)
    interval = options.interval_ms
    duration = spec.duration_s if options.duration_s is None else options.duration_s
    ticks = int(duration * 1000 // interval) + 1
    notes = sorted(spec.notes)
    next_note = 0
    record_types = {(e.service, e.topic): e.record_type for e in spec.emitters}
    record_types.update({(r.service, r.topic): r.record_type for r in spec.reactions})
    topic_list = TopicsObs(
        t=options.start_ms,
        topics=(
            TopicInfo(name="__consumer_offsets", partitions=50, internal=True),
            *(TopicInfo(name=topic.name, partitions=topic.partitions) for topic in spec.topics),
        ),
    )
    sampled_from = 0
    for tick in range(ticks):
        t = options.start_ms + tick * interval
        seconds = tick * interval / 1000
        if tick == 0:
            yield StatusObs(t=t, state="connected", detail=f"synthetic scenario {spec.name}, seed {options.seed}")
            yield ClusterObs(
                t=t,
                cluster_id=f"synthetic-{spec.name}",
                brokers=tuple(Broker(id=i, host=f"broker-{i}.synthetic", port=9092) for i in (1, 2, 3)),
                controller_id=1,
            )
        # The first refresh already sees a refresh's worth of traffic, as a live source attaching to a
        # busy cluster does: writers are known from the first frame on.
        produced, writers = sim.tick(seconds, interval / 1000)
        if tick % options.describe_every == 0:
            yield replace(topic_list, t=t)
            yield from sim.groups(t)
        yield EndOffsetsObs(t=t, offsets={name: tuple(end) for name, end in sim.end.items()})
        for group in spec.groups:
            yield CommitsObs(
                t=t,
                group=group.group,
                offsets={topic: tuple(o) for topic, o in sim.committed[group.group].items()},
            )
        if tick % options.producers_every == 0:
            for topic in spec.topics:
                producers = sim.producers(t, topic.name)
                if producers is not None:
                    yield producers
        busy = sorted(produced)
        if options.records_per_tick is not None and len(busy) > options.records_per_tick:
            # Rotate through the busy topics so every topic gets samples over time.
            start = sampled_from % len(busy)
            busy = (busy[start:] + busy[:start])[: options.records_per_tick]
            sampled_from += options.records_per_tick
        for topic_name in busy:
            counts = produced[topic_name]
            partition = max(range(len(counts)), key=counts.__getitem__)
            writer = max(writers[topic_name].items(), key=lambda item: (item[1], item[0]))[0]
            yield sim.record(t, topic_name, writer, partition, record_types[writer, topic_name])
        while next_note < len(notes) and options.start_ms + notes[next_note][0] * 1000 < t + interval:
            note_t = max(options.start_ms + int(notes[next_note][0] * 1000), t)
            yield NoteObs(t=note_t, text=notes[next_note][1])
            next_note += 1


def write_recording(spec: ScenarioSpec, path: Path, options: SyntheticOptions | None = None) -> int:
    """Write a scenario as a recording file; the same inputs give the same bytes. Returns the line count."""
    options = options or SyntheticOptions()
    source = {
        "kind": "synthetic",
        "scenario": spec.name,
        "seed": options.seed,
        "interval_ms": options.interval_ms,
        "description": spec.description,
    }
    created = iso_utc(datetime.fromtimestamp(options.start_ms / 1000, UTC))
    # gzip stores a modification time; a fixed one keeps compressed recordings reproducible too.
    lines = 0
    with RecordingWriter(path, source, created=created, app="flowscope") as writer:
        for obs in synthetic(spec, options):
            writer.write(obs)
            lines += 1
    return lines
