"""How the FlowModel folds: windows, caps, and who is who (the alias map). Light to import on purpose."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from flow.changes import CHANGES_KEPT, SETTLE_MS

PRODUCER_HEADERS = ("ce_source", "ce-source", "source", "producer", "service", "app")
TYPE_HEADERS = ("ce_type", "ce-type", "type", "event_type", "eventType", "message_type", "messageType")


@dataclass(frozen=True, slots=True)
class ModelConfig:
    rate_window_ms: int = 60_000
    """Rates are offset deltas over this window: from the oldest sample kept within it (samples older
    than the lag window are thinned to one per quarter window) to the newest."""
    retention_ms: int = 600_000
    """Groups, writers and producer ids not seen for this long are forgotten."""
    lag_window: int = 10
    """Commit samples per partition that the lag status looks at (Burrow's window)."""
    records_per_topic: int = 16
    value_chars: int = 4096
    """Longer sampled values are cut to this many characters; ``size`` keeps the full size."""
    types_per_topic: int = 16
    aliases: Mapping[str, str] = field(default_factory=dict)
    producer_headers: tuple[str, ...] = PRODUCER_HEADERS
    type_headers: tuple[str, ...] = TYPE_HEADERS
    changes_kept: int = CHANGES_KEPT
    """Notable changes each snapshot carries (flow.changes): the newest, oldest first."""
    changes_settle_ms: int = SETTLE_MS
    """Stream time after the first observation during which what appears is discovery, not change."""
