"""Read-only Kafka requests about consumer groups: listing, describing and their committed offsets.

Only read-only APIs live in this module: there is no class for OffsetCommit, JoinGroup or any other API
that changes a group, so the live source cannot send one by mistake. The encoding is in
:mod:`adapters.kafka.codec`.

Versions were chosen so that one version of each API spans Kafka 3.0 to 4.x (Kafka 4.0 dropped many old
versions): ListGroups v3-v5, DescribeGroups v5, OffsetFetch v8 (many groups in one request),
ConsumerGroupDescribe v0, and StreamsGroupDescribe v0 (Kafka 4.1+, KIP-1071).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from adapters.kafka.codec import KafkaRequest, R, Reader, Writer

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


class _DescribeRequest(KafkaRequest[R]):
    """Describing groups by id, as both group protocols ask for it (without authorized operations)."""

    def __init__(self, groups: Sequence[str]) -> None:
        self.groups = list(groups)

    def encode(self, w: Writer, version: int) -> None:
        w.array(self.groups, Writer.string)
        w.bool(False)  # include authorized operations
        w.tags()


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


class DescribeGroupsRequest(_DescribeRequest[list[ClassicGroup]]):
    NAME = "DescribeGroups"
    API_KEY = 15
    VERSIONS = (5,)
    FLEXIBLE_FROM = 5

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


class ConsumerGroupDescribeRequest(_DescribeRequest[list[ConsumerGroup]]):
    """Describes groups of the consumer rebalance protocol (KIP-848), which DescribeGroups cannot."""

    NAME = "ConsumerGroupDescribe"
    API_KEY = 69
    VERSIONS = (0,)
    FLEXIBLE_FROM = 0

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


# -- StreamsGroupDescribe (89), KIP-1071 Streams groups ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Subtopology:
    subtopology_id: str
    sources: tuple[str, ...]
    """Every topic its tasks read: input topics, then the repartition topics it reads back."""
    repartition_sinks: tuple[str, ...]
    changelogs: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StreamsMember:
    member_id: str
    instance_id: str | None
    client_id: str
    client_host: str
    active_tasks: dict[str, tuple[int, ...]]
    """Partitions per subtopology this member processes."""


@dataclass(frozen=True, slots=True)
class StreamsGroup:
    error_code: int
    error_message: str | None
    group_id: str
    state: str
    epoch: int
    subtopologies: tuple[Subtopology, ...]
    """Empty until the first member has told the coordinator its topology."""
    members: tuple[StreamsMember, ...]


class StreamsGroupDescribeRequest(_DescribeRequest[list[StreamsGroup]]):
    """Describes groups of the Streams rebalance protocol (KIP-1071): topology, members and their tasks."""

    NAME = "StreamsGroupDescribe"
    API_KEY = 89
    VERSIONS = (0,)
    FLEXIBLE_FROM = 0

    def decode(self, r: Reader, version: int) -> list[StreamsGroup]:
        r.int32()  # throttle

        def key_value(r: Reader) -> None:
            r.string(), r.string()
            r.tags()

        def topic_info(r: Reader) -> str:
            name = r.string()
            r.int32(), r.int16()  # partitions, replication factor
            r.array(key_value)  # topic configs
            r.tags()
            return name

        def subtopology(r: Reader) -> Subtopology:
            subtopology_id, sources, sinks = r.string(), r.string_array(), r.string_array()
            changelogs, repartition_sources = r.array(topic_info), r.array(topic_info)
            r.tags()
            return Subtopology(subtopology_id, (*sources, *repartition_sources), tuple(sinks), tuple(changelogs))

        def topology(r: Reader) -> tuple[Subtopology, ...]:
            if r.int8() < 0:  # null until the group has a topology
                return ()
            r.int32()  # topology epoch
            subtopologies = r.array(subtopology)  # null reads as none
            r.tags()
            return tuple(subtopologies)

        def tasks(r: Reader) -> tuple[str, tuple[int, ...]]:
            subtopology_id, partitions = r.string(), tuple(r.int32_array())
            r.tags()
            return subtopology_id, partitions

        def assignment(r: Reader) -> dict[str, tuple[int, ...]]:
            active = dict(r.array(tasks))
            r.array(tasks), r.array(tasks)  # standby and warm-up tasks: not processing yet
            r.tags()
            return active

        def task_offset(r: Reader) -> None:
            r.string(), r.int32(), r.int64()
            r.tags()

        def member(r: Reader) -> StreamsMember:
            member_id = r.string()
            r.int32()  # member epoch
            instance_id, _rack = r.nullable_string(), r.nullable_string()
            client_id, host = r.string(), r.string()
            r.int32(), r.string()  # topology epoch, process id
            if r.int8() >= 0:  # the user endpoint, for interactive queries
                r.string(), r.int16()
                r.tags()
            r.array(key_value)  # client tags
            r.array(task_offset), r.array(task_offset)  # task offsets and end offsets
            active = assignment(r)
            assignment(r)  # the target
            r.bool()  # is classic
            r.tags()
            return StreamsMember(member_id, instance_id, client_id, host, active)

        def group(r: Reader) -> StreamsGroup:
            error, message, group_id, state = r.int16(), r.nullable_string(), r.string(), r.string()
            epoch = r.int32()
            r.int32()  # assignment epoch
            subtopologies = topology(r)
            members = tuple(r.array(member))
            r.int32()  # authorized operations
            r.tags()
            return StreamsGroup(error, message, group_id, state, epoch, subtopologies, members)

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
