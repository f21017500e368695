"""Headless reports of a snapshot: a JSON document and a plain-text summary for terminals and CI logs."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from flow.snapshot import FlowSnapshot, TopicView

_KIND_ORDER = {"command": 0, "event": 1, "unread": 2, "internal": 3}


def report_data(snapshot: FlowSnapshot, source: str) -> dict[str, Any]:
    """The report as plain data; key names are a public interface (scripts and CI gates read them)."""
    return {
        "source": source,
        "time": _iso(snapshot.t) if snapshot.t else None,
        "observations": snapshot.observations,
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
    }


def report_json(snapshot: FlowSnapshot, source: str) -> str:
    return json.dumps(report_data(snapshot, source), indent=2, ensure_ascii=False) + "\n"


def report_text(snapshot: FlowSnapshot, source: str) -> str:
    """A summary that reads well in a terminal or a CI log: commands first, each with its reasons."""
    topics = sorted(snapshot.topics, key=lambda t: (_KIND_ORDER[t.kind], t.name))
    shown = [topic for topic in topics if topic.kind != "internal"]
    internal = [topic.name for topic in topics if topic.kind == "internal"]
    commands = sum(1 for topic in shown if topic.kind == "command")
    lines = [f"flowscope report: {source}"]
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
    lines.append("")
    lines.extend(_topic_table(shown))
    if internal:
        lines.append(f"internal topics (not flagged): {', '.join(internal)}")
    if snapshot.groups:
        lines.append("")
        width = max(len(group.id) for group in snapshot.groups)
        lines.append(f"{'GROUP':<{width}}  {'STATE':<12} {'LAG':>9}  {'STATUS':<7} MSG/S")
        lines.extend(
            f"{g.id:<{width}}  {g.state:<12} {g.lag:>9,}  {g.status.value:<7} {_rate(g.rate)}"
            for g in snapshot.groups
        )
    if snapshot.findings:
        lines.append("")
        lines.append("FINDINGS")
        for finding in snapshot.findings:
            lines.append(f"{finding.kind}: {finding.summary}")
            lines.append(f"  advice: {finding.advice}")
    return "\n".join(lines) + "\n"


def _topic_table(topics: list[TopicView]) -> list[str]:
    if not topics:
        return ["no topics seen"]
    name_width = max(len("TOPIC"), *(len(topic.name) for topic in topics))
    lines = [f"{'TOPIC':<{name_width}}  {'KIND':<8} {'MSG/S':>7}  AUDIENCE <- PRODUCERS"]
    for topic in topics:
        audience = ", ".join(topic.groups) or "-"
        producers = ", ".join(topic.producer_names) or "-"
        lines.append(
            f"{topic.name:<{name_width}}  {topic.kind:<8} {_rate(topic.rate):>7}  {audience} <- {producers}"
        )
        if topic.kind == "command":
            confidence = (
                f" ({topic.classification.confidence} confidence)" if topic.classification.confidence else ""
            )
            lines.append(f"{'':<{name_width}}  why{confidence}:")
            lines.extend(f"{'':<{name_width}}    - {reason}" for reason in topic.classification.reasons)
        elif topic.classification.note:
            lines.append(f"{'':<{name_width}}  note: {topic.classification.note}")
    return lines


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _iso(t: int) -> str:
    return datetime.fromtimestamp(t / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"
