"""Folding a whole finite source at once, for reports and exports (no timing, no UI)."""

from __future__ import annotations

import itertools
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

CHANGES_EVERY_MS = 10_000
"""Stream time between the snapshots a headless fold takes to find the changes (flow.changes): a viewer
sees a snapshot every refresh, but a report of a big cluster's hour cannot afford one per refresh."""


def fold(
    observations: Iterable[Observation], config: ModelConfig | None = None, *, changes: bool = False
) -> FlowSnapshot:
    """The snapshot at the end of a finite source, folded with the cyclic garbage collector paused; with
    ``changes``, a snapshot every :data:`CHANGES_EVERY_MS` on the way, so the last one lists them."""
    with collector_paused():
        model = FlowModel(config)
        if changes:
            _fold_with_changes(model, observations)
        else:
            model.apply_all(observations)
        snapshot = model.snapshot()
        # Dropped before the collector resumes, so what it kept is not counted towards the next collection.
        del model
    return snapshot


def _fold_with_changes(model: FlowModel, observations: Iterable[Observation]) -> None:
    """Fold, taking a snapshot (only for its changes) at the end of an instant every CHANGES_EVERY_MS."""
    last: int | None = None
    for t, instant in itertools.groupby(observations, key=lambda obs: obs.t):
        model.apply_all(instant)
        if last is None or t - last >= CHANGES_EVERY_MS:
            model.snapshot()
            last = t


def fold_file(
    path: str | Path, *, strict: bool = False, config: ModelConfig | None = None, changes: bool = False
) -> tuple[FlowSnapshot, RecordingReader | KcatReader]:
    """The snapshot at the end of a recording or a kcat dump, and the reader (which counted any skipped lines)."""
    reader = open_file(path, strict=strict).read()
    return fold(reader, config, changes=changes), reader
