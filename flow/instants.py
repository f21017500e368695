"""Instants as flowscope keeps them, integer UTC milliseconds: the range a file may hold, and dates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

LAST_INSTANT_MS = 253_402_300_799_999
"""9999-12-31T23:59:59.999Z, the last instant a date can be written for."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def utc_datetime(t: int | None) -> datetime | None:
    """The instant ``t`` as a datetime; None when there is none, or when it lies outside the years a date
    can be written for (a record's timestamp is whatever its producer set)."""
    if t is None or not 0 <= t <= LAST_INSTANT_MS:
        return None
    return _EPOCH + timedelta(milliseconds=t)
