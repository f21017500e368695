"""Process-wide runtime settings, in one place: nothing else in flowscope changes the interpreter's state.

Each setting says what it buys; bench/README.md has the figures with and without it.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def interactive() -> Iterator[None]:
    """While the app runs: the session thread folds next to the UI loop, which must stay responsive."""
    interval, thresholds = sys.getswitchinterval(), gc.get_threshold()
    # The UI loop gets the GIL back sooner from a session thread that folds flat out (a fast replay).
    sys.setswitchinterval(0.001)
    # Full collections a tenth as often: each walks the model's many long-lived objects and stalls both threads.
    gc.set_threshold(700, 10, 100)
    try:
        yield
    finally:
        sys.setswitchinterval(interval)
        gc.set_threshold(*thresholds)


def freeze_long_lived() -> None:
    """Keep what exists now (modules, classes, widgets) out of every later collection: it lives as long as
    the app, and re-scanning it made the collections that still happen stall the UI loop much longer."""
    gc.collect()
    gc.freeze()


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic collector off for a while, then as it was (even when the body raises).

    For a whole-file fold: folding makes no reference cycles (tests fold every kind of observation and
    of bad line and find no cyclic garbage), so a collection during one frees nothing, yet walks
    everything the model keeps.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
