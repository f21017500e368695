"""Decoupling proposals: the event-based alternative to a command chain or fan-out, and the flow after it.

The seed's advice made concrete. Commands that start at one writer — its own commands, and the commands
its commanded services issue in turn — become one fact on one topic: the writer records what happened
once, every service that acted on one of those commands subscribes to the fact and decides for itself,
and the services in between stop coordinating. On the seed's shop (`web-shop` -> `warehouse` ->
`send-email`/`send-text`) that is `web-shop` -> one fact -> `warehouse`, `email-service`,
`sms-service`: the topology of the second design.

Naming the fact: the evidence is read in this order, and the first that answers wins.
1. a name the user gave (``names``, keyed by ``Proposal.key``: what `:propose NAME` fills in);
2. a command topic only the writer writes that reads as a fact by its name or by all its record types
   (`shipment-dispatched`, one reader so far): it is kept and gains the other audiences;
3. a record type on the writer's commands that reads as a fact (`OrderPlaced` -> a new `order-placed`);
4. the one other topic only the writer writes whose name reads as a fact (several: no guess);
5. otherwise a placeholder, ``<fact from WRITER>``. Imperative record types (`DispatchProduct`) are not
   turned into facts on purpose: they say what someone else should do next, not what happened, and
   `ProductDispatched` would be the warehouse's fact, not the shop's.

Pure: no I/O, no Textual.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from flow.classify import classify_topic, find_findings
from flow.naming import read_name, tokens
from flow.snapshot import Edge, Finding, FlowSnapshot, GroupView, ProducerRate, ServiceView, TopicView
from flow.vocabulary import UNKNOWN_WRITER

NameSource = Literal["renamed", "command topic", "record type", "writer's topic", "placeholder"]


@dataclass(frozen=True, slots=True)
class Proposal:
    """One fact topic in place of the command topics that start at one writer."""

    key: str
    """What a rename refers to (``names`` of `propose`): the writer, stable across snapshots of a live cluster."""
    writer: str
    """Who records the fact: the service whose commands start the chain or the fan-out."""
    fact_topic: str
    name_source: NameSource
    name_reason: str
    subscribers: tuple[str, ...]
    """Services that acted on one of the commands and now read the fact."""
    subscriber_groups: tuple[str, ...]
    """Their consumer groups, which read the fact topic in place of the command topics."""
    coordinators: tuple[str, ...]
    """Services that received commands and issued more: they stop issuing them."""
    command_topics: tuple[str, ...]
    removed_topics: tuple[str, ...]
    """The command topics that go away (all of them, unless one of them is kept as the fact topic)."""
    removed_edges: tuple[Edge, ...]
    added_edges: tuple[Edge, ...]
    findings: tuple[Finding, ...]
    """The chain and fan-out findings this proposal answers."""
    explanation: str


def placeholder_name(writer: str) -> str:
    """A fact topic name that cannot be mistaken for a real one (Kafka forbids `<`, `>` and spaces)."""
    return f"<fact from {writer}>"


def propose(snapshot: FlowSnapshot, names: Mapping[str, str] | None = None) -> tuple[Proposal, ...]:
    """One proposal per writer whose commands start a chain or a fan-out, in the order of the findings.

    ``names`` renames fact topics by ``Proposal.key``. Every chain and fan-out finding is answered by
    at least one proposal; a chain commanded by two writers is answered by both (its services then
    subscribe to two facts), so proposals may share command topics and can still be applied together.
    """
    cascades = _Cascades(snapshot)
    return tuple(_proposal(snapshot, cascades, writer, names or {}) for writer in cascades.writers())


def apply_proposals(snapshot: FlowSnapshot, proposals: Iterable[Proposal]) -> FlowSnapshot:
    """The flow after the proposals: command topics gone, fact topics read by their subscribers.

    Rates, lag and records stay as observed today (new topics and edges have none); topic kinds and
    findings are worked out again from the new topology, so what remains of a chain still shows.
    """
    proposals = tuple(proposals)
    if not proposals:
        return snapshot
    facts: dict[str, list[Proposal]] = defaultdict(list)
    for proposal in proposals:
        facts[proposal.fact_topic].append(proposal)
    # A command topic that one proposal keeps as its fact stays, whatever another proposal says about it.
    removed = {topic for proposal in proposals for topic in proposal.removed_topics} - set(facts)
    edges = [edge for edge in snapshot.edges if not _touches(edge, removed)]
    present = {(edge.source, edge.target, edge.kind) for edge in edges}
    for proposal in proposals:
        for edge in proposal.added_edges:
            if (edge.source, edge.target, edge.kind) not in present:
                present.add((edge.source, edge.target, edge.kind))
                edges.append(edge)

    groups = tuple(_group_after(group, removed, proposals) for group in snapshot.groups)
    topics = [_topic_after(topic, facts.get(topic.name, [])) for topic in snapshot.topics if topic.name not in removed]
    existing = {topic.name for topic in topics}
    topics.extend(_new_topic(name, by) for name, by in facts.items() if name not in existing)
    topics = [_reclassified(topic, facts.get(topic.name, [])) for topic in topics]
    topics.sort(key=lambda topic: topic.name)

    services = _services_after(snapshot.services, removed, proposals)
    findings = find_findings(
        {topic.name: topic.kind for topic in topics},
        {service.name: service.produces for service in services if not service.unknown},
        {service.name: service.consumes for service in services},
        {topic.name: topic.producer_names for topic in topics},
    )
    return replace(
        snapshot, topics=tuple(topics), groups=groups, services=services, edges=tuple(edges), findings=findings
    )


# -- where commands start, and how far they reach ---------------------------------------------------------


class _Cascades:
    """The findings as cascades of commands: who starts them, and what each start reaches.

    A fan-out's service is never commanded itself (classify reports a commanded service that issues
    commands as a chain), so it starts its cascade. A chain is started by whoever sends it commands,
    followed back through any chain that sender is part of.
    """

    def __init__(self, snapshot: FlowSnapshot) -> None:
        self.snapshot = snapshot
        self.services = {service.name: service for service in snapshot.services}
        self.service_of = {group.id: group.service for group in snapshot.groups}
        self.chains = {s: f for f in snapshot.findings if f.kind == "command_chain" for s in f.services}
        self.fanouts = {s: f for f in snapshot.findings if f.kind == "command_fanout" for s in f.services}
        self.finding_topics = {topic for finding in snapshot.findings for topic in finding.topics}

    def writers(self) -> list[str]:
        """The starting writers, in the order of the findings they start; a finding on a circle of
        commands (no one outside starts it) is started by its own service, so every finding is covered."""
        starts: dict[str, None] = {}
        covered: set[Finding] = set()
        for finding in self.snapshot.findings:
            for service in finding.services:
                for writer in self._starts(service, set()):
                    if writer not in starts:
                        starts[writer] = None
                        covered.update(self.reach(writer)[2])
        for finding in self.snapshot.findings:
            if finding not in covered:
                starts[finding.services[0]] = None
                covered.update(self.reach(finding.services[0])[2])
        return list(starts)

    def _starts(self, service: str, seen: set[str]) -> list[str]:
        if service in self.fanouts or service not in self.chains:
            return [service]
        seen.add(service)
        starts: list[str] = []
        for sender in self._senders(service):
            if sender not in seen:
                starts.extend(w for w in self._starts(sender, seen) if w not in starts)
        return starts

    def _senders(self, service: str) -> list[str]:
        """Who writes the commands a chain's service receives."""
        view = self.services.get(service)
        received = [t for t in self.chains[service].topics if view is not None and t in view.consumes]
        return sorted({w for topic in received for w in _writers_of(self.snapshot, topic) if w != service})

    def reach(self, writer: str) -> tuple[tuple[str, ...], tuple[str, ...], tuple[Finding, ...]]:
        """The command topics a writer's commands lead to, the chains passed on the way, and the findings
        met; breadth first, so topics come in the order the commands flow."""
        topics: dict[str, None] = {}
        coordinators: list[str] = []
        findings: dict[Finding, None] = dict.fromkeys([self.fanouts[writer]] if writer in self.fanouts else [])
        if writer in self.chains:  # a writer on a circle of commands
            findings[self.chains[writer]] = None
        queue, seen = [writer], {writer}
        while queue:
            service = queue.pop(0)
            view = self.services.get(service)
            issued = sorted(
                t
                for t in (view.produces if view is not None else ())
                if t in self.finding_topics and _kind(self.snapshot, t) == "command"
            )
            for topic in issued:
                topics.setdefault(topic, None)
                for group in _groups_of(self.snapshot, topic):
                    reader = self.service_of.get(group, group)
                    if reader in self.chains and reader not in seen:
                        seen.add(reader)
                        queue.append(reader)
                        coordinators.append(reader)
                        findings[self.chains[reader]] = None
        return tuple(topics), tuple(coordinators), tuple(findings)


def _kind(snapshot: FlowSnapshot, topic: str) -> str | None:
    view = snapshot.topic(topic)
    return view.kind if view is not None else None


def _writers_of(snapshot: FlowSnapshot, topic: str) -> tuple[str, ...]:
    view = snapshot.topic(topic)
    return tuple(name for name in view.producer_names if name != UNKNOWN_WRITER) if view is not None else ()


# -- one proposal ------------------------------------------------------------------------------------------


def _proposal(snapshot: FlowSnapshot, cascades: _Cascades, writer: str, names: Mapping[str, str]) -> Proposal:
    commands, coordinators, findings = cascades.reach(writer)
    service_of = cascades.service_of
    fact, source, reason = _fact_name(snapshot, writer, commands, names.get(writer, "").strip())
    removed = tuple(topic for topic in commands if topic != fact)
    subscriber_groups = tuple(
        sorted(
            {
                group
                for topic in commands
                for group in _groups_of(snapshot, topic)
                if service_of.get(group, group) != writer  # on a circle of commands the writer reads one too
            }
        )
    )
    subscribers = tuple(sorted({service_of.get(group, group) for group in subscriber_groups}))

    removed_set = set(removed)
    removed_edges = tuple(edge for edge in snapshot.edges if _touches(edge, removed_set))
    kept = {(edge.source, edge.target, edge.kind) for edge in snapshot.edges if not _touches(edge, removed_set)}
    wanted = [Edge(writer, fact, "produce", None), *(Edge(fact, group, "consume", None) for group in subscriber_groups)]
    added_edges = tuple(edge for edge in wanted if (edge.source, edge.target, edge.kind) not in kept)

    audiences = len({*(_groups_of(snapshot, fact) if fact not in removed_set else ()), *subscriber_groups})
    led = {
        coordinator: sorted(
            {
                service_of.get(group, group)
                for topic in commands
                if coordinator in _writers_of(snapshot, topic)
                for group in _groups_of(snapshot, topic)
            }
        )
        for coordinator in coordinators
    }
    return Proposal(
        key=writer,
        writer=writer,
        fact_topic=fact,
        name_source=source,
        name_reason=reason,
        subscribers=subscribers,
        subscriber_groups=subscriber_groups,
        coordinators=coordinators,
        command_topics=commands,
        removed_topics=removed,
        removed_edges=removed_edges,
        added_edges=added_edges,
        findings=findings,
        explanation=_explanation(writer, fact, source, len(commands), audiences, subscribers, led),
    )


def _groups_of(snapshot: FlowSnapshot, topic: str) -> tuple[str, ...]:
    view = snapshot.topic(topic)
    return view.groups if view is not None else ()


def _touches(edge: Edge, topics: set[str]) -> bool:
    return (edge.target if edge.kind == "produce" else edge.source) in topics


def _fact_name(
    snapshot: FlowSnapshot, writer: str, commands: Sequence[str], renamed: str
) -> tuple[str, NameSource, str]:
    """The fact topic's name, where it came from and why (see the module docstring for the order)."""
    if renamed:
        return renamed, "renamed", "named by you"
    # Only topics the writer alone writes are reused: with a second writer they would mix two facts.
    first_hop = [t for t in commands if _writers_of(snapshot, t) == (writer,)]
    for topic in first_hop:
        types = view.record_types if (view := snapshot.topic(topic)) is not None else ()
        reading = read_name(topic)
        if reading.fact or (not reading.imperative and types and all(read_name(t).fact for t in types)):
            return topic, "command topic", f"`{topic}` already reads as a fact: it stays and gains the other audiences"
    for topic in first_hop:
        for record_type in view.record_types if (view := snapshot.topic(topic)) is not None else ():
            name = "-".join(tokens(record_type))
            if name and read_name(record_type).fact and snapshot.topic(name) is None:
                return name, "record type", f"the writer's records are typed `{record_type}`, which says what happened"
    own = [
        topic.name
        for topic in snapshot.topics
        if topic.kind != "internal"
        and topic.name not in commands
        and topic.producer_names == (writer,)
        and read_name(topic.name).fact
    ]
    if len(own) == 1:
        return (
            own[0],
            "writer's topic",
            f"`{writer}` already records `{own[0]}`, which reads as a fact: check that the commands follow from it",
        )
    seen_types = sorted(
        {t for topic in commands if (view := snapshot.topic(topic)) is not None for t in view.record_types}
    )
    seen = f" (records typed {_names(seen_types)} say what to do, not what happened)" if seen_types else ""
    several = f"; {_names(own)} read as facts, but no one of them is the obvious choice" if own else ""
    return (
        placeholder_name(writer),
        "placeholder",
        f"nothing in the flow names the fact{seen}{several}: rename it with `:propose NAME`",
    )


def _explanation(
    writer: str,
    fact: str,
    source: NameSource,
    commands: int,
    audiences: int,
    subscribers: Sequence[str],
    led: Mapping[str, Sequence[str]],
) -> str:
    """What changes, in the seed's words: how many topics become one, who stops coordinating whom."""
    topics = f"{commands} command {_plural('topic', commands)}"
    heard = f"{audiences} {_plural('audience', audiences)}"
    kind = "event topic" if audiences >= 2 else "topic"  # one audience left is still a command topic
    if source == "writer's topic":
        parts = [f"{topics} fold into the {kind} `{fact}`, which then has {heard}"]
    else:
        kept = f" (`{fact}`, kept)" if source == "command topic" else ""
        parts = [f"{topics} {'becomes' if commands == 1 else 'become'} 1 {kind}{kept} with {heard}"]
    parts.extend(
        f"`{coordinator}` no longer coordinates {_names(others)}" for coordinator, others in led.items() if others
    )
    if not led:
        parts.append(f"the next reaction needs no change to `{writer}`")
    who = f"`{writer}` records what happened once, on `{fact}`"
    return "; ".join(parts) + f". {who}; {_names(subscribers)} subscribe and decide for themselves."


def _plural(word: str, count: int) -> str:
    return word if count == 1 else word + "s"


def _names(names: Sequence[str]) -> str:
    quoted = [f"`{name}`" for name in names]
    if len(quoted) <= 1:
        return "".join(quoted)
    return ", ".join(quoted[:-1]) + " and " + quoted[-1]


# -- the flow after ----------------------------------------------------------------------------------------


def _group_after(group: GroupView, removed: set[str], proposals: Sequence[Proposal]) -> GroupView:
    facts = [p.fact_topic for p in proposals if group.id in p.subscriber_groups]
    if not facts and not removed & set(group.topics):
        return group
    topics = tuple(dict.fromkeys([*(t for t in group.topics if t not in removed), *facts]))
    rates = tuple((t, r) for t, r in group.topic_rates if t not in removed)
    rates += tuple((fact, None) for fact in facts if fact not in {t for t, _ in rates})
    partitions = tuple(p for p in group.partitions if p.topic not in removed)
    return replace(group, topics=topics, topic_rates=rates, partitions=partitions)


def _topic_after(topic: TopicView, proposals: Sequence[Proposal]) -> TopicView:
    """A topic that stays: a kept fact topic gains the subscribers; any other keeps its readers."""
    if not proposals:
        return topic
    return replace(topic, groups=tuple(sorted({*topic.groups, *(g for p in proposals for g in p.subscriber_groups)})))


def _new_topic(name: str, proposals: Sequence[Proposal]) -> TopicView:
    """A fact topic that does not exist yet (two proposals renamed alike share it)."""
    groups = tuple(sorted({group for proposal in proposals for group in proposal.subscriber_groups}))
    writers = sorted({proposal.writer for proposal in proposals})
    return TopicView(
        name=name,
        partitions=0,  # unknown until someone creates it
        internal=False,
        classification=classify_topic(name, internal=False, groups=groups, record_types=()),
        rate=None,
        messages=0,
        end_offsets=(),
        groups=groups,
        producers=tuple(ProducerRate(writer, None) for writer in writers),
        record_types=(),
        records=(),
    )


def _reclassified(topic: TopicView, proposals: Sequence[Proposal]) -> TopicView:
    """A topic's kind from its readers after the change; a fact topic also says what it replaces."""
    if not proposals:
        return topic
    classification = classify_topic(
        topic.name, internal=topic.internal, groups=topic.groups, record_types=topic.record_types
    )
    why = tuple(
        f"proposed: `{p.writer}` records the fact here in place of the commands on "
        + _names([t for t in p.command_topics if t != topic.name])
        for p in proposals
    )
    return replace(topic, classification=replace(classification, reasons=(*classification.reasons, *why)))


def _services_after(
    services: Sequence[ServiceView], removed: set[str], proposals: Sequence[Proposal]
) -> tuple[ServiceView, ...]:
    """Each service without the command topics; writers write the fact, subscribers read it."""
    writes: dict[str, set[str]] = defaultdict(set)
    reads: dict[str, set[str]] = defaultdict(set)
    for proposal in proposals:
        writes[proposal.writer].add(proposal.fact_topic)
        for subscriber in proposal.subscribers:
            reads[subscriber].add(proposal.fact_topic)
    return tuple(
        replace(
            service,
            produces=tuple(sorted({*(t for t in service.produces if t not in removed), *writes[service.name]})),
            consumes=tuple(sorted({*(t for t in service.consumes if t not in removed), *reads[service.name]})),
        )
        for service in services
    )
