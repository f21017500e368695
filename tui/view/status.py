"""What the status line says: where the flow comes from, how it plays or connects, and the counts."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from rich.text import Text

from flow.sanitize import clean
from tui.view.format import clock_text, format_speed, position_text

if TYPE_CHECKING:
    from adapters.session import Frame

PROGRESS_WIDTH = 16
STATE_STYLE = {"connected": "bold green", "reconnecting": "bold yellow", "lost": "bold red"}


def progress_bar(fraction: float | None, width: int = PROGRESS_WIDTH) -> Text:
    if fraction is None:
        return Text("─" * width, style="dim")
    filled = fraction * width
    full = int(filled)
    bar = Text("━" * full, style="bold")
    if full < width:
        bar.append("╸" if filled - full >= 0.5 else "─", style="bold" if filled - full >= 0.5 else "dim")
        bar.append("─" * (width - full - 1), style="dim")
    return bar


def status_text(frame: Frame, *, recording: str | None = None) -> Text:
    """One line: source, position or connection state, speed; then the cluster and the counts."""
    snapshot, playback, info = frame.snapshot, frame.playback, frame.source
    line = Text()
    badge = {"live": " LIVE ", "replay": " REPLAY ", "demo": " DEMO ", "import": " IMPORT "}[info.kind]
    line.append(badge, style="bold reverse")
    line.append(" ")
    line.append(clean(info.label, 48), style="bold")
    line.append("  ")
    if playback is not None:
        if playback.chapter is not None:
            chapter = playback.chapter
            line.append(f"{chapter.index + 1}/{chapter.count} {clean(chapter.title, 40)}", style="bold")
            line.append("  ")
        line.append("‖ " if playback.paused else "▶ ", style="bold")
        line.append_text(progress_bar(playback.progress))
        start = playback.start or 0
        position = None if playback.position is None else playback.position - start
        total = None if playback.end is None else playback.end - start
        line.append(f" {position_text(position)}/{position_text(total)}")
        line.append(f"  {format_speed(playback.speed)}", style="bold" if not math.isinf(playback.speed) else "")
        if playback.loop:
            line.append("  ⟳ loop", style="dim")
        if playback.finished:
            line.append("  end", style="dim")
        if playback.skipped:
            lines = "line" if playback.skipped == 1 else "lines"
            line.append(f"  ⚠ {playback.skipped} bad {lines} skipped", style="bold yellow")
    status = snapshot.status
    if status is not None and info.kind == "live":
        state = status.state.upper()
        if status.state == "reconnecting":
            state += f" (attempt {status.attempt})"
        line.append("● ", style=STATE_STYLE[status.state])
        line.append(state, style=STATE_STYLE[status.state])
        if snapshot.stale:
            line.append(f"  stale since {clock_text(status.since)}", style="yellow")
    if frame.interval is not None:
        line.append(f"  every {frame.interval:g}s", style="dim")
    if recording is not None:
        line.append("  ")
        line.append(" REC ", style="bold white on red")
        line.append(f" {clean(recording, 40)}")
    if info.kind == "import" and info.detail:
        line.append(f"  {clean(info.detail.split(':')[0], 40)}: consumer groups unknown", style="bold yellow")
    if frame.error:
        line.append(f"  error: {clean(frame.error, 120)}", style="bold red")
    line.append("   ")
    if snapshot.cluster is not None:
        cluster = clean(snapshot.cluster.cluster_id or "?", 30)
        line.append(f"cluster {cluster} · {len(snapshot.cluster.brokers)} brokers  ", style="dim")
        for broker in snapshot.cluster.missing:
            where = f" ({clean(broker.host, 60)}:{broker.port})" if broker.host else ""
            line.append(f"⚠ broker {broker.id}{where} missing  ", style="bold red")
        offline = sum(len(topic.offline) for topic in snapshot.topics)
        if offline:
            line.append(f"{offline} partition{'s' if offline != 1 else ''} offline (stale)  ", style="bold red")
    commands = sum(1 for topic in snapshot.topics if topic.kind == "command")
    line.append(f"{commands} CMD", style="bold yellow" if commands else "dim")
    line.append(f" · {len(snapshot.topics)} topics · {len(snapshot.groups)} groups", style="dim")
    if snapshot.t:
        line.append(f" · {clock_text(snapshot.t)} UTC", style="dim")
    line.no_wrap = True
    line.overflow = "ellipsis"
    return line
