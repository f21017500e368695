"""Properties of folding that must hold for any stream, checked with generated streams (hypothesis)."""

from __future__ import annotations

import random
from collections import deque

from hypothesis import given, settings
from hypothesis import strategies as st

from flow.config import ModelConfig
from flow.model import FlowModel, _thin
from flow.observations import Observation, ProducersObs
from tests.helpers import T0, commits, ends, group, record, topics

TOPICS = ["orders", "send-email", "stock", "audit-log", "warehouse", "__consumer_offsets"]
GROUPS = ["warehouse", "sales", "email-service", "audit"]
SOURCES = ["/web-shop", "/warehouse", "/billing"]
TYPES = ["Order", "SendEmail", "DispatchProduct", "StockChanged"]


@st.composite
def instant(draw, t: int) -> list[Observation]:
    """Everything a source might see at one refresh: at most one observation per kind and key."""
    out: list[Observation] = []
    if draw(st.booleans()):
        out.append(topics(t, *draw(st.sets(st.sampled_from(TOPICS), min_size=1)), partitions=2))
    touched = draw(st.sets(st.sampled_from(TOPICS)))
    if touched:
        out.append(ends(t, {name: (draw(st.integers(0, 50)) + t // 100, 7) for name in sorted(touched)}))
    for group_id in draw(st.sets(st.sampled_from(GROUPS))):
        read = draw(st.sets(st.sampled_from(TOPICS), max_size=3))
        state = draw(st.sampled_from(["Stable", "Empty", "Dead"]))
        out.append(group(t, group_id, *sorted(read), state=state))
        if state != "Dead" and draw(st.booleans()):
            out.append(commits(t, group_id, dict.fromkeys(sorted(read), (t // 200, None))))
    out.extend(
        record(t, topic, source=draw(st.sampled_from(SOURCES)), type_=draw(st.sampled_from(TYPES)))
        for topic in draw(st.sets(st.sampled_from(TOPICS), max_size=3))
    )
    if draw(st.booleans()):
        topic = draw(st.sampled_from(TOPICS))
        pid = draw(st.integers(1, 3))
        sequence = t // 300 % 2**31  # Kafka keeps a producer's last sequence in an int32
        out.append(ProducersObs(t=t, topic=topic, partitions={0: ((pid, 0, sequence, -1),)}))
    return out


@st.composite
def streams(draw) -> list[list[Observation]]:
    steps = draw(st.integers(1, 8))
    return [draw(instant(T0 + step * 2000)) for step in range(steps)]


def classification(model: FlowModel):
    snapshot = model.snapshot()
    return (
        [(t.name, t.kind, t.classification, t.groups, t.producer_names, t.record_types) for t in snapshot.topics],
        snapshot.findings,
        [(s.name, s.produces, s.consumes, s.groups) for s in snapshot.services],
    )


@settings(max_examples=150, deadline=None)
@given(streams(), st.randoms(use_true_random=False))
def test_classification_does_not_depend_on_order_within_an_instant(stream, rng):
    in_order, shuffled = FlowModel(), FlowModel()
    for step in stream:
        in_order.apply_all(step)
        mixed = list(step)
        rng.shuffle(mixed)
        shuffled.apply_all(mixed)
    assert classification(in_order) == classification(shuffled)


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_memory_stays_bounded_however_long_the_stream(seed):
    """Ever new names (topics, groups, writers, producer ids) keep arriving; the model forgets the old."""
    rng = random.Random(seed)
    config = ModelConfig(rate_window_ms=20_000, retention_ms=60_000, lag_window=5, records_per_topic=4)
    interval, per_step = 2000, 5
    model = FlowModel(config)
    # Names alive at once: those seen within retention, plus up to one sweep period not yet swept (a sweep
    # runs at the first instant after its due time, so the period is rounded up to whole intervals).
    sweep_period = -(-(config.retention_ms // 8) // interval) * interval
    alive = (config.retention_ms + sweep_period) // interval * per_step + per_step
    peaks: dict[str, int] = {}
    for step in range(1500):  # 50 minutes: many times the retention
        t = T0 + step * interval
        names = [f"t{rng.randrange(10**9)}" for _ in range(per_step)]
        model.apply(ends(t, dict.fromkeys(names, (step, step))))
        for name in names:
            model.apply(commits(t, f"g{rng.randrange(10**9)}", {name: (step, None)}))
            model.apply(
                record(
                    t,
                    name,
                    source=f"/s{rng.randrange(10**9)}",
                    type_=f"T{rng.randrange(99)}",
                    pid=rng.randrange(10**9),
                )
            )
        for key, value in model.footprint().items():
            peaks[key] = max(peaks.get(key, 0), value)
        if step == 300:
            at_ten_minutes = dict(peaks)
    assert peaks["topics"] <= alive
    assert peaks["groups"] <= alive
    assert peaks["producer_names"] <= alive
    assert peaks["records"] <= alive * config.records_per_topic
    assert peaks["commit_samples"] <= alive  # one commit per short-lived group here
    assert peaks["end_samples"] <= config.rate_window_ms // interval + config.lag_window + 2
    # Nothing keeps growing: forty more minutes add at most a few items of sweep-timing jitter.
    for key, value in peaks.items():
        assert value <= at_ten_minutes[key] * 1.05 + 2, key


def _thin_from_the_oldest(entries: deque[tuple[int, None]], recent: int, spacing: int) -> None:
    """The thinning rule stated plainly, over the whole history each time: the oldest, then each older
    sample at least ``spacing`` after the last one kept, then the newest ``recent`` whatever their spacing."""
    older = len(entries) - recent
    if older <= 2:
        return
    kept = [entries[0]]
    for entry in list(entries)[1:older]:
        if entry[0] - kept[-1][0] >= spacing:
            kept.append(entry)
    newest = list(entries)[older:]
    entries.clear()
    entries.extend(kept + newest)


@settings(max_examples=300, deadline=None)
@given(
    gaps=st.lists(st.integers(0, 9), min_size=1, max_size=80),
    thin_every=st.integers(1, 6),
    trim_every=st.integers(1, 9),
    recent=st.integers(1, 5),
)
def test_thinning_in_steps_keeps_what_thinning_the_whole_history_keeps(gaps, thin_every, trim_every, recent):
    # The fold thins a history a little at a time, starting where the previous call stopped, while the
    # oldest samples are trimmed; what it keeps must be what going over the whole history each time
    # keeps (equal times included: gaps of 0).
    spacing = 10
    in_steps: deque[tuple[int, None]] = deque()
    whole: deque[tuple[int, None]] = deque()
    thinned_to = -1
    t = 0
    for step, gap in enumerate(gaps):
        t += gap
        in_steps.append((t, None))
        whole.append((t, None))
        if step % trim_every == 0 and len(whole) > recent + 1:
            in_steps.popleft()
            whole.popleft()
        if step % thin_every == 0:
            thinned_to = _thin(in_steps, recent, spacing, thinned_to)
            _thin_from_the_oldest(whole, recent, spacing)
        assert list(in_steps) == list(whole)
