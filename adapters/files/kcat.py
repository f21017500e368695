"""kcat `-C -J` dumps as an observation stream.

kcat prints one JSON object per record: topic, partition, offset, tstype/ts (absent when the broker had
no timestamp), broker, headers (a flat ``[k1, v1, k2, v2, ...]`` array, or ``{k: [v, ...]}`` with
kcat's ``-J -M``-style map option), key and payload (JSON strings holding the raw bytes, null when
absent). A dump of several topics interleaves them in fetch order, not in time order, so the reader
folds the whole file first, into bounded aggregates, then plays it in record-time order:

- a refresh every ``interval_ms`` of record time (the same cadence as a live source), carrying the
  log-end offsets as the dump saw them (highest offset + 1 so far; a partition's first offset before
  its first record), so the FlowModel derives rates from record timestamps as it does live;
- quiet stretches get refreshes for one rate window, so rates fall to zero, then jump to the next
  activity;
- up to ``samples`` records per topic per refresh, each new (producer, type) pair first, so every
  writer named in a header (``ce_source`` ...) and every record type (``ce_type`` ...) is seen.

A dump holds no consumer groups: the stream opens with a ``status`` observation saying so, and every
topic reads as unread. Memory grows with (refreshes x partitions) and the kept samples, not with the
number of records.
"""

from __future__ import annotations

import json
import os
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import IO, Any

from adapters.files.recording import BadLines, RecordingError, first_line, open_input
from flow.config import PRODUCER_HEADERS, TYPE_HEADERS
from flow.instants import LAST_INSTANT_MS
from flow.observations import (
    INT32_MAX,
    INT64_MAX,
    EndOffsetsObs,
    Observation,
    Payload,
    RecordObs,
    StatusObs,
    TopicInfo,
    TopicsObs,
    load_json,
    payload_from_bytes,
)

KCAT_DETAIL = (
    "kcat dump: consumer groups are not recorded, so every topic reads as unread; "
    "producers and record types come from the records' headers"
)
"""The status detail that tells the UI and reports what a kcat dump cannot show."""

DEFAULT_INTERVAL_MS = 2000
DEFAULT_SAMPLES = 4
VALUE_PREVIEW_BYTES = 4096
"""Sampled keys, header values and values are cut to this many bytes; ``size`` keeps the full size."""
SPARSE_PARTITIONS = 1024
"""How far past the number of partitions a dump holds records of its partition numbers may run (a dump of
a few partitions of a big topic, ``kcat -p``); a number beyond that would size the topic's offset list."""
IDLE_REFRESHES = 30
"""Refreshes kept after the last activity before a quiet stretch is skipped: one 60 s rate window."""


def looks_like_kcat(line: bytes | str) -> bool:
    """True when one line is a kcat ``-J`` record: a JSON object with topic, partition and offset."""
    if isinstance(line, bytes):
        line = line.decode("utf-8", "surrogateescape")  # kcat writes raw bytes, valid UTF-8 or not
    try:
        data = load_json(line)
    except ValueError:
        return False
    return (
        isinstance(data, dict)
        and isinstance(data.get("topic"), str)
        and isinstance(data.get("partition"), int)
        and isinstance(data.get("offset"), int)
        and "format" not in data
        and "kind" not in data
    )


def _record_problem(data: Any) -> str | None:
    """What makes one parsed line not a kcat record, in words; None when it is one.

    Numbers are held to Kafka's own ranges (partition int32, offset and timestamp int64, a timestamp a
    date can show); ``ts`` absent, null or -1 means the broker had no timestamp. JSON's true is not 1.
    """
    if not isinstance(data, dict) or not isinstance(data.get("topic"), str):
        return 'not a kcat record: expected "topic", "partition" and "offset"'
    # The log-end offset after a record is its offset + 1, so an offset is at most one below int64's top.
    for field, top in (("partition", INT32_MAX), ("offset", INT64_MAX - 1)):
        value = data.get(field)
        if type(value) is not int:
            return f'not a kcat record: "{field}" must be a whole number (found {_shown(value)})'
        if not 0 <= value <= top:
            return f'"{field}" out of range: {_shown(value)} (0 to {top:,})'
    ts = data.get("ts")
    if ts is not None and ts != -1 and (type(ts) is not int or not 0 <= ts <= LAST_INSTANT_MS):
        return f'"ts" must be milliseconds since 1970, or -1 for none (found {_shown(ts)})'
    return None


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


@dataclass(slots=True)
class _Sample:
    partition: int
    offset: int
    timestamp: int | None
    key: Payload | None
    headers: tuple[tuple[str, Payload | None], ...]
    size: int
    value: Payload | None
    signature: tuple[str | None, str | None]


@dataclass(slots=True)
class _Folded:
    """What one pass over a dump keeps: bounded aggregates, not the records."""

    partitions: dict[str, int]
    """Topic -> partitions it has (highest partition number kept + 1)."""
    first_offsets: dict[tuple[str, int], int]
    """(topic, partition) -> lowest offset in the dump."""
    bucket_ends: dict[int, dict[tuple[str, int], int]]
    """Refresh bucket -> (topic, partition) -> highest offset + 1 among the bucket's records."""
    samples: dict[int, dict[str, list[_Sample]]]
    """Refresh bucket -> topic -> sampled records."""
    records: int


def _to_bytes(text: str) -> bytes:
    # kcat writes the raw bytes into the JSON string; invalid UTF-8 came in as surrogate escapes.
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace")


def _payload(value: Any, limit: int) -> tuple[Payload | None, int]:
    """(payload cut to ``limit`` bytes, full size in bytes) of a JSON key/value as kcat wrote it."""
    if value is None:
        return None, 0
    if not isinstance(value, str):
        # A deserialised value (kcat -s avro) arrives as JSON structure: keep its JSON text.
        value = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    data = _to_bytes(value)
    return payload_from_bytes(data, limit), len(data)


def _headers(raw: Any, limit: int) -> tuple[tuple[str, Payload | None], ...]:
    pairs: list[tuple[Any, Any]] = []
    if isinstance(raw, list):
        pairs = list(zip(raw[0::2], raw[1::2], strict=False))
    elif isinstance(raw, dict):
        for name, values in raw.items():
            for value in values if isinstance(values, list) else [values]:
                pairs.append((name, value))
    result: list[tuple[str, Payload | None]] = []
    for name, value in pairs:
        if not isinstance(name, str):
            continue
        header_name = _to_bytes(name).decode("utf-8", "replace")
        result.append((header_name, _payload(value, limit)[0] if value is not None else None))
    return tuple(result)


def _signature(headers: tuple[tuple[str, Payload | None], ...]) -> tuple[str | None, str | None]:
    writer = record_type = None
    for name, value in headers:
        if not isinstance(value, str):
            continue
        if writer is None and name in PRODUCER_HEADERS:
            writer = value
        elif record_type is None and name in TYPE_HEADERS:
            record_type = value
    return writer, record_type


class KcatReader(BadLines):
    """Streams a kcat ``-C -J`` dump as observations in record-time order (see the module docstring).

    Lenient by default: a line that is not a kcat record is skipped, counted and described in
    :attr:`problems`; strict: the first one raises :class:`RecordingError` reading ``FILE:LINE: ...``.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        strict: bool = False,
        interval_ms: int = DEFAULT_INTERVAL_MS,
        samples: int = DEFAULT_SAMPLES,
        preview_bytes: int = VALUE_PREVIEW_BYTES,
        stream: IO[bytes] | None = None,
    ) -> None:
        """``stream``: standard input or a pipe, already opened and sniffed as a dump (see open_file)."""
        if interval_ms <= 0 or samples < 0:
            raise ValueError("interval_ms must be positive and samples not negative")
        super().__init__()
        self.path = Path(path)
        self.strict = strict
        self.interval_ms = interval_ms
        self.samples = samples
        self.preview_bytes = preview_bytes
        self.lines_read = 0
        self.records = 0
        self._file: IO[bytes] | None = stream
        if stream is None:
            self._file = open_input(self.path, "a kcat dump")
            first = first_line(self.path)
            if first is None or not looks_like_kcat(first):
                self.close()
                raise RecordingError(
                    f"{self.path}:1: not a kcat -J dump: the first line must be a JSON object with "
                    '"topic", "partition" and "offset"'
                )
        self.source: dict[str, Any] = {"kind": "kcat", "file": self.path.name}

    # -- reading ---------------------------------------------------------------------------------------

    def _lines(self) -> Iterator[tuple[int, bytes, bool]]:
        """(line number, line, complete) for every line; a truncated gzip stream ends the file."""
        assert self._file is not None
        while True:
            try:
                line = self._file.readline()
            except (EOFError, zlib.error, OSError):
                what = "the compressed file is truncated here: the lines before it were read"
                self._problem(self.lines_read + 1, what)
                return
            if not line:
                return
            self.lines_read += 1
            yield self.lines_read, line, line.endswith(b"\n")

    def _fold(self) -> _Folded:
        interval, limit, keep = self.interval_ms, self.preview_bytes, self.samples
        lines_of: dict[tuple[str, int], list[int]] = {}
        first_offsets: dict[tuple[str, int], int] = {}
        bucket_ends: dict[int, dict[tuple[str, int], int]] = {}
        samples: dict[int, dict[str, list[_Sample]]] = {}
        last_ts: dict[tuple[str, int], int] = {}
        undated: list[tuple[str, int, int]] = []
        previous_ts: int | None = None
        records = 0
        for number, raw, complete in self._lines():
            stripped = raw.strip()
            if not stripped or stripped.startswith(b"%"):
                continue  # blank, or kcat's own remarks ("% Reached end of topic ...") mixed in from stderr
            try:
                data = load_json(stripped.decode("utf-8", "surrogateescape"))
            except json.JSONDecodeError as error:
                if not complete:
                    self._problem(number, "incomplete last line (the dump stopped mid-line)")
                    break
                self._problem(number, f"not valid JSON ({error.msg})")
                continue
            problem = _record_problem(data)
            if problem:
                self._problem(number, problem)
                continue
            topic = _to_bytes(data["topic"]).decode("utf-8", "replace")
            partition, offset = data["partition"], data["offset"]
            records += 1
            tp = (topic, partition)
            lines_of.setdefault(tp, []).append(number)
            first_offsets[tp] = min(first_offsets.get(tp, offset), offset)
            ts = data.get("ts")
            if ts is None or ts == -1:
                # No timestamp: the partition's previous record is the best guess (offsets follow time).
                ts = last_ts.get(tp, previous_ts)
                if ts is None:
                    undated.append((topic, partition, offset))
                    continue
            last_ts[tp] = previous_ts = ts
            bucket = ts // interval
            ends = bucket_ends.setdefault(bucket, {})
            if ends.get(tp, -1) < offset + 1:
                ends[tp] = offset + 1
            if keep:
                self._sample(samples.setdefault(bucket, {}).setdefault(topic, []), data, tp, ts, limit, keep)
        if undated:
            # Records before any timestamp (or a dump with none at all): put them at the first instant.
            fallback = min(bucket_ends) if bucket_ends else self._file_time() // interval
            ends = bucket_ends.setdefault(fallback, {})
            for topic, partition, offset in undated:
                ends[topic, partition] = max(ends.get((topic, partition), 0), offset + 1)
        records -= self._drop_implausible(lines_of, first_offsets, bucket_ends, samples)
        partitions: dict[str, int] = {}
        for topic, partition in first_offsets:
            partitions[topic] = max(partitions.get(topic, 0), partition + 1)
        self.records = records
        return _Folded(partitions, first_offsets, bucket_ends, samples, records)

    def _drop_implausible(
        self,
        lines_of: dict[tuple[str, int], list[int]],
        first_offsets: dict[tuple[str, int], int],
        bucket_ends: dict[int, dict[tuple[str, int], int]],
        samples: dict[int, dict[str, list[_Sample]]],
    ) -> int:
        """Leave out the records of partitions numbered far past the partitions the dump holds records of;
        returns how many were left out.

        A topic's log-end offsets are a list indexed by partition, so its highest partition number sizes
        that list: a number from a file must not size an allocation beyond what the file itself holds.
        """
        seen: dict[str, int] = {}
        for topic, _ in lines_of:
            seen[topic] = seen.get(topic, 0) + 1
        dropped = sorted((lines, tp) for tp, lines in lines_of.items() if tp[1] >= seen[tp[0]] + SPARSE_PARTITIONS)
        for lines, (topic, partition) in dropped:
            what = (
                f"partition {partition:,} of topic {topic!r} lies far past the {seen[topic]:,} partition(s) the "
                f"dump holds records of (numbers up to {SPARSE_PARTITIONS:,} past them are read)"
            )
            for line in lines:
                self._problem(line, what)
            del first_offsets[topic, partition]
            for ends in bucket_ends.values():
                ends.pop((topic, partition), None)
            for by_topic in samples.values():
                if topic in by_topic:
                    by_topic[topic] = [sample for sample in by_topic[topic] if sample.partition != partition]
        for bucket in [bucket for bucket, ends in bucket_ends.items() if not ends]:
            del bucket_ends[bucket]
        return sum(len(lines) for lines, _ in dropped)

    def _sample(
        self,
        kept: list[_Sample],
        data: dict[str, Any],
        tp: tuple[str, int],
        ts: int,
        limit: int,
        keep: int,
    ) -> None:
        """Keep up to ``keep`` records per topic and refresh, a new (producer, type) pair before repeats."""
        headers = _headers(data.get("headers"), limit)
        signature = _signature(headers)
        if len(kept) >= keep:
            seen = [sample.signature for sample in kept]
            if signature in seen:
                return
            repeated = [i for i, sample in enumerate(kept) if seen.count(sample.signature) > 1]
            if not repeated:
                return
            del kept[repeated[-1]]
        key, _ = _payload(data.get("key"), limit)
        value, size = _payload(data.get("payload"), limit)
        timestamp = data.get("ts") if data.get("ts") != -1 else None
        kept.append(_Sample(tp[1], data["offset"], timestamp, key, headers, size, value, signature))

    def _file_time(self) -> int:
        """When a dump with no timestamps at all was written: its file's time, or now for a pipe."""
        try:
            return int(self.path.stat().st_mtime * 1000)
        except OSError:
            return int(time.time() * 1000)

    @staticmethod
    def _timeline(buckets: list[int]) -> list[int]:
        """Refresh buckets: every active one; within a quiet stretch, one rate window of refreshes after
        the last activity and one just before the next (the base of its rate). The dump ends with its
        last record, so the final state shows the rates of its last minute of records."""
        timeline: list[int] = []
        for bucket, following in pairwise(buckets):
            quiet_end = min(following, bucket + IDLE_REFRESHES + 1)
            timeline.extend(range(bucket, quiet_end))
            if following > quiet_end:
                timeline.append(following - 1)
        timeline.append(buckets[-1])
        return timeline

    def __iter__(self) -> Iterator[Observation]:
        try:
            folded = self._fold()
        finally:
            self.close()
        if not folded.bucket_ends:
            return
        interval = self.interval_ms
        buckets = sorted(folded.bucket_ends)
        topics = sorted(folded.partitions)
        ends: dict[str, list[int]] = {
            name: [folded.first_offsets.get((name, p), 0) for p in range(folded.partitions[name])] for name in topics
        }
        start = buckets[0] * interval
        yield StatusObs(t=start, state="connected", detail=KCAT_DETAIL)
        yield TopicsObs(
            t=start, topics=tuple(TopicInfo(name=name, partitions=folded.partitions[name]) for name in topics)
        )
        # A topic's tuple is made again only when the topic moved: the model keeps a window of these.
        current = {name: tuple(ends[name]) for name in topics}
        yield EndOffsetsObs(t=start, offsets=current)
        for bucket in self._timeline(buckets):
            t = min((bucket + 1) * interval, LAST_INSTANT_MS)  # a refresh after the last instant is at it
            moved: set[str] = set()
            for (topic, partition), end in folded.bucket_ends.get(bucket, {}).items():
                values = ends[topic]
                if end > values[partition]:
                    values[partition] = end
                    moved.add(topic)
            if moved:
                current = current | {name: tuple(ends[name]) for name in moved}
            yield EndOffsetsObs(t=t, offsets=current)
            for topic, kept in sorted(folded.samples.get(bucket, {}).items()):
                for sample in sorted(kept, key=lambda s: (s.timestamp or 0, s.partition, s.offset)):
                    yield RecordObs(
                        t=t,
                        topic=topic,
                        partition=sample.partition,
                        offset=sample.offset,
                        timestamp=sample.timestamp,
                        key=sample.key,
                        headers=sample.headers,
                        size=sample.size,
                        value=sample.value,
                    )

    def span(self) -> tuple[int | None, int | None]:
        """First and last instants the stream will have (reads the whole dump; closes the reader)."""
        try:
            buckets = self._fold().bucket_ends
        finally:
            self.close()
        if not buckets:
            return None, None
        return min(buckets) * self.interval_ms, min((max(buckets) + 1) * self.interval_ms, LAST_INSTANT_MS)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
