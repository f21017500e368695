"""Read-only Kafka requests about brokers, topics, partitions, producers and transactions.

Only read-only APIs live in this module: there is no class for Produce or any other API that changes the
cluster, so the live source cannot send one by mistake. The encoding is in :mod:`adapters.kafka.codec`.

Versions were chosen so that one version of each API spans Kafka 3.0 to 4.x (Kafka 4.0 dropped many old
versions): Metadata v9, ListOffsets v6, Fetch v11, DescribeProducers v0, ListTransactions v0.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from adapters.kafka.codec import KafkaRequest, Reader, Writer

# -- Metadata (3) ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BrokerMeta:
    node_id: int
    host: str
    port: int
    rack: str | None


@dataclass(frozen=True, slots=True)
class PartitionMeta:
    error_code: int
    index: int
    leader: int
    replicas: tuple[int, ...] = ()
    isr: tuple[int, ...] = ()

    @property
    def offline(self) -> bool:
        """No leader: no broker serves this partition (its leader's broker and every in-sync replica is gone)."""
        return self.leader < 0

    @property
    def under_replicated(self) -> bool:
        return len(self.isr) < len(self.replicas)


@dataclass(frozen=True, slots=True)
class TopicMeta:
    error_code: int
    name: str
    internal: bool
    partitions: tuple[PartitionMeta, ...]


@dataclass(frozen=True, slots=True)
class MetadataResponse:
    brokers: tuple[BrokerMeta, ...]
    cluster_id: str | None
    controller_id: int
    topics: tuple[TopicMeta, ...]


class MetadataRequest(KafkaRequest[MetadataResponse]):
    """All topics (``topics=None``) or some; never allows the broker to auto-create a topic."""

    NAME = "Metadata"
    API_KEY = 3
    VERSIONS = (9,)
    FLEXIBLE_FROM = 9

    def __init__(self, topics: Sequence[str] | None = None) -> None:
        self.topics = None if topics is None else list(topics)

    def encode(self, w: Writer, version: int) -> None:
        def topic(w: Writer, name: str) -> None:
            w.string(name)
            w.tags()

        w.array(self.topics, topic)
        w.bool(False)  # AllowAutoTopicCreation: flowscope never creates topics, not even by asking
        w.bool(False)  # IncludeClusterAuthorizedOperations
        w.bool(False)  # IncludeTopicAuthorizedOperations
        w.tags()

    def decode(self, r: Reader, version: int) -> MetadataResponse:
        r.int32()  # throttle

        def broker(r: Reader) -> BrokerMeta:
            node_id, host, port, rack = r.int32(), r.string(), r.int32(), r.nullable_string()
            r.tags()
            return BrokerMeta(node_id, host, port, rack)

        def partition(r: Reader) -> PartitionMeta:
            error, index, leader = r.int16(), r.int32(), r.int32()
            r.int32()  # leader epoch
            replicas, isr = tuple(r.int32_array()), tuple(r.int32_array())
            r.skip_int32_array()  # offline replicas
            r.tags()
            return PartitionMeta(error, index, leader, replicas, isr)

        def topic(r: Reader) -> TopicMeta:
            error, name, internal = r.int16(), r.string(), r.bool()
            partitions = tuple(r.array(partition))
            r.int32()  # topic authorized operations
            r.tags()
            return TopicMeta(error, name, internal, partitions)

        brokers = tuple(r.array(broker))
        cluster_id = r.nullable_string()
        controller = r.int32()
        topics = tuple(r.array(topic))
        r.int32()  # cluster authorized operations
        r.tags()
        return MetadataResponse(brokers, cluster_id, controller, topics)


# -- ListOffsets (2) ---------------------------------------------------------------------------------------

LATEST = -1
"""ListOffsets timestamp for the log-end offset (high watermark with read_uncommitted)."""


@dataclass(frozen=True, slots=True)
class OffsetResult:
    topic: str
    partition: int
    error_code: int
    offset: int


class ListOffsetsRequest(KafkaRequest[list[OffsetResult]]):
    NAME = "ListOffsets"
    API_KEY = 2
    VERSIONS = (6,)
    FLEXIBLE_FROM = 6

    def __init__(self, partitions: Mapping[str, Sequence[int]], timestamp: int = LATEST) -> None:
        self.partitions = partitions
        self.timestamp = timestamp

    def encode(self, w: Writer, version: int) -> None:
        timestamp = self.timestamp

        def partition(w: Writer, index: int) -> None:
            w.int32(index)
            w.int32(-1)  # current leader epoch: unknown
            w.int64(timestamp)
            w.tags()

        def topic(w: Writer, item: tuple[str, Sequence[int]]) -> None:
            w.string(item[0])
            w.array(item[1], partition)
            w.tags()

        w.int32(-1)  # replica id: a plain client
        w.int8(0)  # read_uncommitted: the high watermark, as kafka-consumer-groups uses for lag
        w.array(list(self.partitions.items()), topic)
        w.tags()

    def decode(self, r: Reader, version: int) -> list[OffsetResult]:
        r.int32()  # throttle
        results: list[OffsetResult] = []

        def partition(r: Reader, topic: str) -> None:
            index, error = r.int32(), r.int16()
            r.int64()  # timestamp
            offset = r.int64()
            r.int32()  # leader epoch
            r.tags()
            results.append(OffsetResult(topic, index, error, offset))

        r.topics(partition)
        r.tags()
        return results


# -- DescribeProducers (61) -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PartitionProducers:
    topic: str
    partition: int
    error_code: int
    producers: tuple[tuple[int, int, int, int], ...]
    """(producer id, epoch, last sequence, last timestamp) per active producer."""


class DescribeProducersRequest(KafkaRequest[list[PartitionProducers]]):
    """Active idempotent and transactional producers per partition, answered by the partition leader."""

    NAME = "DescribeProducers"
    API_KEY = 61
    VERSIONS = (0,)
    FLEXIBLE_FROM = 0

    def __init__(self, partitions: Mapping[str, Sequence[int]]) -> None:
        self.partitions = partitions

    def encode(self, w: Writer, version: int) -> None:
        def topic(w: Writer, item: tuple[str, Sequence[int]]) -> None:
            w.string(item[0])
            w.array(item[1], Writer.int32)
            w.tags()

        w.array(list(self.partitions.items()), topic)
        w.tags()

    def decode(self, r: Reader, version: int) -> list[PartitionProducers]:
        r.int32()  # throttle
        results: list[PartitionProducers] = []

        def state(r: Reader) -> tuple[int, int, int, int]:
            pid, epoch, sequence, timestamp = r.int64(), r.int32(), r.int32(), r.int64()
            r.int32()  # coordinator epoch
            r.int64()  # current transaction start offset
            r.tags()
            return (pid, epoch, sequence, timestamp)

        def partition(r: Reader, topic: str) -> None:
            index, error = r.int32(), r.int16()
            r.nullable_string()  # error message
            states = tuple(r.array(state))
            r.tags()
            results.append(PartitionProducers(topic, index, error, states))

        r.topics(partition)
        r.tags()
        return results


# -- ListTransactions (66) ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TransactionsResponse:
    error_code: int
    transactions: tuple[tuple[str, int, str], ...]
    """(transactional id, producer id, state) per transaction this broker coordinates."""


class ListTransactionsRequest(KafkaRequest[TransactionsResponse]):
    NAME = "ListTransactions"
    API_KEY = 66
    VERSIONS = (0,)
    FLEXIBLE_FROM = 0

    def encode(self, w: Writer, version: int) -> None:
        w.array([], Writer.string)  # state filters: all
        w.array([], Writer.int64)  # producer id filters: all
        w.tags()

    def decode(self, r: Reader, version: int) -> TransactionsResponse:
        r.int32()  # throttle
        error = r.int16()
        r.string_array()  # unknown state filters

        def transaction(r: Reader) -> tuple[str, int, str]:
            item = (r.string(), r.int64(), r.string())
            r.tags()
            return item

        transactions = tuple(r.array(transaction))
        r.tags()
        return TransactionsResponse(error, transactions)


# -- Fetch (1), for the record sampler --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FetchedPartition:
    topic: str
    partition: int
    error_code: int
    high_watermark: int
    records: bytes


class FetchRequest(KafkaRequest[list[FetchedPartition]]):
    """A one-off read of a few partitions at given offsets, as a plain consumer with no group (v11).

    ``max_wait_ms=0`` with ``min_bytes=0`` answers at once with whatever is there, so a sample never
    holds up a refresh; there is no fetch session (session id 0, epoch -1).
    """

    NAME = "Fetch"
    API_KEY = 1
    VERSIONS = (11,)
    FLEXIBLE_FROM = 12

    def __init__(
        self,
        partitions: Mapping[str, Sequence[tuple[int, int]]],
        *,
        partition_max_bytes: int,
        max_bytes: int,
    ) -> None:
        self.partitions = partitions
        self.partition_max_bytes = partition_max_bytes
        self.max_bytes = max_bytes

    def encode(self, w: Writer, version: int) -> None:
        limit = self.partition_max_bytes

        def partition(w: Writer, item: tuple[int, int]) -> None:
            w.int32(item[0])
            w.int32(-1)  # current leader epoch: unknown
            w.int64(item[1])  # fetch offset
            w.int64(-1)  # log start offset: only followers send one
            w.int32(limit)

        def topic(w: Writer, item: tuple[str, Sequence[tuple[int, int]]]) -> None:
            w.string(item[0])
            w.array(item[1], partition)

        w.int32(-1)  # replica id: a plain consumer
        w.int32(0)  # max wait ms
        w.int32(0)  # min bytes
        w.int32(self.max_bytes)
        w.int8(0)  # read_uncommitted
        w.int32(0)  # session id: none
        w.int32(-1)  # session epoch: final, no session is created
        w.array(list(self.partitions.items()), topic)
        w.array([], Writer.string)  # forgotten topics
        w.string("")  # rack id

    def decode(self, r: Reader, version: int) -> list[FetchedPartition]:
        r.int32()  # throttle
        r.int16()  # top-level error (fetch sessions only)
        r.int32()  # session id
        results: list[FetchedPartition] = []

        def aborted(r: Reader) -> None:
            r.int64()
            r.int64()

        def partition(r: Reader, topic: str) -> None:
            index, error, high_watermark = r.int32(), r.int16(), r.int64()
            r.int64()  # last stable offset
            r.int64()  # log start offset
            r.array(aborted)
            r.int32()  # preferred read replica
            records = r.nullable_bytes() or b""
            results.append(FetchedPartition(topic, index, error, high_watermark, records))

        r.topics(partition)
        return results
