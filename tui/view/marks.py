"""The marks: how each topic kind, lag status and finding looks and what it means, in one table.

The graph, the tables, the details panel and the help screen all read these entries, so a kind is
spelled, coloured and explained the same everywhere. ``style`` is a Rich style for text views; ``css``
names the style class the graph draws with (``flow-graph--{css}``, see tui/graph.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from flow.vocabulary import LagStatus

if TYPE_CHECKING:
    from flow.snapshot import TopicKind


@dataclass(frozen=True, slots=True)
class Mark:
    """One kind or status: its badge, its label in a table, how it is styled, and what it means."""

    badge: str
    """The text in a graph box's border; ``{audiences}`` stands for the number of consuming groups."""
    label: str
    """The text in a table cell, same placeholder."""
    style: str
    css: str
    meaning: str
    glyph: str = ""
    """The mark in one cell, in front of the name of a one-line box."""

    def badge_for(self, audiences: int) -> str:
        return self.badge.format(audiences=audiences)

    def label_for(self, audiences: int) -> str:
        return self.label.format(audiences=audiences)


KIND_MARKS: dict[TopicKind, Mark] = {
    "command": Mark(
        "CMD·1",
        " CMD·1 ",
        "bold black on yellow",
        "command",
        "a command topic: exactly one consumer group reads it (an audience of one)",
        "¹",
    ),
    "event": Mark("×{audiences}", "event ×{audiences}", "cyan", "event", "an event topic and its number of audiences"),
    "unread": Mark("unread", "unread", "dim", "unread", "no consumer group reads it", "∅"),
    "internal": Mark(
        "internal",
        "internal",
        "dim italic",
        "internal",
        "Kafka's or a framework's own topic (offsets, Connect, Streams): one audience by design, never flagged",
        "·",
    ),
}
KIND_ORDER: dict[TopicKind, int] = {kind: index for index, kind in enumerate(KIND_MARKS)}
"""How a table sorts by kind: commands first."""

STATUS_MARKS: dict[LagStatus, Mark] = {
    LagStatus.OK: Mark("OK", "OK", "green", "ok", "keeping up: lag reached zero within the window, or is shrinking"),
    LagStatus.WARN: Mark(
        "WARN", "WARN", "bold yellow", "warn", "falling behind: committed offsets move, but lag keeps growing"
    ),
    LagStatus.REWIND: Mark(
        "REWIND", "REWIND", "magenta", "rewind", "rewound: a committed offset went backwards (a reset or a replay)"
    ),
    LagStatus.STALL: Mark(
        "STALL",
        "STALL",
        "bold red",
        "stall",
        "stuck: members are assigned, but committed offsets do not move while lag stays",
    ),
    LagStatus.STOP: Mark(
        "STOP", "STOP", "bold red", "stop", "stopped: no members, committed offsets do not move, and there is lag"
    ),
    LagStatus.UNKNOWN: Mark("UNKNOWN", "UNKNOWN", "dim", "unknown", "not enough samples yet"),
}

CHAIN_MARK = Mark(
    "CHAIN", "CHAIN", "bold black on red", "chain", "a service that receives commands and issues more commands", "»"
)
UNKNOWN_WRITER_MEANING = (
    "unknown writer: offsets grow, but no idempotent or transactional producer and no sampled record "
    "header says who writes"
)
COMMAND_ADVICE = (
    "An audience of one is a flag, not an error: the writer decides who acts. If other services could "
    "care about what happened, record the fact instead (an event) and let each decide for itself."
)

LEGEND: tuple[tuple[str, str, str], ...] = (
    *((mark.badge_for(3), mark.style, mark.meaning) for mark in KIND_MARKS.values()),
    (CHAIN_MARK.badge, CHAIN_MARK.style, CHAIN_MARK.meaning),
    ("━━▶", "bold", "a busy edge; ── a quieter one; ╌╌ an idle one"),
    *((f"lag 98 {mark.badge}", mark.style, mark.meaning) for mark in STATUS_MARKS.values()),
)
"""What the help screen lists under "Marks": every mark the views draw, with its meaning."""
