"""One refresh of a live cluster: the requests, batched per broker, and the observations they become.

Request budget per refresh (B brokers; every request is batched, none is sent per group or per topic):

=====================  =====================================================  ==================
request                sent to                                                 per broker
=====================  =====================================================  ==================
Metadata               one broker (any)                                        1 on one broker
ListOffsets            each partition leader, all its partitions               <= 1
ListGroups             every broker (each lists the groups it coordinates)     1
DescribeGroups         each coordinator, all its classic groups                <= 1
ConsumerGroupDescribe  each coordinator, all its KIP-848 consumer groups       <= 1
StreamsGroupDescribe   each coordinator, all its KIP-1071 Streams groups       <= 1
OffsetFetch (v8)       each coordinator, all its groups in one request         <= 1
DescribeProducers      each partition leader, its partitions written since     <= 1
                       their producers were last described
ListTransactions       every broker (each lists its transactional ids)         <= 1
Fetch (sampler)        each leader of a partition that grew                    <= 1
=====================  =====================================================  ==================

So at most 9 requests per broker, plus the one Metadata request on one of them (10 at most), whatever the
number of groups or topics: a describe goes only to a coordinator of groups of its protocol. ApiVersions and
SASL happen once per connection, not per refresh. ListGroups names each group's coordinator, so no
FindCoordinator round is needed. Requests to different brokers, and independent requests to one broker,
run concurrently; a refresh is three round trips deep (Metadata; offsets and group listings; then group
details, commits, producers and samples).

What cannot be seen is left out rather than guessed: producers that are neither idempotent nor
transactional have no producer state on the broker (DescribeProducers does not list them), so they only
show as offset growth, which the model labels "unknown writer"; share groups are listed with their state
but without members (their describe API is not used).
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from adapters.kafka.codec import DECODE_ERRORS, KafkaRequest, Reader, UnsupportedVersion
from adapters.kafka.group_requests import (
    ClassicGroup,
    ConsumerGroup,
    ConsumerGroupDescribeRequest,
    DescribeGroupsRequest,
    GroupOffsets,
    ListedGroup,
    ListGroupsRequest,
    ListGroupsResponse,
    OffsetFetchRequest,
    StreamsGroup,
    StreamsGroupDescribeRequest,
)
from adapters.kafka.requests import (
    DescribeProducersRequest,
    FetchRequest,
    ListOffsetsRequest,
    ListTransactionsRequest,
    MetadataResponse,
    OffsetResult,
    PartitionProducers,
    TransactionsResponse,
)
from adapters.kafka.sampler import Planned, Sampler
from adapters.kafka.wire import ConnectionFailed, NodeFailed, Wire
from flow.observations import (
    Broker,
    ClusterObs,
    CommitsObs,
    EndOffsetsObs,
    GroupObs,
    Member,
    Observation,
    ProducersObs,
    ProducerState,
    TopicInfo,
    TopicsObs,
)

GROUP_ID_NOT_FOUND = 69
_COORDINATOR_MOVED = {14, 15, 16}  # loading, not available, not coordinator: ask again next refresh
_NO_OFFSETS_TYPES = {"share"}
DescribedGroup = ClassicGroup | ConsumerGroup | StreamsGroup
_DESCRIBE: dict[str, Callable[[Sequence[str]], KafkaRequest[list[Any]]]] = {
    "classic": DescribeGroupsRequest,
    "consumer": ConsumerGroupDescribeRequest,
    "streams": StreamsGroupDescribeRequest,
}
"""The describe request of each group protocol flowscope can describe (not share groups)."""


@dataclass(slots=True)
class RefreshReport:
    """What one refresh cost and what it could not see (for the status detail and the benchmark)."""

    seconds: float = 0.0
    requests: dict[int | str, int] = field(default_factory=dict)
    topics: int = 0
    partitions: int = 0
    groups: int = 0
    records: int = 0
    failed_brokers: dict[int, str] = field(default_factory=dict)
    missing_brokers: tuple[str, ...] = ()
    """Brokers named as replicas that the cluster does not list, as ``id (host:port)`` when seen before."""
    offline: int = 0
    under_replicated: int = 0
    unavailable: set[str] = field(default_factory=set)
    """APIs some broker does not offer (e.g. ConsumerGroupDescribe before Kafka 4.0)."""

    @property
    def max_requests_per_broker(self) -> int:
        return max(self.requests.values(), default=0)


class Refresher:
    """Turns one round of batched requests into the observations of one instant."""

    def __init__(self, wire: Wire, sampler: Sampler | None = None) -> None:
        self.wire = wire
        self.sampler = sampler
        self._groups: dict[str, str] = {}
        """Every group seen, with its protocol kind, until a coordinator says it is gone."""
        self._brokers_seen: dict[int, str] = {}
        """Every broker listed so far, as host:port, to name one that goes missing."""
        self._producer_topics: set[str] = set()
        self._producers: dict[str, dict[int, tuple[int | None, tuple[ProducerState, ...]]]] = {}
        """Per topic and partition, its log-end offset when its producers were last described, and them."""
        self._ends: dict[str, dict[int, int]] = {}
        self.last = RefreshReport()

    async def refresh(self, t: int) -> list[Observation]:
        """All observations of one refresh, stamped ``t``. Raises ConnectionFailed if the cluster is gone."""
        started = time.perf_counter()
        report = RefreshReport()
        self.wire.reset_counts()
        metadata = await self.wire.metadata()
        cluster = _cluster(t, metadata)
        observations: list[Observation] = [cluster]
        seen = self._brokers_seen
        seen.update((b.id, f"{b.host}:{b.port}") for b in cluster.brokers)
        report.missing_brokers = tuple(f"{n} ({seen[n]})" if n in seen else str(n) for n in cluster.missing)

        partition_counts: dict[str, int] = {}
        internal: set[str] = set()
        leaders: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
        topics: list[TopicInfo] = []
        for topic in metadata.topics:
            if topic.error_code and not topic.partitions:
                continue  # e.g. being deleted, or not authorised to describe
            partition_counts[topic.name] = len(topic.partitions)
            if topic.internal:
                internal.add(topic.name)
            topics.append(
                TopicInfo(
                    name=topic.name,
                    partitions=len(topic.partitions),
                    internal=topic.internal,
                    offline=tuple(sorted(p.index for p in topic.partitions if p.offline)),
                    under_replicated=tuple(sorted(p.index for p in topic.partitions if p.under_replicated)),
                )
            )
            for partition in topic.partitions:
                if partition.leader >= 0 and partition.leader in self.wire.brokers:
                    leaders[partition.leader][topic.name].append(partition.index)
        observations.append(TopicsObs(t=t, topics=tuple(topics)))
        report.offline = sum(len(info.offline) for info in topics)
        report.under_replicated = sum(len(info.under_replicated) for info in topics)
        report.topics = len(topics)
        report.partitions = sum(partition_counts.values())

        nodes = sorted(self.wire.brokers)
        user_leaders = {
            node: {name: parts for name, parts in by_topic.items() if name not in internal}
            for node, by_topic in leaders.items()
        }
        # Round 2: offsets, group listings and transactions, all brokers at once.
        offsets_task = self._each(report, {n: ListOffsetsRequest(leaders[n]) for n in nodes if leaders.get(n)})
        listings_task = self._each(report, dict.fromkeys(nodes, ListGroupsRequest()))
        transactions_task = self._each(report, dict.fromkeys(nodes, ListTransactionsRequest()))
        offsets, listings, transactions = await asyncio.gather(offsets_task, listings_task, transactions_task)
        if len(report.failed_brokers) == len(nodes) and nodes:
            # Every broker failed after metadata answered: the cluster is going away under us.
            raise ConnectionFailed(next(iter(report.failed_brokers.values())), "closed")

        ends = self._end_offsets(offsets, partition_counts)
        if ends:
            observations.append(EndOffsetsObs(t=t, offsets=ends))

        # Round 3: group details and commits per coordinator; producers and the record sample per leader.
        listed = _listed_groups(listings)
        plan: list[Planned] = []
        if self.sampler is not None:
            current = {name: self._ends[name] for name in partition_counts if name in self._ends}
            plan = self.sampler.plan(current, internal)
        fetch_requests = self._fetch_requests(plan, metadata)
        commits_req = {n: r for n, groups in listed.items() if (r := _offset_fetch(groups)).groups}
        producers_req = {n: DescribeProducersRequest(p) for n, p in self._written(user_leaders).items()}
        described, commits, fetched, producers = await asyncio.gather(
            self._describe(report, {n: {g.group_id: _kind(g) for g in groups} for n, groups in listed.items()}),
            self._each(report, commits_req),
            self._each(report, fetch_requests),
            self._each(report, producers_req),
        )

        gone: set[str] = set()
        if len(listed) == len(nodes):  # only then can a group missing from every list be gone
            gone = await self._confirmed_gone(report, nodes, listed)
        observations.extend(self._groups_observations(t, listed, described, gone, report))
        observations.extend(_commits_observations(t, commits, partition_counts))
        observations.extend(self._producers_observations(t, producers, transactions, partition_counts))
        if self.sampler is not None and plan:
            parts = [part for result in fetched.values() for part in result]
            fetched_records = self.sampler.collect(plan, parts)
            decoder = self.sampler.decoder
            if decoder is not None:
                # Bounded by the registry's timeout; a registry that failed is not asked again for a while.
                await decoder.prefetch(self.sampler.schema_ids(fetched_records))
            records = self.sampler.observe(t, fetched_records)
            observations.extend(records)
            report.records = len(records)

        report.requests = dict(self.wire.reset_counts())
        report.seconds = time.perf_counter() - started
        self.last = report
        return observations

    async def _each(self, report: RefreshReport, requests: dict[int, Any]) -> dict[int, Any]:
        """Send one request per broker concurrently; brokers that fail or lack the API are left out."""
        if not requests:
            return {}
        nodes = list(requests)
        results = await asyncio.gather(
            *(self.wire.send(node, requests[node]) for node in nodes), return_exceptions=True
        )
        answered: dict[int, Any] = {}
        for node, result in zip(nodes, results, strict=True):
            if isinstance(result, UnsupportedVersion):
                report.unavailable.add(result.api)
            elif isinstance(result, NodeFailed):
                report.failed_brokers[node] = str(result)
            elif isinstance(result, BaseException):
                raise result
            else:
                answered[node] = result
        return answered

    # -- end offsets ---------------------------------------------------------------------------------------

    def _end_offsets(
        self, answers: dict[int, list[OffsetResult]], partition_counts: dict[str, int]
    ) -> dict[str, tuple[int, ...]]:
        """One tuple per topic indexed by partition; a partition that did not answer keeps its last value,
        and a topic with a partition never seen is left out (the model needs whole tuples)."""
        for results in answers.values():
            for result in results:
                if result.error_code == 0 and result.offset >= 0:
                    self._ends.setdefault(result.topic, {})[result.partition] = result.offset
        for name in list(self._ends):
            if name not in partition_counts:
                del self._ends[name]
        ends: dict[str, tuple[int, ...]] = {}
        for name, count in partition_counts.items():
            known = self._ends.get(name, {})
            if count and all(p in known for p in range(count)):
                ends[name] = tuple(known[p] for p in range(count))
        return ends

    # -- groups --------------------------------------------------------------------------------------------

    async def _describe(
        self, report: RefreshReport, asked: dict[int, dict[str, str]]
    ) -> dict[str, dict[int, list[DescribedGroup]]]:
        """Describe the groups asked of each broker (group id to protocol), one request per protocol, all
        at once: per protocol, the answers of each broker that answered. Share groups are not asked."""
        per_protocol: dict[str, dict[int, Any]] = defaultdict(dict)
        for node, protocols in asked.items():
            by_kind: dict[str, list[str]] = defaultdict(list)
            for group_id, kind in protocols.items():
                by_kind[kind].append(group_id)
            for kind, request in _DESCRIBE.items():
                if by_kind.get(kind):
                    per_protocol[kind][node] = request(sorted(by_kind[kind]))
        kinds_sent = list(per_protocol)
        answers = await asyncio.gather(*(self._each(report, per_protocol[kind]) for kind in kinds_sent))
        return dict(zip(kinds_sent, answers, strict=True))

    def _groups_observations(
        self,
        t: int,
        listed: dict[int, list[ListedGroup]],
        described: dict[str, dict[int, list[DescribedGroup]]],
        gone: set[str],
        report: RefreshReport,
    ) -> list[Observation]:
        observations: list[Observation] = []
        seen: dict[str, GroupObs | None] = {}
        for answers in described.values():
            for answered in answers.values():
                for group in answered:
                    seen[group.group_id] = _group_observation(t, group)
        present: set[str] = set()
        for node, groups in listed.items():
            for listing in groups:
                present.add(listing.group_id)
                kind = _kind(listing)
                if kind in _DESCRIBE:
                    if listing.group_id in seen:
                        observation = seen[listing.group_id]
                        if observation is not None:
                            observations.append(observation)
                        continue
                    if node in described.get(kind, {}):
                        continue  # described, but with an error worth waiting out (coordinator moving)
                # Not described: share groups, or a broker without the protocol's describe API.
                observations.append(
                    GroupObs(
                        t=t,
                        group=listing.group_id,
                        state=listing.state or "Unknown",
                        protocol=kind,
                        protocol_type=listing.protocol_type or kind,
                    )
                )
        observations.extend(GroupObs(t=t, group=group_id, state="Dead") for group_id in sorted(gone))
        for group_id in gone:
            del self._groups[group_id]
        self._groups.update((listing.group_id, _kind(listing)) for groups in listed.values() for listing in groups)
        report.groups = len(present)
        return observations

    async def _confirmed_gone(
        self, report: RefreshReport, nodes: list[int], listed: dict[int, list[ListedGroup]]
    ) -> set[str]:
        """The known groups missing from every listing that their coordinator says no longer exist.

        A broker lists only the groups of coordinator partitions it has loaded, without an error, so while a
        broker shuts down or a coordinator moves a living group is missing from every list. Only a describe
        answered "not found" (or Dead) by the group's coordinator proves it gone; the other brokers answer
        "not coordinator". Share groups cannot be described here and go when they are unlisted.
        """
        present = {listing.group_id for groups in listed.values() for listing in groups}
        missing = sorted(group for group in self._groups if group not in present)
        if not missing:
            return set()
        protocols = {group: self._groups[group] for group in missing}
        described = await self._describe(report, {node: dict(protocols) for node in nodes})
        gone = {g for g in missing if self._groups[g] not in _DESCRIBE}
        for answers in described.values():
            for answered in answers.values():
                for answer in answered:
                    if answer.error_code == GROUP_ID_NOT_FOUND or (answer.error_code == 0 and answer.state == "Dead"):
                        gone.add(answer.group_id)
        return gone

    # -- producers -------------------------------------------------------------------------------------------

    def _written(self, leaders: dict[int, dict[str, list[int]]]) -> dict[int, dict[str, list[int]]]:
        """Per leader, the partitions written since their producers were last described (all of them at
        first). A partition's producer states change only when it is written, so on a cluster where most
        partitions are quiet for a refresh most keep their last answer instead of being asked again."""
        asked: dict[int, dict[str, list[int]]] = {}
        for node, by_topic in leaders.items():
            wanted: dict[str, list[int]] = {}
            for name, partitions in by_topic.items():
                ends, described = self._ends.get(name, {}), self._producers.get(name, {})
                written = [p for p in partitions if (end := ends.get(p)) is None or described.get(p, (None,))[0] != end]
                if written:
                    wanted[name] = written
            if wanted:
                asked[node] = wanted
        return asked

    def _producers_observations(
        self,
        t: int,
        answers: dict[int, list[PartitionProducers]],
        transactions: dict[int, TransactionsResponse],
        partition_counts: dict[str, int],
    ) -> list[Observation]:
        names = {
            pid: transactional_id
            for response in transactions.values()
            if response.error_code == 0
            for transactional_id, pid, _state in response.transactions
        }
        for results in answers.values():
            for result in results:
                if result.error_code == 0:
                    end = self._ends.get(result.topic, {}).get(result.partition)
                    self._producers.setdefault(result.topic, {})[result.partition] = (end, result.producers)
        observations: list[Observation] = []
        with_producers: set[str] = set()
        for name in sorted(self._producers):
            if name not in partition_counts:
                del self._producers[name]
                continue
            partitions = {p: states for p, (_, states) in sorted(self._producers[name].items()) if states}
            if partitions:
                with_producers.add(name)
            elif name not in self._producer_topics:
                continue  # said once that its producers went; nothing new to say
            pids = {state[0] for states in partitions.values() for state in states}
            observations.append(
                ProducersObs(
                    t=t,
                    topic=name,
                    partitions=partitions,
                    transactional_ids={pid: names[pid] for pid in sorted(pids) if pid in names},
                )
            )
        self._producer_topics = with_producers
        return observations

    # -- sampling ----------------------------------------------------------------------------------------------

    def _fetch_requests(self, plan: list[Planned], metadata: MetadataResponse) -> dict[int, FetchRequest]:
        if not plan or self.sampler is None:
            return {}
        leader_of = {
            (topic.name, partition.index): partition.leader
            for topic in metadata.topics
            for partition in topic.partitions
        }
        by_node: dict[int, dict[str, list[tuple[int, int]]]] = defaultdict(lambda: defaultdict(list))
        for item in plan:
            node = leader_of.get((item.topic, item.partition), -1)
            if node in self.wire.brokers:
                by_node[node][item.topic].append((item.partition, item.offset))
        options = self.sampler.options
        limit = options.partition_max_bytes if options.payloads != "full" else max(options.partition_max_bytes, 1 << 20)
        return {
            node: FetchRequest(dict(partitions), partition_max_bytes=limit, max_bytes=options.max_bytes)
            for node, partitions in by_node.items()
        }


def _offset_fetch(groups: Iterable[ListedGroup]) -> OffsetFetchRequest:
    """The one OffsetFetch request of a coordinator: all its groups that can hold committed offsets."""
    return OffsetFetchRequest(sorted(g.group_id for g in groups if _kind(g) not in _NO_OFFSETS_TYPES))


def _kind(listing: ListedGroup) -> str:
    """The group's rebalance protocol: classic, consumer, share or streams (classic before ListGroups v5)."""
    return listing.group_type.lower() if listing.group_type else "classic"


def _listed_groups(listings: dict[int, ListGroupsResponse]) -> dict[int, list[ListedGroup]]:
    """Groups per coordinator: a broker lists exactly the groups it coordinates."""
    return {node: list(response.groups) for node, response in listings.items() if response.error_code == 0}


def _cluster(t: int, metadata: MetadataResponse) -> ClusterObs:
    listed = {b.node_id for b in metadata.brokers}
    replicas = {node for topic in metadata.topics for p in topic.partitions for node in p.replicas}
    return ClusterObs(
        t=t,
        cluster_id=metadata.cluster_id,
        brokers=tuple(
            Broker(id=b.node_id, host=b.host, port=b.port, rack=b.rack)
            for b in sorted(metadata.brokers, key=lambda b: b.node_id)
        ),
        controller_id=metadata.controller_id if metadata.controller_id >= 0 else None,
        missing=tuple(sorted(node for node in replicas - listed if node >= 0)),
    )


def _group_observation(t: int, group: DescribedGroup) -> GroupObs | None:
    """A described group as an observation; None when the answer was an error to wait out."""
    if group.error_code == GROUP_ID_NOT_FOUND:
        return GroupObs(t=t, group=group.group_id, state="Dead")
    if group.error_code:
        return None
    if isinstance(group, ClassicGroup):
        return _classic_observation(t, group)
    if isinstance(group, ConsumerGroup):
        return _consumer_observation(t, group)
    return _streams_observation(t, group)


def _classic_observation(t: int, group: ClassicGroup) -> GroupObs:
    consumer = group.protocol_type in ("consumer", "")
    members = tuple(
        Member(
            member_id=member.member_id,
            client_id=member.client_id,
            host=member.client_host,
            assigned=_assignment(member.assignment) if consumer else {},
            subscribed=_subscription(member.metadata) if consumer else (),
        )
        for member in group.members
    )
    return GroupObs(
        t=t,
        group=group.group_id,
        state=group.state or "Unknown",
        protocol="classic",
        protocol_type=group.protocol_type,
        assignor=group.protocol,
        members=members,
    )


def _consumer_observation(t: int, group: ConsumerGroup) -> GroupObs:
    members = tuple(
        Member(
            member_id=member.member_id,
            client_id=member.client_id,
            host=member.client_host,
            assigned={name: tuple(sorted(parts)) for name, parts in sorted(member.assigned.items())},
            subscribed=tuple(sorted(member.subscribed)),
        )
        for member in group.members
    )
    return GroupObs(
        t=t,
        group=group.group_id,
        state=group.state or "Unknown",
        protocol="consumer",
        protocol_type="consumer",
        assignor=group.assignor,
        members=members,
    )


def _streams_observation(t: int, group: StreamsGroup) -> GroupObs:
    """A Streams group as consumers: a member's active task of a subtopology reads that partition of
    each of the subtopology's source topics (its inputs and the repartition topics it reads back)."""
    sources = {sub.subtopology_id: sub.sources for sub in group.subtopologies}
    subscribed = tuple(sorted({name for names in sources.values() for name in names}))
    members = []
    for member in group.members:
        assigned: dict[str, set[int]] = defaultdict(set)
        for subtopology_id, partitions in member.active_tasks.items():
            for name in sources.get(subtopology_id, ()):
                assigned[name].update(partitions)
        members.append(
            Member(
                member_id=member.member_id,
                client_id=member.client_id,
                host=member.client_host,
                assigned={name: tuple(sorted(parts)) for name, parts in sorted(assigned.items())},
                subscribed=subscribed,
            )
        )
    return GroupObs(
        t=t,
        group=group.group_id,
        state=group.state or "Unknown",
        protocol="streams",
        protocol_type="streams",
        members=tuple(members),
    )


def _subscription(data: bytes) -> tuple[str, ...]:
    """Topics of a classic consumer's subscription (ConsumerProtocolSubscription, any version)."""
    if not data:
        return ()
    try:
        reader = Reader(data, flexible=False)
        reader.int16()  # version
        return tuple(sorted(reader.string_array()))
    except DECODE_ERRORS:
        return ()


def _assignment(data: bytes) -> dict[str, tuple[int, ...]]:
    """Partitions of a classic consumer's assignment (ConsumerProtocolAssignment, any version)."""
    if not data:
        return {}
    try:
        reader = Reader(data, flexible=False)
        reader.int16()  # version
        assigned: dict[str, tuple[int, ...]] = {}

        def topic(r: Reader) -> None:
            name = r.string()
            assigned[name] = tuple(sorted(r.int32_array()))

        reader.array(topic)
        return dict(sorted(assigned.items()))
    except DECODE_ERRORS:
        return {}


def _commits_observations(
    t: int, answers: dict[int, list[GroupOffsets]], partition_counts: dict[str, int]
) -> list[Observation]:
    observations: list[Observation] = []
    for results in answers.values():
        for result in results:
            if result.error_code:
                continue  # coordinator moving or not authorised: the last known commits stay
            offsets: dict[str, tuple[int | None, ...]] = {}
            for name, committed in sorted(result.offsets.items()):
                size = max(partition_counts.get(name, 0), max(committed) + 1)
                offsets[name] = tuple(committed.get(p) for p in range(size))
            observations.append(CommitsObs(t=t, group=result.group_id, offsets=offsets))
    return observations
