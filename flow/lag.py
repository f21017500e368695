"""Consumer lag: Burrow-style status of a partition and the age of the oldest unconsumed record."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

from flow.vocabulary import LagStatus


def current_lag_status(lag: int | None) -> LagStatus | None:
    """Status of one partition from its current lag alone, or None when the lag window must decide.

    Rule 0 in :func:`partition_status`'s list, checked first so the window is only looked up for
    partitions that lag.
    """
    if lag == 0:
        return LagStatus.OK
    if lag is None:
        return LagStatus.UNKNOWN
    return None


def partition_status(window: Sequence[tuple[int | None, int | None]], has_members: bool) -> LagStatus:
    """Status of one partition from (committed offset, log-end offset) samples, oldest first.

    The rules follow Burrow's, adapted to what OffsetFetch can see (it gives no commit timestamps):
    0. before the window, by :func:`current_lag_status`: zero lag now (newest commit against newest
       log end) is OK whatever the window holds (Burrow: "the partition is never in error"); no lag
       known now is UNKNOWN;
    1. a committed offset that goes backwards is a REWIND;
    2. any sample with zero lag means the consumer keeps up: OK;
    3. offsets that did not move while lag stayed or grew: STALL if the group has members (they are
       stuck), STOP if it has none (nobody is consuming);
    4. offsets that move while lag ends higher than it started and grew in at least twice as many
       intervals as it shrank: WARN (falling behind). Burrow asks for growth in every interval; with
       commits sampled every refresh that strict rule misses a consumer that is plainly falling behind;
    5. otherwise OK.
    """
    samples = [(c, e) for c, e in window if c is not None and e is not None]
    if not samples:
        return LagStatus.UNKNOWN
    lags = [max(e - c, 0) for c, e in samples]
    if len(samples) < 2:
        return LagStatus.OK if lags[-1] == 0 else LagStatus.UNKNOWN
    committed = [c for c, _ in samples]
    if any(later < earlier for earlier, later in pairwise(committed)):
        return LagStatus.REWIND
    if 0 in lags:
        return LagStatus.OK
    if committed[0] == committed[-1]:
        if lags[-1] >= lags[0]:
            return LagStatus.STALL if has_members else LagStatus.STOP
        return LagStatus.OK
    steps = list(pairwise(lags))
    grew = sum(1 for earlier, later in steps if later > earlier)
    shrank = sum(1 for earlier, later in steps if later < earlier)
    if lags[-1] > lags[0] and grew >= 2 * shrank:
        return LagStatus.WARN
    return LagStatus.OK


def worst(statuses: Sequence[LagStatus]) -> LagStatus:
    """The most severe status; UNKNOWN only when nothing is known."""
    known = [status for status in statuses if status is not LagStatus.UNKNOWN]
    if not known:
        return LagStatus.UNKNOWN
    return max(known, key=lambda status: status.severity)


def lag_seconds(committed: int, history: Sequence[tuple[int, int]], now: int, partition_rate: float | None) -> float:
    """Age in seconds of the record at ``committed`` (the next one the group will read).

    ``history`` holds (t, log-end offset) samples of the partition, oldest first. The record was
    written between the last sample whose end was at or below it and the first sample past it; we
    interpolate within that interval. When it is older than the history, the age is estimated from
    the partition's produce rate, or bounded below by the oldest sample.
    """
    if not history or history[-1][1] <= committed:
        return 0.0
    previous: tuple[int, int] | None = None
    for t, end in history:
        if end > committed:
            if previous is None:
                lag = history[-1][1] - committed
                if partition_rate:
                    return max(lag / partition_rate, (now - t) / 1000)
                return (now - t) / 1000
            t0, e0 = previous
            fraction = (committed + 1 - e0) / (end - e0)
            written = t0 + fraction * (t - t0)
            return max((now - written) / 1000, 0.0)
        previous = (t, end)
    return 0.0
