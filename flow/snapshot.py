"""The immutable FlowSnapshot: what the widgets draw and what reports serialise."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal

from flow.vocabulary import LagStatus

if TYPE_CHECKING:  # annotations only: the UI can import snapshots without loading pydantic
    from flow.changes import Change
    from flow.observations import Broker, RecordObs, SourceState

TopicKind = Literal["internal", "unread", "command", "event"]
Confidence = Literal["low", "medium", "high"]
FindingKind = Literal["command_chain", "command_fanout"]


@dataclass(frozen=True, slots=True)
class Classification:
    kind: TopicKind
    reasons: tuple[str, ...]
    confidence: Confidence | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class ProducerRate:
    """A writer of a topic and its share of the topic's produce rate."""

    name: str
    rate: float | None
    producer_ids: tuple[int, ...] = ()
    estimated: bool = False


@dataclass(frozen=True, slots=True)
class TopicView:
    name: str
    partitions: int
    internal: bool
    classification: Classification
    rate: float | None
    messages: int
    end_offsets: tuple[int, ...]
    groups: tuple[str, ...]
    producers: tuple[ProducerRate, ...]
    record_types: tuple[str, ...]
    records: tuple[RecordObs, ...]
    offline: tuple[int, ...] = ()
    """Partitions without a leader: unreadable and unwritable; their offsets are the last ones seen."""
    under_replicated: tuple[int, ...] = ()
    owner: str | None = None
    """The Kafka Streams app (as a service) whose changelog or repartition topic this is."""

    @property
    def kind(self) -> TopicKind:
        return self.classification.kind

    @property
    def producer_names(self) -> tuple[str, ...]:
        return tuple(producer.name for producer in self.producers)


@dataclass(frozen=True, slots=True)
class PartitionLag:
    topic: str
    partition: int
    end_offset: int | None
    committed: int | None
    lag: int | None
    lag_seconds: float | None
    status: LagStatus


@dataclass(frozen=True, slots=True)
class MemberView:
    member_id: str
    client_id: str
    host: str
    assigned: tuple[tuple[str, tuple[int, ...]], ...]


@dataclass(frozen=True, slots=True)
class GroupView:
    id: str
    service: str
    state: str
    protocol: str
    members: tuple[MemberView, ...]
    topics: tuple[str, ...]
    lag: int
    lag_seconds: float | None
    status: LagStatus
    rate: float | None
    topic_rates: tuple[tuple[str, float | None], ...]
    partitions: tuple[PartitionLag, ...]


@dataclass(frozen=True, slots=True)
class ServiceView:
    """A node that produces and/or consumes; one per service however many groups and producers it has."""

    name: str
    produces: tuple[str, ...]
    consumes: tuple[str, ...]
    groups: tuple[str, ...]
    unknown: bool = False

    @property
    def role(self) -> Literal["producer", "consumer", "both"]:
        if self.produces and self.consumes:
            return "both"
        return "producer" if self.produces else "consumer"


@dataclass(frozen=True, slots=True)
class Edge:
    """A produce edge (service -> topic) or a consume edge (topic -> group)."""

    source: str
    target: str
    kind: Literal["produce", "consume"]
    rate: float | None


@dataclass(frozen=True, slots=True)
class Finding:
    kind: FindingKind
    topics: tuple[str, ...]
    services: tuple[str, ...]
    summary: str
    advice: str


@dataclass(frozen=True, slots=True)
class ClusterView:
    cluster_id: str | None
    brokers: tuple[Broker, ...]
    controller_id: int | None
    missing: tuple[Broker, ...] = ()
    """Brokers named as replicas that the cluster does not list (down, or fenced); host and port as last
    listed, empty when never seen."""


@dataclass(frozen=True, slots=True)
class StatusView:
    state: SourceState
    detail: str
    attempt: int
    since: int


@dataclass(frozen=True, slots=True)
class FlowSnapshot:
    t: int
    started: int | None
    observations: int
    cluster: ClusterView | None
    status: StatusView | None
    topics: tuple[TopicView, ...]
    groups: tuple[GroupView, ...]
    services: tuple[ServiceView, ...]
    edges: tuple[Edge, ...]
    findings: tuple[Finding, ...]
    note: str | None
    changes: tuple[Change, ...] = field(default=(), compare=False)
    """The newest notable changes up to this moment, oldest first (flow.changes). Not compared: they depend
    on when earlier snapshots were taken, and two snapshots of the same flow at the same moment are equal."""
    _topic_index: dict[str, TopicView] = field(default_factory=dict, init=False, repr=False, compare=False)
    _group_index: dict[str, GroupView] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._topic_index.update((topic.name, topic) for topic in self.topics)
        self._group_index.update((group.id, group) for group in self.groups)

    def topic(self, name: str) -> TopicView | None:
        return self._topic_index.get(name)

    def group(self, group_id: str) -> GroupView | None:
        return self._group_index.get(group_id)

    def restricted(self, topics: Collection[str], groups: Collection[str], services: Collection[str]) -> FlowSnapshot:
        """The same moment with only the named topics, groups and services (what a filtered view shows)."""
        return replace(
            self,
            topics=tuple(t for t in self.topics if t.name in topics),
            groups=tuple(g for g in self.groups if g.id in groups),
            services=tuple(s for s in self.services if s.name in services),
            edges=tuple(
                e
                for e in self.edges
                if (e.kind == "produce" and e.source in services and e.target in topics)
                or (e.kind == "consume" and e.source in topics and e.target in groups)
            ),
            findings=tuple(f for f in self.findings if all(t in topics for t in f.topics)),
        )

    def command_topics(self) -> tuple[TopicView, ...]:
        return tuple(topic for topic in self.topics if topic.kind == "command")

    @property
    def stale(self) -> bool:
        """True while the source is not connected: what is shown is the last known flow."""
        return self.status is not None and self.status.state != "connected"
