"""What the details panel says about the selected topic, consumer group or service, and why.

Every piece of cluster data is sanitised and rendered as Text; nothing here is parsed as markup.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from flow.instants import utc_datetime
from flow.sanitize import clean, payload_text
from flow.vocabulary import UNKNOWN_WRITER, LagStatus
from tui.view.format import compact_number, rate_text, seconds_text
from tui.view.looks import unknown_writer_of
from tui.view.marks import COMMAND_ADVICE, KIND_MARKS, STATUS_MARKS, UNKNOWN_WRITER_MEANING

if TYPE_CHECKING:
    from flow.snapshot import FlowSnapshot, GroupView, ServiceView, TopicView

RECORDS_SHOWN = 5


def _heading(text: str) -> Text:
    return Text(text, style="bold underline")


def _line(label: str, value: str, style: str = "") -> Text:
    line = Text(f"{label}: ", style="dim")
    line.append(value, style=style)
    return line


def _table(*headers: str) -> Table:
    table = Table(box=None, show_edge=False, pad_edge=False, header_style="dim", expand=False)
    for header in headers:
        table.add_column(Text(header), no_wrap=True, overflow="ellipsis", max_width=40)
    return table


def _partition_list(partitions: tuple[int, ...]) -> str:
    shown = ", ".join(str(p) for p in partitions[:20])
    more = f" and {len(partitions) - 20} more" if len(partitions) > 20 else ""
    return f"partition{'s' if len(partitions) > 1 else ''} {shown}{more}"


def topic_details(snapshot: FlowSnapshot, topic: TopicView) -> RenderableType:
    parts: list[RenderableType] = []
    title = Text(clean(topic.name, 300), style="bold")
    title.append("  ")
    title.append(f" {topic.kind.upper()} ", style=KIND_MARKS[topic.kind].style)
    parts.append(title)
    parts.append(_line("partitions", str(topic.partitions)))
    if topic.owner is not None:
        parts.append(_line("owned by", f"{clean(topic.owner, 200)}, a Kafka Streams app: it creates and writes it"))
    if topic.offline:
        parts.append(
            _line(
                "offline",
                f"{_partition_list(topic.offline)}: no leader, nothing can be read or written there; their offsets, "
                "the rate and the lag on them are the last seen",
            )
        )
    if topic.under_replicated:
        parts.append(
            _line("under-replicated", f"{_partition_list(topic.under_replicated)}: fewer in-sync replicas than all")
        )
    parts.append(_line("rate", rate_text(topic.rate)))
    parts.append(_line("messages", compact_number(topic.messages)))
    classification = topic.classification
    why = "Why it was flagged" if topic.kind == "command" else "Why this kind"
    if classification.confidence:
        why += f" ({classification.confidence} confidence)"
    parts += [Text(""), _heading(why)]
    parts += [Text(f"  • {clean(reason, 400)}") for reason in classification.reasons]
    if classification.note:
        parts.append(Text(f"  note: {clean(classification.note, 300)}", style="italic"))
    findings = [f for f in snapshot.findings if topic.name in f.topics]
    if topic.kind == "command" or findings:
        parts += [Text(""), _heading("Advice")]
        if topic.kind == "command":
            parts.append(Text(f"  {COMMAND_ADVICE}"))
        for finding in findings:
            parts.append(Text(f"  {finding.kind}: {clean(finding.summary, 400)}", style="bold"))
            parts.append(Text(f"  {clean(finding.advice, 400)}"))

    parts += [Text(""), _heading("Audience (consumer groups)")]
    groups = {group.id: group for group in snapshot.groups}
    if topic.groups:
        audience = _table("group", "lag", "age", "status")
        for group_id in topic.groups:
            group = groups.get(group_id)
            rows = [row for row in group.partitions if row.topic == topic.name] if group else []
            lag = sum(row.lag or 0 for row in rows)
            ages = [row.lag_seconds for row in rows if row.lag_seconds is not None]
            status = group.status if group else LagStatus.UNKNOWN
            audience.add_row(
                Text(clean(group_id, 80)),
                Text(compact_number(lag)),
                Text(seconds_text(max(ages) if ages else None)),
                Text(status.value, style=STATUS_MARKS[status].style),
            )
        parts.append(audience)
    else:
        parts.append(Text("  nobody reads it", style="dim"))

    parts += [Text(""), _heading("Producers")]
    if topic.producers:
        producers = _table("producer", "rate", "ids")
        for producer in topic.producers:
            estimate = " (est.)" if producer.estimated else ""
            producers.add_row(
                Text(clean(producer.name, 80), style="dim" if producer.name == UNKNOWN_WRITER else ""),
                Text(rate_text(producer.rate) + estimate),
                Text(", ".join(str(pid) for pid in producer.producer_ids) or "-"),
            )
        parts.append(producers)
        if any(p.name == UNKNOWN_WRITER for p in topic.producers):
            parts.append(Text(f"  {UNKNOWN_WRITER_MEANING}", style="dim"))
    else:
        parts.append(Text("  none seen", style="dim"))
    if topic.record_types:
        parts.append(_line("record types", clean(", ".join(topic.record_types), 300)))
    subjects = _subjects(topic)
    if subjects:
        parts.append(_line("schema subjects", clean(", ".join(subjects), 300)))

    parts += [Text(""), _heading("Partitions")]
    partitions = _table("partition", "end offset")
    for index, offset in enumerate(topic.end_offsets[:64]):
        partitions.add_row(Text(str(index)), Text(f"{offset:,}"))
    parts.append(partitions if topic.end_offsets else Text("  no offsets yet", style="dim"))
    if len(topic.end_offsets) > 64:
        parts.append(Text(f"  … and {len(topic.end_offsets) - 64} more", style="dim"))

    parts += [Text(""), _heading(f"Recent records (sampled, newest first, up to {RECORDS_SHOWN})")]
    if not topic.records:
        parts.append(Text("  none sampled", style="dim"))
    for record in reversed(topic.records[-RECORDS_SHOWN:]):
        moment = utc_datetime(record.timestamp)
        when = "-" if moment is None else moment.strftime("%H:%M:%S.%f")[:-3]
        header = Text(f"  p{record.partition} @{record.offset:,}  {when}  {record.size:,} B  key ", style="dim")
        header.append(payload_text(record.key, 120), style="bold")
        parts.append(header)
        for name, value in record.headers[:12]:
            line = Text("    ")
            line.append(clean(name, 60), style="cyan")
            line.append(" = ")
            line.append(payload_text(value, 160))
            parts.append(line)
        for role, schema in (("key", record.key_schema), ("value", record.value_schema)):
            if schema is not None:
                # Everything here came from a registry or a file: plain Text, sanitised, never markup.
                line = Text(f"    {role} schema {schema.id}", style="dim")
                for part in (schema.format, schema.record_type, schema.subject):
                    if part:
                        line.append(" · " + clean(part, 120), style="cyan")
                if schema.error:
                    line.append("  " + clean(schema.error, 120), style="bold red")
                parts.append(line)
        if record.value is None:
            parts.append(Text("    value not recorded", style="dim"))
        else:
            parts.append(Text("    " + payload_text(record.value, 600, multiline=True).replace("\n", "\n    ")))
    return Group(*parts)


def _subjects(topic: TopicView) -> list[str]:
    """The registry subjects of the sampled records' keys and values (TopicNameStrategy gives
    `TOPIC-value`, RecordNameStrategy the record type's name), values first."""
    found: dict[str, None] = {}
    for role in ("value_schema", "key_schema"):
        for record in topic.records:
            schema = getattr(record, role)
            if schema is not None and schema.subject:
                found.setdefault(schema.subject, None)
    return list(found)


def group_details(snapshot: FlowSnapshot, group: GroupView) -> RenderableType:
    parts: list[RenderableType] = []
    title = Text(clean(group.id, 300), style="bold")
    title.append("  ")
    title.append(f" {group.status.value} ", style=STATUS_MARKS[group.status].style + " reverse")
    parts.append(title)
    parts.append(Text(f"  {STATUS_MARKS[group.status].meaning}", style="italic"))
    parts.append(_line("service", clean(group.service, 200)))
    parts.append(_line("state", clean(group.state, 40)))
    parts.append(_line("protocol", clean(group.protocol, 40)))
    parts.append(_line("lag", f"{group.lag:,} messages, oldest unread {seconds_text(group.lag_seconds)}"))
    parts.append(_line("consumes", rate_text(group.rate)))
    parts += [Text(""), _heading(f"Members ({len(group.members)})")]
    if not group.members:
        parts.append(Text("  no members: nobody is consuming right now", style="dim"))
    for member in group.members[:50]:
        line = Text("  ")
        line.append(clean(member.client_id or member.member_id, 80), style="bold")
        line.append(f"  {clean(member.host, 80)}  ", style="dim")
        line.append(clean("; ".join(f"{t} {list(p)}" for t, p in member.assigned), 300))
        parts.append(line)
    parts += [Text(""), _heading("Lag per partition")]
    lag = _table("topic", "part.", "end", "committed", "lag", "age", "status")
    for row in group.partitions[:200]:
        lag.add_row(
            Text(clean(row.topic, 60)),
            Text(str(row.partition)),
            Text("-" if row.end_offset is None else f"{row.end_offset:,}"),
            Text("-" if row.committed is None else f"{row.committed:,}"),
            Text("-" if row.lag is None else f"{row.lag:,}"),
            Text(seconds_text(row.lag_seconds)),
            Text(row.status.value, style=STATUS_MARKS[row.status].style),
        )
    parts.append(lag if group.partitions else Text("  no committed offsets", style="dim"))
    return Group(*parts)


def service_details(snapshot: FlowSnapshot, service: ServiceView) -> RenderableType:
    parts: list[RenderableType] = [Text(clean(service.name, 300), style="bold")]
    parts.append(_line("role", service.role))
    if service.unknown:
        parts.append(Text("  a producer id no sampled record has named yet", style="dim"))
    kinds = {topic.name: topic.kind for topic in snapshot.topics}
    parts += [Text(""), _heading("Writes")]
    rates = {e.target: e.rate for e in snapshot.edges if e.kind == "produce" and e.source == service.name}
    for name in service.produces:
        line = Text(f"  {clean(name, 120)}  {rate_text(rates.get(name))}")
        if kinds.get(name) == "command":
            line.append("  CMD·1", style=KIND_MARKS["command"].style)
        parts.append(line)
    if not service.produces:
        parts.append(Text("  nothing seen", style="dim"))
    parts += [Text(""), _heading("Reads (through its consumer groups)")]
    for name in service.consumes:
        parts.append(Text(f"  {clean(name, 120)}" + ("  (a command)" if kinds.get(name) == "command" else "")))
    if not service.consumes:
        parts.append(Text("  nothing", style="dim"))
    if service.groups:
        parts.append(_line("groups", clean(", ".join(service.groups), 300)))
    findings = [f for f in snapshot.findings if service.name in f.services]
    if findings:
        parts += [Text(""), _heading("Findings")]
        for finding in findings:
            parts.append(Text(f"  {finding.kind}: {clean(finding.summary, 400)}", style="bold"))
            parts.append(Text(f"  advice: {clean(finding.advice, 400)}"))
    return Group(*parts)


def render_selection(snapshot: FlowSnapshot | None, kind: str | None, name: str | None) -> RenderableType:
    if snapshot is None or kind is None or name is None:
        return Text("Select a topic, group or service, then press enter.", style="dim")
    if kind == "topic" and (topic := snapshot.topic(name)) is not None:
        return topic_details(snapshot, topic)
    if kind == "group" and (group := snapshot.group(name)) is not None:
        return group_details(snapshot, group)
    if kind == "service":
        service = next((s for s in snapshot.services if s.name == name), None)
        if service is not None:
            return service_details(snapshot, service)
        if (topic_name := unknown_writer_of(("service", name))) is not None:
            return Group(
                Text(f"unknown writer of {clean(topic_name, 200)}", style="bold"),
                Text(f"  {UNKNOWN_WRITER_MEANING}", style="dim"),
            )
    return Text(f"{clean(name, 200)} is not in the current flow.", style="dim")
