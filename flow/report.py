"""Headless reports of a snapshot: a JSON document and a plain-text summary for terminals and CI logs."""

from __future__ import annotations

import json
from typing import Any

from flow.gate import GateResult, gate_data, gate_text
from flow.instants import utc_datetime
from flow.proposal import propose
from flow.sanitize import clean, terminal_safe
from flow.snapshot import FlowSnapshot, TopicView

NAME_LIMIT = 300
"""Names longer than this are cut in the text report (Kafka's own topic names stop at 249)."""
_KIND_ORDER = {"command": 0, "event": 1, "unread": 2, "internal": 3}


def report_data(snapshot: FlowSnapshot, source: str, gate: GateResult | None = None) -> dict[str, Any]:
    """The report as plain data; key names are a public interface (scripts and CI gates read them).

    ``source_status`` says what the source could not see (a kcat dump has no consumer groups);
    ``gate`` is there when the report ran with ``--fail-on``; ``proposals`` answer the findings (flow.proposal);
    ``changes`` are the notable changes seen on the way (flow.changes), oldest first.
    """
    data: dict[str, Any] = {
        "source": source,
        "time": _iso(snapshot.t) if snapshot.t else None,
        "observations": snapshot.observations,
        "source_status": (
            {"state": snapshot.status.state, "detail": snapshot.status.detail} if snapshot.status else None
        ),
        "topics": [
            {
                "name": topic.name,
                "kind": topic.kind,
                "consumer_groups": list(topic.groups),
                "producers": list(topic.producer_names),
                "reasons": list(topic.classification.reasons),
                "confidence": topic.classification.confidence,
                "note": topic.classification.note,
                "partitions": topic.partitions,
                "messages_per_second": _round(topic.rate),
                "record_types": list(topic.record_types),
            }
            for topic in snapshot.topics
        ],
        "consumer_groups": [
            {
                "id": group.id,
                "service": group.service,
                "state": group.state,
                "protocol": group.protocol,
                "members": len(group.members),
                "topics": list(group.topics),
                "lag": group.lag,
                "lag_seconds": _round(group.lag_seconds),
                "lag_status": group.status.value,
                "messages_per_second": _round(group.rate),
            }
            for group in snapshot.groups
        ],
        "findings": [
            {
                "kind": finding.kind,
                "topics": list(finding.topics),
                "services": list(finding.services),
                "summary": finding.summary,
                "advice": finding.advice,
            }
            for finding in snapshot.findings
        ],
        "proposals": [
            {
                "key": proposal.key,
                "writer": proposal.writer,
                "fact_topic": proposal.fact_topic,
                "fact_topic_named_by": proposal.name_source,
                "why_this_name": proposal.name_reason,
                "subscribers": list(proposal.subscribers),
                "consumer_groups": list(proposal.subscriber_groups),
                "coordinators": list(proposal.coordinators),
                "command_topics": list(proposal.command_topics),
                "removed_topics": list(proposal.removed_topics),
                "explanation": proposal.explanation,
            }
            for proposal in propose(snapshot)
        ],
        "changes": [
            {
                "time": _iso(change.t),
                "t": change.t,
                "kind": change.kind,
                "subject": change.subject,
                "text": change.text,
            }
            for change in snapshot.changes
        ],
    }
    if gate is not None:
        data["gate"] = gate_data(gate)
    return data


def report_json(snapshot: FlowSnapshot, source: str, gate: GateResult | None = None) -> str:
    """The report as JSON; characters a terminal would act on are written as \\u escapes (same data)."""
    return terminal_safe(json.dumps(report_data(snapshot, source, gate), indent=2, ensure_ascii=False)) + "\n"


def report_text(snapshot: FlowSnapshot, source: str, gate: GateResult | None = None) -> str:
    """A summary that reads well in a terminal or a CI log: commands first, each with its reasons,
    and the gate's verdict last when the report ran with ``--fail-on``."""
    topics = sorted(snapshot.topics, key=lambda t: (_KIND_ORDER[t.kind], t.name))
    shown = [topic for topic in topics if topic.kind != "internal"]
    internal = [_t(topic.name) for topic in topics if topic.kind == "internal"]
    commands = sum(1 for topic in shown if topic.kind == "command")
    lines = [f"flowscope report: {_t(source)}"]
    if snapshot.started is not None and snapshot.t:
        span = (snapshot.t - snapshot.started) / 1000
        lines.append(
            f"{_iso(snapshot.started)} to {_iso(snapshot.t)} ({_duration(span)}), "
            f"{snapshot.observations:,} observations"
        )
    lines.append(
        f"{len(shown)} topics, {commands} command {'topic' if commands == 1 else 'topics'}, "
        f"{len(snapshot.groups)} consumer groups, {len(snapshot.findings)} "
        f"{'finding' if len(snapshot.findings) == 1 else 'findings'}"
    )
    if snapshot.status is not None and snapshot.status.detail:
        lines.append(f"source: {_t(snapshot.status.detail)}")
    lines.append("")
    lines.extend(_topic_table(shown))
    if internal:
        lines.append(f"internal topics (not flagged): {', '.join(internal)}")
    if snapshot.groups:
        lines.append("")
        ids = {group.id: _t(group.id) for group in snapshot.groups}
        width = max(len(shown_id) for shown_id in ids.values())
        lines.append(f"{'GROUP':<{width}}  {'STATE':<12} {'LAG':>9}  {'STATUS':<7} MSG/S")
        lines.extend(
            f"{ids[g.id]:<{width}}  {_t(g.state):<12} {g.lag:>9,}  {g.status.value:<7} {_rate(g.rate)}"
            for g in snapshot.groups
        )
    if snapshot.findings:
        lines.append("")
        lines.append("FINDINGS")
        for finding in snapshot.findings:
            lines.append(f"{finding.kind}: {_t(finding.summary)}")
            lines.append(f"  advice: {_t(finding.advice)}")
    if gate is not None:
        lines.append("")
        lines.append(gate_text(gate).rstrip("\n"))
    return terminal_safe("\n".join(lines)) + "\n"


def _t(text: str) -> str:
    """Untrusted text (names, ids, reasons quoting them) for a line of the text report."""
    return clean(text, NAME_LIMIT)


def _topic_table(topics: list[TopicView]) -> list[str]:
    if not topics:
        return ["no topics seen"]
    names = {topic.name: _t(topic.name) for topic in topics}
    name_width = max(len("TOPIC"), *(len(name) for name in names.values()))
    lines = [f"{'TOPIC':<{name_width}}  {'KIND':<8} {'MSG/S':>7}  AUDIENCE <- PRODUCERS"]
    for topic in topics:
        audience = ", ".join(_t(group) for group in topic.groups) or "-"
        producers = ", ".join(_t(name) for name in topic.producer_names) or "-"
        name = names[topic.name]
        lines.append(f"{name:<{name_width}}  {topic.kind:<8} {_rate(topic.rate):>7}  {audience} <- {producers}")
        if topic.kind == "command":
            confidence = f" ({topic.classification.confidence} confidence)" if topic.classification.confidence else ""
            lines.append(f"{'':<{name_width}}  why{confidence}:")
            lines.extend(f"{'':<{name_width}}    - {_t(reason)}" for reason in topic.classification.reasons)
        if topic.classification.note:
            lines.append(f"{'':<{name_width}}  note: {_t(topic.classification.note)}")
    return lines


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _iso(t: int) -> str:
    moment = utc_datetime(t)
    return "an unknown time" if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"
