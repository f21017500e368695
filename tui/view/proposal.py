"""What the proposal view says: today's command flow beside (or above) the event flow flowscope proposes.

Pure Rich: the edges that go are struck through in red, the edges that come are green; names are
sanitised Text, never markup.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from flow.sanitize import clean

if TYPE_CHECKING:
    from flow.proposal import Proposal
    from flow.snapshot import Edge

WIDE = 100
"""Columns from which today's flow and the proposed one stand side by side."""
GONE = "red strike"
NEW = "bold green"


def proposal_view(proposal: Proposal | None, index: int, count: int, width: int) -> RenderableType:
    """Proposal ``index`` of ``count`` for a terminal ``width`` columns wide; a plain sentence without any."""
    if proposal is None:
        return Text(
            "No proposal: this flow has no command chain or fan-out to turn into events. "
            "Every single-audience topic is listed with its reasons in the topics view (2).",
        )
    title = Text(f"Proposal {index + 1} of {count}: ", style="bold")
    title.append(clean(proposal.writer, 100), style="bold")
    title.append(" records one fact on ")
    title.append(clean(proposal.fact_topic, 120), style=NEW)
    parts: list[RenderableType] = [title, Text(""), Text(clean(proposal.explanation, 800)), Text("")]
    today = _edges("Today: these go", proposal.removed_edges, proposal.writer, GONE, "✗")
    proposed = _edges("Proposed: these come", proposal.added_edges, proposal.writer, NEW, "✚")
    if width >= WIDE:
        side_by_side = Table.grid(padding=(0, 4))
        side_by_side.add_column()
        side_by_side.add_column()
        side_by_side.add_row(today, proposed)
        parts.append(side_by_side)
    else:
        parts += [today, Text(""), proposed]
    name = Text("\nThe fact's name: ", style="bold")
    name.append(clean(proposal.name_reason, 400))
    parts.append(name)
    if proposal.removed_topics:
        removed = Text("Topics that go: ", style="bold")
        removed.append(", ".join(clean(topic, 120) for topic in proposal.removed_topics), style=GONE)
        parts.append(removed)
    keys = (
        "←/→ another proposal · :propose NAME names the fact · esc back"
        if count > 1
        else (":propose NAME names the fact · esc back")
    )
    parts.append(Text(f"\n{keys}", style="dim"))
    return Group(*parts)


def _edges(heading: str, edges: tuple[Edge, ...], writer: str, style: str, mark: str) -> RenderableType:
    """One line per edge in the order the flow goes: what the writer writes, what others write, who reads."""
    lines: list[RenderableType] = [Text(heading, style="bold underline")]
    for edge in sorted(edges, key=lambda e: (e.kind != "produce", e.source != writer, e.source, e.target)):
        line = Text(f"{mark} ", style=style)
        line.append(clean(edge.source, 60), style=style)
        line.append(" writes to " if edge.kind == "produce" else " is read by ", style="dim")
        line.append(clean(edge.target, 60), style=style)
        lines.append(line)
    return Group(*lines)
