"""Live interventions in the demo: an added audience, a stalled consumer, a burst — as observations."""

from __future__ import annotations

from adapters.scenarios.demo import demo_source
from adapters.scenarios.interventions import BURST_FACTOR, Interventions
from flow.model import FlowModel
from flow.observations import CommitsObs, EndOffsetsObs, NoteObs
from flow.vocabulary import LagStatus
from tests.helpers import T0, group
from tests.tui_support import settle, shows
from tui.app import create_app


def traffic(ticks: int, per_tick: int = 10):
    """A topic `jobs` written at ``per_tick`` records a tick, read by `worker`, which keeps up."""
    yield group(T0, "worker", "jobs")
    for i in range(ticks):
        t = T0 + i * 1000
        yield EndOffsetsObs(t=t, offsets={"jobs": (i * per_tick, i * per_tick)})
        yield CommitsObs(t=t, group="worker", offsets={"jobs": (i * per_tick, i * per_tick)})


def test_an_added_audience_is_a_group_that_reads_the_topic_and_keeps_up():
    interventions = Interventions()
    interventions.add_audience("jobs")
    observations = list(interventions.applied(traffic(5)))
    assert any(isinstance(o, NoteObs) and "`jobs-listener` subscribes to `jobs`" in o.text for o in observations)
    model = FlowModel()
    model.apply_all(observations)
    snapshot = model.snapshot()
    assert snapshot.topic("jobs").groups == ("jobs-listener", "worker")  # type: ignore[union-attr]
    assert snapshot.topic("jobs").kind == "event"  # type: ignore[union-attr]
    assert snapshot.group("jobs-listener").lag == 0  # type: ignore[union-attr]


def test_a_burst_moves_ends_and_commits_alike():
    interventions = Interventions()
    stream = interventions.applied(traffic(12))
    seen = [next(stream) for _ in range(6)]  # the group and two ticks
    interventions.burst()
    rest = list(stream)
    ends = [o.offsets["jobs"][0] for o in seen + rest if isinstance(o, EndOffsetsObs)]
    commits = [o.offsets["jobs"][0] for o in seen + rest if isinstance(o, CommitsObs)]
    assert ends == commits  # the reader keeps up with the burst
    assert ends[3] - ends[2] == 10 * BURST_FACTOR  # five times the traffic


def test_a_stalled_group_keeps_committing_the_same_offsets_and_is_marked_stall():
    # A live view of a stuck consumer sees its last commit again at every refresh, not no commit at all.
    stalled = Interventions()
    stream = stalled.applied(traffic(60))
    before = [next(stream) for _ in range(21)]  # the group and ten ticks
    stalled.stall("worker")
    after = list(stream)
    commits = {o.offsets["jobs"] for o in after if isinstance(o, CommitsObs)}
    assert commits == {(90, 90)}  # the offsets of its last commit before the stall
    model = FlowModel()
    model.apply_all(before + after)
    view = model.snapshot().group("worker")
    assert view is not None and view.lag > 0 and view.status == LagStatus.STALL


async def test_a_on_a_selected_command_topic_in_the_demo_turns_cmd1_into_x2():
    app = create_app(demo_source("shop-commands", speed=4))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, lambda app: app.frame is not None and app.frame.snapshot.topic("send-email") is not None)
        assert app.frame.snapshot.topic("send-email").kind == "command"  # type: ignore[union-attr]
        app.select("topic", "send-email")
        await pilot.press("a")
        await settle(app, shows("send-email-listener", "another audience"))
        await settle(app, lambda app: app.frame.snapshot.topic("send-email").kind == "event")  # type: ignore[union-attr]
        await settle(app, shows("×2"))
        reasons = app.frame.snapshot.topic("send-email").classification.reasons  # type: ignore[union-attr]
        assert "2 consumer groups read it" in reasons[0]
