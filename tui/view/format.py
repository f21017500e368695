"""Numbers, rates, durations and times as the views print them: short, aligned, unit-bearing."""

from __future__ import annotations

import math

from flow.instants import utc_datetime


def format_speed(speed: float) -> str:
    """A replay speed as the status bar shows it: 0.25x, 4x, max."""
    if math.isinf(speed):
        return "max"
    return f"{speed:g}x"


def compact_number(value: int | float | None) -> str:
    """1234 -> 1.2k, 5_600_000 -> 5.6M; None -> -."""
    if value is None:
        return "-"
    magnitude = abs(value)
    for limit, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if magnitude >= limit:
            return f"{value / limit:.1f}{suffix}"
    return f"{value:.0f}" if isinstance(value, float) else str(value)


def rate_text(rate: float | None) -> str:
    """Messages per second: 3.7/s, 1.2k/s; '-' when unknown."""
    if rate is None:
        return "-/s"
    if rate < 10:
        return f"{rate:.1f}/s"
    return f"{compact_number(rate)}/s"


def seconds_text(seconds: float | None) -> str:
    """A duration as 45s, 3m05s, 2h04m; '-' when unknown."""
    if seconds is None:
        return "-"
    total = int(seconds)
    if total < 60:
        return f"{seconds:.0f}s" if seconds >= 1 else f"{seconds:.1f}s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def clock_text(t: int | None) -> str:
    """UTC wall time of a timestamp in milliseconds, HH:MM:SS."""
    moment = utc_datetime(t)
    return "--:--:--" if moment is None else moment.strftime("%H:%M:%S")


def position_text(offset_ms: int | None) -> str:
    """A position in a recording, MM:SS (or H:MM:SS)."""
    if offset_ms is None:
        return "--:--"
    total = max(offset_ms, 0) // 1000
    minutes, secs = divmod(total, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def parse_position(text: str) -> int:
    """'90', '01:30' or '1:02:03' -> milliseconds; ValueError with a sentence otherwise."""
    parts = text.strip().split(":")
    try:
        numbers = [float(part) for part in parts]
    except ValueError:
        raise ValueError(f"{text!r} is not a position (use SS, MM:SS or H:MM:SS)") from None
    if not 1 <= len(numbers) <= 3 or any(n < 0 for n in numbers):
        raise ValueError(f"{text!r} is not a position (use SS, MM:SS or H:MM:SS)")
    seconds = 0.0
    for number in numbers:
        seconds = seconds * 60 + number
    return int(seconds * 1000)
