"""Lag status (Burrow's rules, adapted) and the age of the oldest unconsumed record."""

from __future__ import annotations

import pytest

from flow.lag import current_lag_status, lag_seconds, partition_status, worst
from flow.vocabulary import LagStatus


def window(*pairs):
    return list(pairs)


def test_zero_lag_anywhere_in_the_window_is_ok():
    assert partition_status(window((10, 20), (20, 20), (25, 40)), True) is LagStatus.OK


def test_the_current_lag_decides_before_the_window_when_zero_or_unknown():
    assert current_lag_status(0) is LagStatus.OK
    assert current_lag_status(None) is LagStatus.UNKNOWN
    assert current_lag_status(5) is None  # the window decides


def test_a_consumer_that_goes_backwards_rewinds():
    assert partition_status(window((50, 60), (40, 70), (45, 80)), True) is LagStatus.REWIND


def test_offsets_that_do_not_move_with_members_stall_and_without_members_stop():
    stuck = window((10, 20), (10, 25), (10, 30))
    assert partition_status(stuck, has_members=True) is LagStatus.STALL
    assert partition_status(stuck, has_members=False) is LagStatus.STOP


def test_moving_but_falling_behind_warns():
    behind = window((10, 20), (15, 30), (20, 42), (24, 50), (30, 58))
    assert partition_status(behind, True) is LagStatus.WARN


def test_sampling_noise_while_keeping_up_is_ok():
    noisy = window((10, 15), (20, 23), (30, 36), (40, 44), (50, 57))  # lag 5, 3, 6, 4, 7: no trend
    assert partition_status(noisy, True) is LagStatus.OK


def test_catching_up_is_ok():
    assert partition_status(window((10, 100), (40, 110), (80, 115)), True) is LagStatus.OK


def test_too_little_data_is_unknown():
    assert partition_status(window((10, 20)), True) is LagStatus.UNKNOWN
    assert partition_status(window((None, 20), (5, None)), True) is LagStatus.UNKNOWN


def test_the_worst_status_wins_and_unknown_only_alone():
    assert worst([LagStatus.OK, LagStatus.STOP, LagStatus.WARN]) is LagStatus.STOP
    assert worst([LagStatus.UNKNOWN, LagStatus.OK]) is LagStatus.OK
    assert worst([LagStatus.UNKNOWN]) is LagStatus.UNKNOWN


def test_lag_seconds_interpolates_when_the_record_was_written():
    history = [(0, 100), (10_000, 200), (20_000, 300)]
    # Offset 150 is the 51st record written between t=0 and t=10 s.
    assert lag_seconds(150, history, now=20_000, partition_rate=10.0) == pytest.approx(20 - 5.1)


def test_lag_seconds_is_zero_when_caught_up():
    assert lag_seconds(300, [(0, 100), (10_000, 300)], now=10_000, partition_rate=20.0) == 0.0


def test_lag_older_than_the_history_is_estimated_from_the_rate():
    history = [(50_000, 1000), (60_000, 1100)]  # 10 records/s
    assert lag_seconds(500, history, now=60_000, partition_rate=10.0) == pytest.approx(60.0)
    assert lag_seconds(500, history, now=60_000, partition_rate=None) == pytest.approx(10.0)
