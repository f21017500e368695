"""Replay: recorded timing scaled by speed, and the controls (pause, step, seek, loop), on a fake clock."""

from __future__ import annotations

import asyncio
import math

import pytest

from adapters.files.replay import Replay, replay_file
from adapters.source import SPEEDS, SourceInfo, parse_speed
from flow.observations import NoteObs

T0 = 1_000_000


class FakeTime:
    """A clock that only moves when the replay waits, so timing is exact and tests never sleep."""

    def __init__(self) -> None:
        self.now = 0.0
        self.waits: list[float] = []

    def clock(self) -> float:
        return self.now

    async def waiter(self, event: asyncio.Event, timeout: float) -> bool:
        self.waits.append(timeout)
        self.now += timeout
        await asyncio.sleep(0)
        return event.is_set()


class Sink:
    def __init__(self) -> None:
        self.applied: list[tuple[float, int]] = []
        self.resets = 0
        self.time: FakeTime | None = None

    def apply(self, obs) -> None:
        self.applied.append((self.time.now if self.time else 0.0, obs.t))

    def reset(self) -> None:
        self.resets += 1
        self.applied.clear()

    def publish(self, force: bool = False) -> None:
        pass

    def rebase(self) -> None:
        pass


def notes(*times_ms: int):
    return [NoteObs(t=T0 + t, text=str(t)) for t in times_ms]


def make(observations, **options):
    fake = FakeTime()
    sink = Sink()
    sink.time = fake
    replay = Replay(
        lambda: iter(observations),
        SourceInfo("replay", "test"),
        clock=fake.clock,
        waiter=fake.waiter,
        **options,
    )
    return replay, sink, fake


async def wait_until(condition, limit=10_000):
    for _ in range(limit):
        await asyncio.sleep(0)
        if condition():
            return
    raise AssertionError("condition never became true")


async def run_until(replay, sink, condition):
    task = asyncio.create_task(replay.run(sink))
    await wait_until(condition)
    return task


async def stop(task):
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_recorded_gaps_are_waited_out_scaled_by_speed():
    replay, sink, _fake = make(notes(0, 1000, 3000, 7000), speed=2.0)
    task = await run_until(replay, sink, lambda: replay.playback().finished)
    assert [t - T0 for _, t in sink.applied] == [0, 1000, 3000, 7000]
    assert [wall for wall, _ in sink.applied] == pytest.approx([0.0, 0.5, 1.5, 3.5])
    await stop(task)


async def test_observations_of_one_instant_arrive_together():
    observations = [*notes(0), *notes(1000), NoteObs(t=T0 + 1000, text="same instant"), *notes(2000)]
    replay, sink, fake = make(observations)
    task = await run_until(replay, sink, lambda: replay.playback().finished)
    assert fake.waits == pytest.approx([1.0, 1.0])
    await stop(task)


async def test_as_fast_as_possible_never_waits():
    replay, sink, fake = make(notes(0, 60_000, 3_600_000), speed=math.inf)
    task = await run_until(replay, sink, lambda: replay.playback().finished)
    assert len(sink.applied) == 3
    assert fake.waits == []
    await stop(task)


async def test_pause_holds_and_step_plays_one_instant_at_a_time():
    replay, sink, _ = make(notes(0, 1000, 2000, 3000), paused=True)
    task = asyncio.create_task(replay.run(sink))
    for _ in range(50):
        await asyncio.sleep(0)
    assert sink.applied == []
    replay.step()
    for _ in range(50):
        await asyncio.sleep(0)
    assert [t - T0 for _, t in sink.applied] == [0]
    replay.step(2)
    for _ in range(50):
        await asyncio.sleep(0)
    assert [t - T0 for _, t in sink.applied] == [0, 1000, 2000]
    assert replay.playback().paused
    replay.step(-1)
    for _ in range(50):
        await asyncio.sleep(0)
    assert replay.playback().position == T0 + 1000
    assert [t - T0 for _, t in sink.applied] == [0, 1000]
    await stop(task)


async def test_seek_backwards_refolds_from_the_start_and_forwards_fast_forwards():
    replay, sink, fake = make(notes(*range(0, 100_000, 1000)), paused=True)
    task = asyncio.create_task(replay.run(sink))
    replay.seek(T0 + 50_000)
    await wait_until(lambda: replay.playback().position == T0 + 50_000)
    assert len(sink.applied) == 51
    assert fake.waits == []  # fast-forwarding does not wait
    resets = sink.resets
    replay.seek(T0 + 20_500)
    await wait_until(lambda: replay.playback().position == T0 + 20_000)
    assert sink.resets == resets + 1
    assert len(sink.applied) == 21
    await stop(task)


async def test_loop_starts_over_with_a_reset():
    replay, sink, _ = make(notes(0, 1000), loop=True)
    task = await run_until(replay, sink, lambda: replay.playback().loops >= 3)
    assert sink.resets >= 3
    assert not replay.playback().finished
    await stop(task)


async def test_a_finished_replay_waits_paused_at_its_end_and_play_starts_over():
    replay, sink, _ = make(notes(0, 1000))
    task = await run_until(replay, sink, lambda: replay.playback().finished)
    state = replay.playback()
    assert state.paused and state.position == T0 + 1000 and state.progress == 1.0
    replay.toggle_pause()
    await wait_until(lambda: sink.resets >= 2)
    await wait_until(lambda: replay.playback().finished)
    await stop(task)


async def test_speed_changes_take_effect_from_the_current_position():
    replay, sink, fake = make(notes(0, 4000, 8000))
    task = await run_until(replay, sink, lambda: len(sink.applied) == 2)
    replay.set_speed(4.0)
    await wait_until(lambda: replay.playback().finished)
    assert fake.waits[0] == pytest.approx(4.0)
    assert fake.waits[-1] == pytest.approx(1.0)
    await stop(task)


def test_the_speed_ladder_and_its_words():
    assert SPEEDS[0] == 0.25 and SPEEDS[-2] == 64 and math.isinf(SPEEDS[-1])
    assert parse_speed("4") == 4.0
    assert parse_speed("0.25x") == 0.25
    assert math.isinf(parse_speed("max"))
    with pytest.raises(ValueError, match=r"0\.25 to 64"):
        parse_speed("100")
    with pytest.raises(ValueError, match="not a number"):
        parse_speed("fast-ish")
    from tui.view.format import format_speed

    assert format_speed(math.inf) == "max"
    assert format_speed(0.5) == "0.5x"


def test_faster_and_slower_walk_the_ladder():
    replay, _, _ = make([], speed=1.0)
    replay.faster()
    assert replay.playback().speed == 2.0
    replay.slower()
    replay.slower()
    assert replay.playback().speed == 0.5
    for _ in range(20):
        replay.faster()
    assert math.isinf(replay.playback().speed)


def test_a_file_replay_knows_its_span_before_playing(tmp_path):
    from adapters.scenarios.specs import scenario
    from adapters.scenarios.synthetic import SyntheticOptions, write_recording

    path = tmp_path / "shop.jsonl"
    write_recording(scenario("shop-events"), path, SyntheticOptions(duration_s=20))
    state = replay_file(path).playback()
    assert state.start is not None and state.end is not None
    assert state.end - state.start == 20_000


async def test_seeking_before_the_start_shows_the_first_instant_even_while_paused():
    replay, sink, _ = make(notes(0, 1000, 2000), paused=True)
    task = asyncio.create_task(replay.run(sink))
    replay.seek(T0 + 1000)
    await wait_until(lambda: replay.playback().position == T0 + 1000)
    replay.seek_start()
    await wait_until(lambda: replay.playback().position == T0)
    assert [t - T0 for _, t in sink.applied] == [0]
    await stop(task)


async def test_a_control_while_paused_is_published_at_once():
    replay, sink, _ = make(notes(0, 1000), paused=True)
    published: list[float] = []
    sink.publish = lambda force=False: published.append(replay.playback().speed)  # type: ignore[method-assign]
    task = asyncio.create_task(replay.run(sink))
    for _ in range(20):  # let it reach the paused wait
        await asyncio.sleep(0)
    assert published == []
    replay.set_speed(8.0)
    await wait_until(lambda: 8.0 in published)
    await stop(task)
