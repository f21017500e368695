"""Folding a whole finite source at once, for reports and exports (no timing, no UI)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from adapters.files.kcat import KcatReader
from adapters.files.open import open_file
from adapters.files.recording import RecordingReader
from adapters.runtime import collector_paused
from flow.config import ModelConfig
from flow.model import FlowModel
from flow.observations import Observation
from flow.snapshot import FlowSnapshot


def fold(observations: Iterable[Observation], config: ModelConfig | None = None) -> FlowSnapshot:
    """The snapshot at the end of a finite source, folded with the cyclic garbage collector paused."""
    with collector_paused():
        model = FlowModel(config)
        model.apply_all(observations)
        snapshot = model.snapshot()
        # Dropped before the collector resumes, so what it kept is not counted towards the next collection.
        del model
    return snapshot


def fold_file(
    path: str | Path, *, strict: bool = False, config: ModelConfig | None = None
) -> tuple[FlowSnapshot, RecordingReader | KcatReader]:
    """The snapshot at the end of a recording or a kcat dump, and the reader (which counted any skipped lines)."""
    reader = open_file(path, strict=strict).read()
    return fold(reader, config), reader
