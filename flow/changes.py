"""Notable changes between successive snapshots: what the changes strip and the JSON report list.

A :class:`ChangeLog` belongs to one model and sees every snapshot it builds, so replay, demo and live
sources all get the same log. It keeps a small digest of the last snapshot (each topic's kind and
writers, each group's lag status, the findings), compares the next one with it, and keeps the newest
changes in a bounded ring.

A session start is not a change: while the source is first being discovered (the first
``settle_ms`` of stream time: names are learnt from sampled records, lag windows fill) the digest is
only updated, then one ``start`` line says what was found. A group that goes WARN is news at once;
that it recovered only once it has stayed OK for ``RECOVERY_MS``, so a group that flaps between WARN
and OK is one line, not one per refresh. Many changes of one kind at one moment (a
cluster that creates 300 topics) are one line, not 300.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

from flow.vocabulary import UNKNOWN_WRITER, LagStatus

if TYPE_CHECKING:
    from flow.snapshot import Finding, GroupView, TopicKind, TopicView

ChangeKind = Literal[
    "start",
    "new_topic",
    "topic_gone",
    "command_topic",
    "command_topic_ended",
    "new_writer",
    "new_group",
    "group_gone",
    "group_status",
    "group_recovered",
    "new_finding",
    "finding_resolved",
]

CHANGES_KEPT = 100
SETTLE_MS = 10_000
"""Stream time after the first observation during which what appears is discovery, not change: two
refreshes of a live cluster at the default interval."""
COLLAPSE_OVER = 4
"""More changes than this of one kind at one moment are told as one line."""
NAMES_SHOWN = 3
RECOVERY_MS = 20_000
"""How long a group that went WARN (or worse) must stay OK to be told recovered: the lag window of
ten refreshes at two seconds."""

BAD = frozenset({LagStatus.WARN, LagStatus.REWIND, LagStatus.STALL, LagStatus.STOP})
STATUS_WORDS = {
    LagStatus.WARN: "lag growing",
    LagStatus.REWIND: "its committed offsets went back",
    LagStatus.STALL: "offsets not moving while members are assigned",
    LagStatus.STOP: "no members, lag not shrinking",
}
UNNAMED_PREFIX = "producer-id "
"""Writers known only by a producer id (flow.build names them so): their identity is a guess."""


@dataclass(frozen=True, slots=True)
class Change:
    """One notable change: when (the snapshot's ``t``), what kind, about what, in plain words."""

    t: int
    kind: ChangeKind
    subject: str
    """The topic, group or service it is about; empty for a line that tells several at once."""
    text: str
    """One line of plain words; names in it are raw (quoted with backticks), for the viewer to sanitise."""
    status: LagStatus | None = None
    """For a group's status change, the status it went to."""


_Topic = tuple["TopicKind", tuple[str, ...]]
"""What the log remembers of a topic: its kind and its writers' names as the snapshot lists them."""
_UNSEEN: _Topic = ("unread", ())


@dataclass(frozen=True, slots=True)
class _Group:
    told: LagStatus
    """The status the log last told (a new group's first status)."""
    ok_since: int | None = None
    """While ``told`` is bad: since when the group has been OK."""


FindingKey = tuple[str, tuple[str, ...]]


class _Add(Protocol):
    def __call__(self, kind: ChangeKind, subject: str, text: str, status: LagStatus | None = None) -> None: ...


class ChangeLog:
    """The newest ``keep`` changes of one model's snapshots, oldest first."""

    def __init__(self, keep: int = CHANGES_KEPT, settle_ms: int = SETTLE_MS) -> None:
        self._ring: deque[Change] = deque(maxlen=max(keep, 1))
        self._settle_ms = settle_ms
        self._settled = False
        self._topics: dict[str, _Topic] = {}
        self._groups: dict[str, _Group] = {}
        self._findings: dict[FindingKey, Finding] = {}
        self._shown: tuple[Change, ...] = ()

    @property
    def changes(self) -> tuple[Change, ...]:
        return self._shown

    def restart(self) -> None:
        """Forget the log and the digest: the next snapshot is a start (after a seek, a jump is no change)."""
        self._ring.clear()
        self._shown = ()
        self._settled = False
        self._topics, self._groups, self._findings = {}, {}, {}

    def update(
        self,
        t: int,
        started: int | None,
        topics: Sequence[TopicView],
        groups: Sequence[GroupView],
        findings: Sequence[Finding],
    ) -> tuple[Change, ...]:
        """Compare a new snapshot's parts with the last ones; the log, oldest first."""
        found: list[Change] = []
        if self._settled:
            found = self._compare(t, topics, groups, findings)
        else:
            self._remember(topics, groups, findings)
            if started is not None and t - started >= self._settle_ms:
                self._settled = True
                found = [_start(t, topics, groups, findings)]
        if found:
            self._ring.extend(found)
            self._shown = tuple(self._ring)
        return self._shown

    # -- digest ----------------------------------------------------------------------------------------

    def _remember(self, topics: Iterable[TopicView], groups: Iterable[GroupView], findings: Iterable[Finding]) -> None:
        self._topics = {topic.name: (topic.kind, topic.producer_names) for topic in topics}
        self._groups = {group.id: _Group(group.status) for group in groups}
        self._findings = {_key(finding): finding for finding in findings}

    def _compare(
        self, t: int, topics: Sequence[TopicView], groups: Sequence[GroupView], findings: Sequence[Finding]
    ) -> list[Change]:
        """What differs from the digest; the digest becomes the new snapshot's. One pass over each part:
        a look-up and a comparison of two small values per topic and group."""
        before_topics, before_groups, before_findings = self._topics, self._groups, self._findings
        now_topics: dict[str, _Topic] = {}
        by_kind: dict[ChangeKind, list[Change]] = {}

        def add(kind: ChangeKind, subject: str, text: str, status: LagStatus | None = None) -> None:
            by_kind.setdefault(kind, []).append(Change(t, kind, subject, text, status))

        for topic in topics:
            name = topic.name
            now = now_topics[name] = (topic.classification.kind, topic.producer_names)
            was = before_topics.get(name)
            if now == was or now[0] == "internal":
                continue  # the common case; internal topics are hidden by default and one audience by design
            if was is None:
                add("new_topic", name, f"new topic `{name}` ({_count(topic.partitions, 'partition')})")
                was = _UNSEEN
            if now[0] != was[0]:
                if now[0] == "command":
                    add("command_topic", name, f"`{name}` became a command topic (one audience: `{topic.groups[0]}`)")
                elif was[0] == "command":
                    add("command_topic_ended", name, f"`{name}` is no longer a command topic: {_audience(topic)}")
            for writer in sorted(_named(now[1]) - _named(was[1])):
                add("new_writer", writer, f"new writer `{writer}` on `{name}`")
        for name in before_topics.keys() - now_topics.keys():
            if before_topics[name][0] != "internal":
                add("topic_gone", name, f"topic `{name}` is gone")

        now_groups: dict[str, _Group] = {}
        for group in groups:
            was_group = before_groups.get(group.id)
            if was_group is not None and was_group.told is group.status and was_group.ok_since is None:
                now_groups[group.id] = was_group  # the common case
                continue
            if was_group is None:
                reads = f" reading {_names(group.topics)}" if group.topics else ""
                add("new_group", group.id, f"new group `{group.id}`{reads}")
                was_group = _Group(LagStatus.OK)
            now_groups[group.id] = self._status_change(t, group, was_group, add)
        for group_id in before_groups.keys() - now_groups.keys():
            add("group_gone", group_id, f"group `{group_id}` went away")

        now_findings = {_key(finding): finding for finding in findings}
        for key, finding in now_findings.items():
            if key not in before_findings:
                add("new_finding", finding.services[0], f"new finding: {_finding_words(finding)}")
        for key, finding in before_findings.items():
            if key not in now_findings:
                add("finding_resolved", finding.services[0], f"finding resolved: {_finding_words(finding)}")

        self._topics, self._groups, self._findings = now_topics, now_groups, now_findings
        changes: list[Change] = []
        for kind, found in by_kind.items():
            changes.extend(found if len(found) <= COLLAPSE_OVER else [_collapsed(kind, found)])
        return changes

    @staticmethod
    def _status_change(t: int, group: GroupView, was: _Group, add: _Add) -> _Group:
        """A group's status as the log tells it: going bad (or worse) at once, recovering once it held."""
        status, told = group.status, was.told
        if status in BAD:
            if told not in BAD or status.severity > told.severity:
                add("group_status", group.id, f"group `{group.id}` went {status}: {STATUS_WORDS[status]}", status)
                return _Group(status)
            return _Group(told) if was.ok_since is not None else was
        if told not in BAD:
            return was if told == status else _Group(status)
        if status != LagStatus.OK:
            return was  # not known now: neither bad nor recovered
        if was.ok_since is None:
            return _Group(told, t)
        if t - was.ok_since >= RECOVERY_MS:
            add(
                "group_recovered",
                group.id,
                f"group `{group.id}` recovered: OK for {_seconds(t - was.ok_since)}",
                status,
            )
            return _Group(status)
        return was


def _seconds(ms: int) -> str:
    return f"{ms // 1000} s"


def _named(writers: Iterable[str]) -> set[str]:
    """Writers with a name: the unknown writer and producer ids without a name are not news."""
    return {name for name in writers if name != UNKNOWN_WRITER and not name.startswith(UNNAMED_PREFIX)}


def _key(finding: Finding) -> FindingKey:
    """A finding is the same finding while its kind and its service stay (its topics may grow)."""
    return finding.kind, finding.services


def _start(t: int, topics: Sequence[TopicView], groups: Sequence[GroupView], findings: Sequence[Finding]) -> Change:
    """The one line a session starts with: what was found, not everything that appeared."""
    shown = [topic for topic in topics if topic.kind != "internal"]
    commands = sum(1 for topic in shown if topic.kind == "command")
    behind = sum(1 for group in groups if group.status in BAD)
    parts = [
        _count(len(shown), "topic") + (f" ({_count(commands, 'command topic')})" if commands else ""),
        _count(len(groups), "group") + (f" ({behind} not OK)" if behind else ""),
        _count(len(findings), "finding"),
    ]
    return Change(t, "start", "", "watching " + ", ".join(parts))


_COLLAPSED: dict[ChangeKind, str] = {
    "new_topic": "{n} new topics",
    "topic_gone": "{n} topics are gone",
    "command_topic": "{n} topics became command topics",
    "command_topic_ended": "{n} topics are no longer command topics",
    "new_writer": "{n} new writers",
    "new_group": "{n} new groups",
    "group_gone": "{n} groups went away",
    "group_status": "{n} groups went {statuses}",
    "group_recovered": "{n} groups recovered",
    "new_finding": "{n} new findings",
    "finding_resolved": "{n} findings resolved",
}


def _collapsed(kind: ChangeKind, changes: list[Change]) -> Change:
    """Many changes of one kind at one moment, as one line naming the first few."""
    statuses = sorted({c.status for c in changes if c.status is not None}, key=lambda s: s.severity)
    head = _COLLAPSED[kind].format(n=len(changes), statuses=" or ".join(statuses))
    subjects = sorted({c.subject for c in changes})
    worst = statuses[-1] if statuses else None
    return Change(changes[0].t, kind, "", f"{head}: {_names(subjects)}", worst)


def _finding_words(finding: Finding) -> str:
    service = finding.services[0]
    if finding.kind == "command_chain":
        return f"command chain through `{service}` ({_names(finding.topics)})"
    return f"`{service}` fans out commands to {_names(finding.topics)}"


def _audience(topic: TopicView) -> str:
    if topic.kind == "event":
        return f"{len(topic.groups)} audiences ({_names(topic.groups)})"
    if topic.kind == "unread":
        return "no group reads it"
    return f"now {topic.kind}"


def _names(names: Sequence[str]) -> str:
    """Up to a few names, quoted, then how many more."""
    shown = ", ".join(f"`{name}`" for name in names[:NAMES_SHOWN])
    more = len(names) - NAMES_SHOWN
    return f"{shown} and {more} more" if more > 0 else shown


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
