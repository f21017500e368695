"""The session folds on its own thread and hands over frames; paced sessions wait for each to be drawn."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from adapters.files.replay import replay_file
from adapters.session import Frame, Session
from tests.waiting import wait_until

QUIET_SECONDS = 1.5
"""How long a session must send nothing to show that it waits: time must pass to see that nothing comes."""


def run_session(
    path, paced: bool, acknowledge: bool, until: Callable[[list[Frame]], bool] | None = None
) -> list[Frame]:
    """Replay ``path`` in a session and collect its frames, acknowledging each as it comes (as the UI does once
    it has drawn it) or not: until ``until(frames)`` holds or, without it, for ``QUIET_SECONDS``."""
    frames: list[Frame] = []
    arrived = threading.Event()

    def on_frame(frame: Frame) -> None:
        frames.append(frame)
        arrived.set()

    def take() -> bool:
        """Wait a moment for a frame (acknowledging it); true once there are the frames wanted."""
        if arrived.wait(0.05):
            arrived.clear()
            if acknowledge:
                session.acknowledge()
        return until is not None and until(frames)

    session = Session(replay_file(path, speed=64.0), on_frame, publish_interval=0.05, paced=paced)
    session.start()
    try:
        if until is None:
            deadline = time.monotonic() + QUIET_SECONDS
            while time.monotonic() < deadline:
                take()
        else:
            wait_until(take, lambda: f"the frames wanted; got {len(frames)}", interval=0)
    finally:
        session.stop()
    return frames


def test_frames_carry_the_snapshot_the_source_and_its_playback(shop_commands):
    frames = run_session(
        shop_commands,
        paced=False,
        acknowledge=False,
        until=lambda frames: len(frames) > 5 and any(topic.kind == "command" for topic in frames[-1].snapshot.topics),
    )
    assert len(frames) > 5
    last = frames[-1]
    assert last.source.kind == "replay"
    assert last.playback is not None and last.playback.position is not None
    assert any(topic.kind == "command" for topic in last.snapshot.topics)
    positions = [frame.playback.position for frame in frames if frame.playback.position is not None]
    assert positions == sorted(positions)


def test_a_paced_session_sends_nothing_new_until_the_last_frame_was_acknowledged(shop_commands):
    waiting = run_session(shop_commands, paced=True, acknowledge=False)
    flowing = run_session(shop_commands, paced=True, acknowledge=True, until=lambda frames: len(frames) > 5)
    assert len(waiting) == 1
    assert len(flowing) > 5


def test_an_error_in_the_source_becomes_a_sentence_not_a_crash(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"format":"flowscope-recording","version":1}\n{"t":1,"kind":"note","text":"x"}\nnot json\n')
    errors: list[BaseException] = []
    session = Session(replay_file(path, strict=True, speed=float("inf")), lambda frame: None, on_error=errors.append)
    session.start()
    wait_until(lambda: errors, "the source's error", timeout=5)
    session.stop()
    assert errors
    assert session.error is not None and "bad.jsonl:3:" in session.error
