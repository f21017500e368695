"""Words the snapshot and every view share (lag statuses, the unknown writer), importable on their own:
the app draws its first frame before the snapshot's classes load."""

from __future__ import annotations

from enum import StrEnum

UNKNOWN_WRITER = "unknown writer"


class LagStatus(StrEnum):
    """Burrow-style consumer health, worst last."""

    UNKNOWN = "UNKNOWN"
    OK = "OK"
    WARN = "WARN"
    REWIND = "REWIND"
    STALL = "STALL"
    STOP = "STOP"

    @property
    def severity(self) -> int:
        return _SEVERITY[self]


_SEVERITY = {
    LagStatus.UNKNOWN: 0,
    LagStatus.OK: 0,
    LagStatus.WARN: 1,
    LagStatus.REWIND: 2,
    LagStatus.STALL: 3,
    LagStatus.STOP: 4,
}
