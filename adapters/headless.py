"""Folding a whole finite source at once, for reports and exports (no timing, no UI)."""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from adapters.recording import RecordingReader
from flow.config import ModelConfig
from flow.model import FlowModel
from flow.observations import Observation
from flow.snapshot import FlowSnapshot


def freeze_startup_objects() -> None:
    """Exempt everything loaded so far (modules, classes, validators) from garbage collection.

    Folding allocates many short-lived objects, and every full collection would re-scan the tens of
    thousands of objects that imports created and that live as long as the process: about a sixth
    of a large replay's time. The CLI calls this once imports are done.
    """
    gc.collect()
    gc.freeze()


@contextmanager
def rare_collections() -> Iterator[None]:
    """Run the cyclic garbage collector rarely while a whole source is folded; restored afterwards.

    The model makes no reference cycles (collections during a fold free nothing), yet every collection
    walks what the model keeps: a fifth of a large fold's time, measured with ``gc.callbacks``. These
    are the thresholds mypy sets for its batch runs. Not for the TUI: rarer collections are longer ones.
    """
    before = gc.get_threshold()
    gc.set_threshold(200_000, 30, 30)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def fold(observations: Iterable[Observation], config: ModelConfig | None = None) -> FlowSnapshot:
    model = FlowModel(config)
    with rare_collections():
        model.apply_all(observations)
        return model.snapshot()


def fold_recording(
    path: str | Path, *, strict: bool = False, config: ModelConfig | None = None
) -> tuple[FlowSnapshot, RecordingReader]:
    """The snapshot at the end of a recording, and the reader (which counted any skipped lines)."""
    reader = RecordingReader(path, strict=strict)
    return fold(reader, config), reader
