"""The record sampler: reads a few of the newest records per topic with no consumer group at all.

It is a plain Fetch at chosen offsets (assign-only, in consumer terms): it never joins a group, never
commits and leaves nothing behind on the broker (no fetch session). Each topic earns sampling credit at
``per_topic_per_second`` records per second; each refresh spends it on the partitions that grew since the
last look, reading from just before their log-end offsets, so the sampler follows the head of the log and
never reads a topic from the beginning. Batches carry the producer id, which is how a sampled record's
headers (``ce_source`` ...) name an idempotent producer seen by DescribeProducers.

Every codec Kafka has is read (gzip by the standard library; snappy, lz4 and zstd by ``cramjam``, a
dependency); a batch that still cannot be read (corrupt) is counted as undecodable and skipped.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiokafka.record.memory_records import MemoryRecords

from adapters.kafka.requests import FetchedPartition
from adapters.settings import PayloadPolicy
from flow.observations import Payload, RecordObs, SchemaInfo, payload_from_bytes

if TYPE_CHECKING:
    from adapters.schemas.decoder import SchemaDecoder


FULL_DECODED_CHARS = 1 << 20
"""A decoded value as JSON text, with payloads "full", is cut here all the same."""


@dataclass(frozen=True, slots=True)
class SamplerOptions:
    payloads: PayloadPolicy = "preview"
    """none: no values at all; preview: values cut to ``preview_bytes``; full: whole values."""
    per_topic_per_second: float = 2.0
    """At most this many records per topic per second, on average (a short burst of ``burst_seconds``)."""
    burst_seconds: float = 5.0
    preview_bytes: int = 1024
    key_bytes: int = 256
    header_bytes: int = 512
    partition_max_bytes: int = 64 * 1024
    max_bytes: int = 4 * 1024 * 1024
    """Upper bound of one Fetch response; the broker stops adding partitions beyond it."""
    max_partitions: int = 500
    """Partitions read per refresh across the cluster; topics take turns beyond that."""
    internal_topics: bool = False


@dataclass(frozen=True, slots=True)
class Planned:
    """One partition to read: from ``offset``, at most ``count`` records; ``end`` is its log-end offset."""

    topic: str
    partition: int
    offset: int
    count: int
    end: int


@dataclass(frozen=True, slots=True)
class Fetched:
    """One record as fetched, before it becomes an observation (schemas may have to be fetched first)."""

    plan: Planned
    offset: int
    timestamp: int | None
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes | None], ...]
    producer: int


@dataclass(slots=True)
class SampleStats:
    records: int = 0
    undecodable_batches: int = 0
    partition_errors: int = 0


class Sampler:
    """Plans which offsets to read each refresh and turns fetched batches into record observations."""

    def __init__(
        self,
        options: SamplerOptions | None = None,
        clock: Callable[[], float] = time.monotonic,
        decoder: SchemaDecoder | None = None,
    ):
        self.options = options or SamplerOptions()
        self.decoder = decoder
        """Decodes keys and values in a schema registry's wire format (Avro, Protobuf, JSON Schema)."""
        self._clock = clock
        self._seen: dict[tuple[str, int], int] = {}
        self._credit: dict[str, float] = {}
        self._turn: dict[str, int] = {}
        self._last: float | None = None
        self._start_topic = 0
        self.stats = SampleStats()

    def plan(self, ends: Mapping[str, Mapping[int, int]], internal: Iterable[str] = ()) -> list[Planned]:
        """Partitions to read now, given each topic's log-end offsets (topic -> partition -> offset)."""
        options = self.options
        now = self._clock()
        elapsed = 1.0 if self._last is None else max(now - self._last, 0.0)
        self._last = now
        cap = max(options.per_topic_per_second * options.burst_seconds, 1.0)
        skip = set() if options.internal_topics else set(internal)
        names = sorted(name for name in ends if name not in skip)
        for name in list(self._credit):
            if name not in ends:
                del self._credit[name]
                self._turn.pop(name, None)
        for key in [key for key in self._seen if key[0] not in ends]:
            del self._seen[key]
        if not names:
            return []
        # Topics take turns at the front of the line, so a capped refresh does not always favour "a...".
        self._start_topic = (self._start_topic + 1) % len(names)
        order = names[self._start_topic :] + names[: self._start_topic]
        planned: list[Planned] = []
        for name in order:
            credit = min(self._credit.get(name, 0.0) + options.per_topic_per_second * elapsed, cap)
            self._credit[name] = credit
            budget = math.floor(credit)
            if budget <= 0 or len(planned) >= options.max_partitions:
                continue
            fresh: list[tuple[int, int, int]] = []  # (partition, new records, end)
            for partition, end in sorted(ends[name].items()):
                seen = self._seen.get((name, partition))
                base = seen if seen is not None else max(end - budget, 0)
                if seen is None:
                    # First sight: the newest few records are what is happening now; older ones are history.
                    self._seen[(name, partition)] = base
                if end > base:
                    fresh.append((partition, end - base, end))
            if not fresh:
                continue
            turn = self._turn.get(name, 0) % len(fresh)
            fresh = fresh[turn:] + fresh[:turn]
            self._turn[name] = self._turn.get(name, 0) + 1
            shares = dict.fromkeys((p for p, _, _ in fresh), 0)
            available = {p: new for p, new, _ in fresh}
            left = budget
            while left > 0 and any(shares[p] < available[p] for p in shares):
                for partition in shares:
                    if left > 0 and shares[partition] < available[partition]:
                        shares[partition] += 1
                        left -= 1
            for partition, _, end in fresh:
                count = shares[partition]
                if count and len(planned) < options.max_partitions:
                    planned.append(Planned(name, partition, max(end - count, 0), count, end))
        return planned

    def read(self, t: int, planned: list[Planned], fetched: Iterable[FetchedPartition]) -> list[RecordObs]:
        """Record observations from fetched partitions (schemas only from the decoder's cache); see collect."""
        return self.observe(t, self.collect(planned, fetched))

    def collect(self, planned: list[Planned], fetched: Iterable[FetchedPartition]) -> list[Fetched]:
        """The records of fetched partitions; every planned partition is marked as read up to its end,
        whether or not it answered, so a failing partition is not retried at every refresh."""
        wanted = {(p.topic, p.partition): p for p in planned}
        records: list[Fetched] = []
        for part in fetched:
            plan = wanted.get((part.topic, part.partition))
            if plan is None:
                continue
            if part.error_code:
                self.stats.partition_errors += 1
                continue
            taken = self._decode(plan, part.records, records)
            self._credit[plan.topic] = max(self._credit.get(plan.topic, 0.0) - taken, 0.0)
        for plan in planned:
            key = (plan.topic, plan.partition)
            self._seen[key] = max(self._seen.get(key, 0), plan.end)
        self.stats.records += len(records)
        return records

    def schema_ids(self, records: Iterable[Fetched]) -> set[int]:
        """The schema ids the keys and values of these records name (wire format), to prefetch."""
        ids: set[int] = set()
        if self.decoder is not None:
            for record in records:
                for data in (record.key, record.value):
                    found = self.decoder.schema_id(data)
                    if found is not None:
                        ids.add(found)
        return ids

    def observe(self, t: int, records: Iterable[Fetched]) -> list[RecordObs]:
        options = self.options
        return [self._observation(t, record, options) for record in records]

    def _decode(self, plan: Planned, data: bytes, into: list[Fetched]) -> int:
        taken = 0
        batches = MemoryRecords(data)
        while taken < plan.count and batches.has_next():
            batch: Any = batches.next_batch()
            if batch is None:
                break
            if getattr(batch, "is_control_batch", False):
                continue  # transaction markers, not records
            producer = getattr(batch, "producer_id", -1)
            try:
                for record in batch:
                    if record.offset < plan.offset:
                        continue
                    into.append(
                        Fetched(
                            plan,
                            record.offset,
                            record.timestamp,
                            record.key,
                            record.value,
                            tuple(record.headers or ()),
                            producer,
                        )
                    )
                    taken += 1
                    if taken >= plan.count:
                        break
            except Exception:  # compressed with a codec we cannot read, or corrupt: skip, count it
                self.stats.undecodable_batches += 1
        return taken

    def _observation(self, t: int, record: Fetched, options: SamplerOptions) -> RecordObs:
        key = record.key
        value = record.value
        size = len(key or b"") + len(value or b"")
        headers: list[tuple[str, Payload | None]] = []
        for name, data in record.headers:
            size += len(name.encode("utf-8", errors="replace")) + len(data or b"")
            headers.append((name, payload_from_bytes(data, options.header_bytes)))
        shown: Payload | None = None
        value_schema: SchemaInfo | None = None
        key_schema: SchemaInfo | None = None
        decoder = self.decoder
        if decoder is not None:
            # With payloads "none" the schema still names the type; the payload is not decoded at all.
            limit = {"none": None, "preview": options.preview_bytes, "full": FULL_DECODED_CHARS}[options.payloads]
            decoded = decoder.decode(value, limit, topic=record.plan.topic)
            if decoded is not None:
                value_schema = decoded.schema
                shown = decoded.text
        if shown is None and options.payloads == "preview":
            shown = payload_from_bytes(value, options.preview_bytes)
        elif shown is None and options.payloads == "full":
            shown = payload_from_bytes(value)
        shown_key: Payload | None = None
        decoded_key = decoder.decode(key, options.key_bytes, topic=record.plan.topic, role="key") if decoder else None
        if decoded_key is not None:
            key_schema = decoded_key.schema
            shown_key = decoded_key.text
        if shown_key is None:
            shown_key = payload_from_bytes(key, options.key_bytes)
        plan = record.plan
        timestamp = record.timestamp
        producer = record.producer
        return RecordObs(
            t=t,
            topic=plan.topic,
            partition=plan.partition,
            offset=record.offset,
            timestamp=timestamp if timestamp is not None and timestamp >= 0 else None,
            key=shown_key,
            headers=tuple(headers),
            size=size,
            value=shown,
            producer_id=producer if producer is not None and producer >= 0 else None,
            key_schema=key_schema,
            value_schema=value_schema,
        )
