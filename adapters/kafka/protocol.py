"""The Kafka requests flowscope sends, encoded and decoded here from Kafka's published message schemas.

Only read-only APIs live in this module: there is no class for Produce, OffsetCommit, JoinGroup or any
other API that changes the cluster, so the live source cannot send one by mistake. aiokafka's connection
does the framing, the ApiVersions exchange and SASL; each request here picks the newest version it
implements that the broker supports (``prepare``), which is how aiokafka's own request classes work.

Versions were chosen so that one version of each API spans Kafka 3.0 to 4.x (Kafka 4.0 dropped many old
versions): Metadata v9, ListOffsets v6, ListGroups v3-v5, DescribeGroups v5, OffsetFetch v8 (many groups
in one request), Fetch v11, DescribeProducers v0, ListTransactions v0, ConsumerGroupDescribe v0.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from io import BytesIO
from typing import Any, ClassVar, Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

_I8 = struct.Struct(">b")
_I16 = struct.Struct(">h")
_I32 = struct.Struct(">i")
_I64 = struct.Struct(">q")


class ProtocolError(ValueError):
    """A response that does not parse as the schema says: a bug here or a broker we do not understand."""


DECODE_ERRORS = (ProtocolError, struct.error, IndexError, ValueError)
"""What reading a malformed or truncated body raises (the Reader does not check bounds twice)."""


class UnsupportedVersion(Exception):
    """The broker does not offer any version of an API that flowscope implements."""

    def __init__(self, api: str, api_key: int, offered: tuple[int, int] | None, wanted: Sequence[int]) -> None:
        self.api = api
        self.api_key = api_key
        self.offered = offered
        span = "does not offer it" if offered is None else f"offers v{offered[0]}-v{offered[1]}"
        super().__init__(
            f"the broker {span} of {api} (API key {api_key}); flowscope speaks " + ", ".join(f"v{v}" for v in wanted)
        )


# -- encoding --------------------------------------------------------------------------------------------


class Reader:
    """Reads one response body; ``flexible`` switches to compact strings/arrays and tagged fields.

    Hot path: a large cluster's responses hold tens of thousands of fields, so every read is a single
    ``unpack_from`` at a position; reading past the end raises ``struct.error`` (or IndexError), which the
    decoder turns into a ProtocolError.
    """

    __slots__ = ("_data", "_pos", "flexible")

    def __init__(self, data: bytes, flexible: bool) -> None:
        self._data = data
        self._pos = 0
        self.flexible = flexible

    def int8(self) -> int:
        pos = self._pos
        self._pos = pos + 1
        value: int = _I8.unpack_from(self._data, pos)[0]
        return value

    def bool(self) -> bool:
        return self.int8() != 0

    def int16(self) -> int:
        pos = self._pos
        self._pos = pos + 2
        value: int = _I16.unpack_from(self._data, pos)[0]
        return value

    def int32(self) -> int:
        pos = self._pos
        self._pos = pos + 4
        value: int = _I32.unpack_from(self._data, pos)[0]
        return value

    def int64(self) -> int:
        pos = self._pos
        self._pos = pos + 8
        value: int = _I64.unpack_from(self._data, pos)[0]
        return value

    def uvarint(self) -> int:
        data, pos = self._data, self._pos
        byte = data[pos]
        if byte < 0x80:  # nearly every length and count fits in one byte
            self._pos = pos + 1
            return byte
        value = byte & 0x7F
        shift = 7
        while True:
            pos += 1
            byte = data[pos]
            value |= (byte & 0x7F) << shift
            if not byte & 0x80:
                self._pos = pos + 1
                return value
            shift += 7
            if shift > 28:
                raise ProtocolError("unsigned varint longer than 5 bytes")

    def _span(self, size: int) -> int:
        pos = self._pos
        end = pos + size
        if end > len(self._data):
            raise ProtocolError(f"response ends early: needed {size} bytes at {pos} of {len(self._data)}")
        self._pos = end
        return pos

    def nullable_string(self) -> str | None:
        size = self.uvarint() - 1 if self.flexible else self.int16()
        if size < 0:
            return None
        pos = self._span(size)
        return self._data[pos : pos + size].decode("utf-8", errors="replace")

    def string(self) -> str:
        return self.nullable_string() or ""

    def nullable_bytes(self) -> bytes | None:
        size = self.uvarint() - 1 if self.flexible else self.int32()
        if size < 0:
            return None
        pos = self._span(size)
        return self._data[pos : pos + size]

    def blob(self) -> bytes:
        return self.nullable_bytes() or b""

    def uuid(self) -> bytes:
        pos = self._span(16)
        return self._data[pos : pos + 16]

    def _count(self) -> int:
        return max(self.uvarint() - 1 if self.flexible else self.int32(), 0)

    def array(self, item: Callable[[Reader], T]) -> list[T]:
        """An array of items; a null array reads as empty."""
        return [item(self) for _ in range(self._count())]

    def int32_array(self) -> list[int]:
        count = self._count()
        pos = self._span(4 * count)
        return list(struct.unpack_from(f">{count}i", self._data, pos))

    def skip_int32_array(self) -> None:
        self._span(4 * self._count())

    def string_array(self) -> list[str]:
        return self.array(Reader.string)

    def tags(self) -> None:
        """Skip a struct's tagged fields (flexible versions only); flowscope reads none of them."""
        if not self.flexible:
            return
        data, pos = self._data, self._pos
        if pos < len(data) and data[pos] == 0:  # no tagged fields: the usual case
            self._pos = pos + 1
            return
        for _ in range(self.uvarint()):
            self.uvarint()
            self._span(self.uvarint())

    def done(self) -> None:
        if self._pos != len(self._data):
            raise ProtocolError(f"{len(self._data) - self._pos} unread bytes at the end of the response")


class Writer:
    """Builds one request body; ``flexible`` as for :class:`Reader`."""

    __slots__ = ("_out", "flexible")

    def __init__(self, flexible: bool) -> None:
        self._out = bytearray()
        self.flexible = flexible

    def int8(self, value: int) -> None:
        self._out += _I8.pack(value)

    def bool(self, value: bool) -> None:
        self.int8(1 if value else 0)

    def int16(self, value: int) -> None:
        self._out += _I16.pack(value)

    def int32(self, value: int) -> None:
        self._out += _I32.pack(value)

    def int64(self, value: int) -> None:
        self._out += _I64.pack(value)

    def uvarint(self, value: int) -> None:
        while value > 0x7F:
            self._out.append((value & 0x7F) | 0x80)
            value >>= 7
        self._out.append(value)

    def nullable_string(self, value: str | None) -> None:
        if value is None:
            if self.flexible:
                self.uvarint(0)
            else:
                self.int16(-1)
            return
        data = value.encode("utf-8")
        if self.flexible:
            self.uvarint(len(data) + 1)
        else:
            self.int16(len(data))
        self._out += data

    def string(self, value: str) -> None:
        self.nullable_string(value)

    def array(self, items: Sequence[T] | None, item: Callable[[Writer, T], None]) -> None:
        if items is None:
            if self.flexible:
                self.uvarint(0)
            else:
                self.int32(-1)
            return
        if self.flexible:
            self.uvarint(len(items) + 1)
        else:
            self.int32(len(items))
        for value in items:
            item(self, value)

    def tags(self) -> None:
        if self.flexible:
            self.uvarint(0)

    def getvalue(self) -> bytes:
        return bytes(self._out)


# -- the request protocol aiokafka's connection expects ----------------------------------------------------


class _Encoded:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def encode(self) -> bytes:
        return self._data


@dataclass(frozen=True, slots=True)
class _ResponseHeader:
    correlation_id: int


class _Decoder(Generic[R]):
    """What aiokafka's connection calls ``RESPONSE_TYPE``: it decodes the body after the header.

    It never raises: an exception here would escape into aiokafka's reader task, which then closes the
    connection and reports only "connection closed". A response that does not parse is returned as a
    :class:`ProtocolError` value instead, and :func:`unwrap` raises it where the request was sent.
    """

    def __init__(self, request: KafkaRequest[R], version: int) -> None:
        self._request = request
        self._version = version

    def decode(self, data: BytesIO) -> R | ProtocolError:
        reader = Reader(data.read(), self._request.flexible(self._version))
        try:
            response = self._request.decode(reader, self._version)
            reader.done()
        except DECODE_ERRORS as error:
            return ProtocolError(f"{self._request.NAME} v{self._version}: {error}")
        return response


def unwrap(response: R | ProtocolError) -> R:
    """The decoded response, or raise the ProtocolError that stood in for it."""
    if isinstance(response, ProtocolError):
        raise response
    return response


def _read_uvarint(data: BytesIO) -> int:
    value = shift = 0
    while True:
        raw = data.read(1)
        if not raw:
            raise ProtocolError("response header ends early")
        value |= (raw[0] & 0x7F) << shift
        if not raw[0] & 0x80:
            return value
        shift += 7


class Prepared(Generic[R]):
    """One request at one version, in the shape aiokafka's ``AIOKafkaConnection.send`` drives."""

    def __init__(self, request: KafkaRequest[R], version: int) -> None:
        self.request = request
        self.API_KEY = request.API_KEY
        self.API_VERSION = version
        self.FLEXIBLE_VERSION = request.flexible(version)
        self.RESPONSE_TYPE = _Decoder(request, version)

    def build_request_header(self, correlation_id: int, client_id: str) -> _Encoded:
        header = Writer(flexible=False)
        header.int16(self.API_KEY)
        header.int16(self.API_VERSION)
        header.int32(correlation_id)
        header.nullable_string(client_id)  # the client id stays a classic string in header v2 too
        if self.FLEXIBLE_VERSION:
            header.uvarint(0)
        return _Encoded(header.getvalue())

    def encode(self) -> bytes:
        body = Writer(self.FLEXIBLE_VERSION)
        self.request.encode(body, self.API_VERSION)
        return body.getvalue()

    def parse_response_header(self, data: BytesIO) -> _ResponseHeader:
        raw = data.read(4)
        if len(raw) != 4:
            raise ProtocolError("response shorter than its header")
        correlation_id: int = _I32.unpack(raw)[0]
        if self.FLEXIBLE_VERSION:
            for _ in range(_read_uvarint(data)):  # response header v1: skip its tagged fields
                _read_uvarint(data)
                data.seek(_read_uvarint(data), 1)
        return _ResponseHeader(correlation_id)

    def __repr__(self) -> str:
        # aiokafka logs requests at debug level; the name and version say enough and carry no data.
        return f"{self.request.NAME} v{self.API_VERSION}"


class KafkaRequest(Generic[R]):
    """A read-only request; subclasses encode their fields and decode their response."""

    NAME: ClassVar[str]
    API_KEY: ClassVar[int]
    VERSIONS: ClassVar[tuple[int, ...]]
    FLEXIBLE_FROM: ClassVar[int]

    def flexible(self, version: int) -> bool:
        return version >= self.FLEXIBLE_FROM

    def version_for(self, versions: dict[int, tuple[int, int]]) -> int:
        offered = versions.get(self.API_KEY)
        if offered is not None:
            low, high = offered
            usable = [v for v in self.VERSIONS if low <= v <= high]
            if usable:
                return max(usable)
        raise UnsupportedVersion(self.NAME, self.API_KEY, offered, self.VERSIONS)

    def prepare(self, versions: dict[int, tuple[int, int]]) -> Prepared[R]:
        return Prepared(self, self.version_for(versions))

    def encode(self, w: Writer, version: int) -> None:
        raise NotImplementedError

    def decode(self, r: Reader, version: int) -> R:
        raise NotImplementedError


def supports(versions: dict[int, tuple[int, int]], request: type[KafkaRequest[Any]]) -> bool:
    """Whether a broker offers some version of ``request`` that flowscope implements."""
    offered = versions.get(request.API_KEY)
    return offered is not None and any(offered[0] <= v <= offered[1] for v in request.VERSIONS)


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
            r.skip_int32_array()  # replicas
            r.skip_int32_array()  # in-sync replicas
            r.skip_int32_array()  # offline replicas
            r.tags()
            return PartitionMeta(error, index, leader)

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

        def topic(r: Reader) -> None:
            name = r.string()
            r.array(lambda r: partition(r, name))
            r.tags()

        r.array(topic)
        r.tags()
        return results


# -- ListGroups (16) ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ListedGroup:
    group_id: str
    protocol_type: str
    state: str
    """Empty when the broker is older than ListGroups v4."""
    group_type: str
    """classic, consumer, share or streams; empty before ListGroups v5 (then it is classic)."""


@dataclass(frozen=True, slots=True)
class ListGroupsResponse:
    error_code: int
    groups: tuple[ListedGroup, ...]


class ListGroupsRequest(KafkaRequest[ListGroupsResponse]):
    """The groups one broker coordinates, with their states and types (empty filters: all of them)."""

    NAME = "ListGroups"
    API_KEY = 16
    VERSIONS = (3, 4, 5)
    FLEXIBLE_FROM = 3

    def encode(self, w: Writer, version: int) -> None:
        if version >= 4:
            w.array([], Writer.string)  # StatesFilter
        if version >= 5:
            w.array([], Writer.string)  # TypesFilter
        w.tags()

    def decode(self, r: Reader, version: int) -> ListGroupsResponse:
        r.int32()  # throttle
        error = r.int16()

        def group(r: Reader) -> ListedGroup:
            group_id, protocol_type = r.string(), r.string()
            state = r.string() if version >= 4 else ""
            group_type = r.string() if version >= 5 else ""
            r.tags()
            return ListedGroup(group_id, protocol_type, state, group_type)

        groups = tuple(r.array(group))
        r.tags()
        return ListGroupsResponse(error, groups)


# -- DescribeGroups (15), classic groups --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClassicMember:
    member_id: str
    instance_id: str | None
    client_id: str
    client_host: str
    metadata: bytes
    assignment: bytes


@dataclass(frozen=True, slots=True)
class ClassicGroup:
    error_code: int
    group_id: str
    state: str
    protocol_type: str
    protocol: str
    members: tuple[ClassicMember, ...]


class DescribeGroupsRequest(KafkaRequest[list[ClassicGroup]]):
    NAME = "DescribeGroups"
    API_KEY = 15
    VERSIONS = (5,)
    FLEXIBLE_FROM = 5

    def __init__(self, groups: Sequence[str]) -> None:
        self.groups = list(groups)

    def encode(self, w: Writer, version: int) -> None:
        w.array(self.groups, Writer.string)
        w.bool(False)  # include authorized operations
        w.tags()

    def decode(self, r: Reader, version: int) -> list[ClassicGroup]:
        r.int32()  # throttle

        def member(r: Reader) -> ClassicMember:
            member_id, instance_id = r.string(), r.nullable_string()
            client_id, host = r.string(), r.string()
            metadata, assignment = r.blob(), r.blob()
            r.tags()
            return ClassicMember(member_id, instance_id, client_id, host, metadata, assignment)

        def group(r: Reader) -> ClassicGroup:
            error, group_id, state, protocol_type, protocol = (
                r.int16(),
                r.string(),
                r.string(),
                r.string(),
                r.string(),
            )
            members = tuple(r.array(member))
            r.int32()  # authorized operations
            r.tags()
            return ClassicGroup(error, group_id, state, protocol_type, protocol, members)

        groups = r.array(group)
        r.tags()
        return groups


# -- ConsumerGroupDescribe (69), KIP-848 groups --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConsumerMember:
    member_id: str
    instance_id: str | None
    rack_id: str | None
    member_epoch: int
    client_id: str
    client_host: str
    subscribed: tuple[str, ...]
    subscribed_regex: str | None
    assigned: dict[str, tuple[int, ...]]
    target: dict[str, tuple[int, ...]]


@dataclass(frozen=True, slots=True)
class ConsumerGroup:
    error_code: int
    error_message: str | None
    group_id: str
    state: str
    epoch: int
    assignment_epoch: int
    assignor: str
    members: tuple[ConsumerMember, ...]


class ConsumerGroupDescribeRequest(KafkaRequest[list[ConsumerGroup]]):
    """Describes groups of the consumer rebalance protocol (KIP-848), which DescribeGroups cannot."""

    NAME = "ConsumerGroupDescribe"
    API_KEY = 69
    VERSIONS = (0,)
    FLEXIBLE_FROM = 0

    def __init__(self, groups: Sequence[str]) -> None:
        self.groups = list(groups)

    def encode(self, w: Writer, version: int) -> None:
        w.array(self.groups, Writer.string)
        w.bool(False)  # include authorized operations
        w.tags()

    def decode(self, r: Reader, version: int) -> list[ConsumerGroup]:
        r.int32()  # throttle

        def assignment(r: Reader) -> dict[str, tuple[int, ...]]:
            topics: dict[str, tuple[int, ...]] = {}

            def topic_partitions(r: Reader) -> None:
                r.uuid()  # topic id
                name = r.string()
                topics[name] = tuple(r.int32_array())
                r.tags()

            r.array(topic_partitions)
            r.tags()
            return topics

        def member(r: Reader) -> ConsumerMember:
            member_id, instance_id, rack_id = r.string(), r.nullable_string(), r.nullable_string()
            epoch, client_id, host = r.int32(), r.string(), r.string()
            subscribed = tuple(r.string_array())
            regex = r.nullable_string()
            assigned, target = assignment(r), assignment(r)
            r.tags()
            return ConsumerMember(
                member_id, instance_id, rack_id, epoch, client_id, host, subscribed, regex, assigned, target
            )

        def group(r: Reader) -> ConsumerGroup:
            error, message, group_id, state = r.int16(), r.nullable_string(), r.string(), r.string()
            epoch, assignment_epoch, assignor = r.int32(), r.int32(), r.string()
            members = tuple(r.array(member))
            r.int32()  # authorized operations
            r.tags()
            return ConsumerGroup(error, message, group_id, state, epoch, assignment_epoch, assignor, members)

        groups = r.array(group)
        r.tags()
        return groups


# -- OffsetFetch (9), many groups per request -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GroupOffsets:
    group_id: str
    error_code: int
    offsets: dict[str, dict[int, int]]
    """Committed offset per partition per topic; partitions without a commit are left out."""
    partition_errors: int = 0


class OffsetFetchRequest(KafkaRequest[list[GroupOffsets]]):
    """Committed offsets of many groups at once (v8+, Kafka 3.0): every topic of each group."""

    NAME = "OffsetFetch"
    API_KEY = 9
    VERSIONS = (8,)
    FLEXIBLE_FROM = 6

    def __init__(self, groups: Sequence[str]) -> None:
        self.groups = list(groups)

    def encode(self, w: Writer, version: int) -> None:
        def group(w: Writer, group_id: str) -> None:
            w.string(group_id)
            w.array(None, Writer.string)  # null topics: all of the group's committed offsets
            w.tags()

        w.array(self.groups, group)
        w.bool(False)  # require stable: no, an ongoing transaction only delays a number
        w.tags()

    def decode(self, r: Reader, version: int) -> list[GroupOffsets]:
        r.int32()  # throttle

        def group(r: Reader) -> GroupOffsets:
            group_id = r.string()
            offsets: dict[str, dict[int, int]] = {}
            errors = 0

            def partition(r: Reader, into: dict[int, int]) -> None:
                nonlocal errors
                index, committed = r.int32(), r.int64()
                r.int32()  # committed leader epoch
                r.nullable_string()  # metadata
                error = r.int16()
                r.tags()
                if error:
                    errors += 1
                elif committed >= 0:
                    into[index] = committed

            def topic(r: Reader) -> None:
                name = r.string()
                into: dict[int, int] = {}
                r.array(lambda r: partition(r, into))
                r.tags()
                if into:
                    offsets[name] = into

            r.array(topic)
            error = r.int16()
            r.tags()
            return GroupOffsets(group_id, error, offsets, errors)

        groups = r.array(group)
        r.tags()
        return groups


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

        def topic(r: Reader) -> None:
            name = r.string()
            r.array(lambda r: partition(r, name))
            r.tags()

        r.array(topic)
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

        def topic(r: Reader) -> None:
            name = r.string()
            r.array(lambda r: partition(r, name))

        r.array(topic)
        return results


READ_ONLY_API_KEYS: dict[int, str] = {
    1: "Fetch",
    2: "ListOffsets",
    3: "Metadata",
    9: "OffsetFetch",
    15: "DescribeGroups",
    16: "ListGroups",
    17: "SaslHandshake",
    18: "ApiVersions",
    36: "SaslAuthenticate",
    61: "DescribeProducers",
    66: "ListTransactions",
    69: "ConsumerGroupDescribe",
}
"""Every API key flowscope may send: the requests above plus aiokafka's connection handshake."""
