"""Folding a whole finite source at once, for reports and exports (no timing, no UI)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from adapters.recording import RecordingReader
from flow.model import FlowModel, ModelConfig
from flow.observations import Observation
from flow.snapshot import FlowSnapshot


def fold(observations: Iterable[Observation], config: ModelConfig | None = None) -> FlowSnapshot:
    model = FlowModel(config)
    model.apply_all(observations)
    return model.snapshot()


def fold_recording(
    path: str | Path, *, strict: bool = False, config: ModelConfig | None = None
) -> tuple[FlowSnapshot, RecordingReader]:
    """The snapshot at the end of a recording, and the reader (which counted any skipped lines)."""
    reader = RecordingReader(path, strict=strict)
    return fold(reader, config), reader
