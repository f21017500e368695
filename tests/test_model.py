"""The FlowModel: what folding observations makes of rates, lag, services and the snapshot."""

from __future__ import annotations

import weakref
from itertools import pairwise

import pytest

from adapters.headless import collector_paused
from flow.config import ModelConfig
from flow.model import FlowModel
from flow.observations import NoteObs, ProducersObs, RecordObs, StatusObs
from flow.vocabulary import UNKNOWN_WRITER, LagStatus
from tests.helpers import T0, commits, ends, group, record, topics


def fold(*observations, config=None):
    model = FlowModel(config)
    model.apply_all(observations)
    return model.snapshot()


def test_topic_rate_is_offset_growth_per_second_over_the_window():
    snapshot = fold(
        topics(T0, "orders", partitions=2),
        ends(T0, {"orders": (100, 100)}),
        ends(T0 + 2000, {"orders": (110, 120)}),
        ends(T0 + 4000, {"orders": (120, 140)}),
    )
    orders = snapshot.topic("orders")
    assert orders is not None
    assert orders.rate == pytest.approx(15.0)  # 60 records in 4 s
    assert orders.messages == 260
    assert orders.end_offsets == (120, 140)


def test_rates_only_look_back_over_the_window():
    config = ModelConfig(rate_window_ms=10_000)
    slow = [ends(T0 + i * 2000, {"t": (i,)}) for i in range(10)]  # 0.5/s
    fast = [ends(T0 + 20_000 + i * 2000, {"t": (10 + i * 10,)}) for i in range(10)]  # 5/s
    assert fold(*slow, *fast, config=config).topic("t").rate == pytest.approx(5.0)


def test_history_older_than_the_lag_window_is_thinned_and_rates_stay_exact():
    config = ModelConfig(rate_window_ms=60_000, lag_window=10)
    model = FlowModel(config)
    for i in range(300):  # ten minutes sampled every 2 s: 3 records/s written, 2/s committed
        t = T0 + i * 2000
        model.apply(ends(t, {"t": (i * 6,)}))
        model.apply(commits(t, "g", {"t": (i * 4,)}))
    footprint = model.footprint()
    # 10 recent samples, then one per quarter window back to the horizon, plus a quarter window of
    # samples not trimmed yet; without thinning a minute of 2 s samples is 31.
    assert footprint["commit_samples"] <= 10 + 5 + 8
    assert footprint["end_samples"] <= 11 + 5
    snapshot = model.snapshot()
    assert snapshot.topic("t").rate == pytest.approx(3.0)
    assert snapshot.group("g").rate == pytest.approx(2.0)
    assert snapshot.group("g").status is LagStatus.WARN  # the lag window still sees every recent sample


def test_lag_per_partition_and_per_group_matches_end_minus_committed():
    snapshot = fold(
        topics(T0, "orders", partitions=3),
        group(T0, "sales", "orders"),
        ends(T0, {"orders": (100, 50, 7)}),
        commits(T0, "sales", {"orders": (90, 50, None)}),
    )
    sales = snapshot.group("sales")
    assert sales is not None
    lags = {(row.topic, row.partition): (row.committed, row.lag) for row in sales.partitions}
    assert lags[("orders", 0)] == (90, 10)
    assert lags[("orders", 1)] == (50, 0)
    assert ("orders", 2) not in lags  # neither committed nor assigned to anyone
    assert sales.lag == 10
    assert sales.topics == ("orders",)
    assert snapshot.topic("orders").groups == ("sales",)


def test_lag_seconds_come_from_when_the_end_offset_passed_the_committed_one():
    observations = [ends(T0 + i * 1000, {"orders": (i * 10,)}) for i in range(11)]  # 10 records/s
    snapshot = fold(*observations, commits(T0 + 10_000, "g", {"orders": (40,)}))
    row = snapshot.group("g").partitions[0]
    assert row.lag == 60
    assert row.lag_seconds == pytest.approx(5.9)  # record 40 was written between 4 s and 5 s


def test_a_consumer_falling_behind_warns_then_recovers():
    model = FlowModel()
    model.apply(group(T0, "g", "t"))
    for i in range(12):
        model.apply(ends(T0 + i * 2000, {"t": (100 + i * 20,)}))
        model.apply(commits(T0 + i * 2000, "g", {"t": (100 + i * 12,)}))
    assert model.snapshot().group("g").status is LagStatus.WARN
    end = 100 + 11 * 20
    for i in range(12, 15):
        model.apply(ends(T0 + i * 2000, {"t": (end,)}))
        model.apply(commits(T0 + i * 2000, "g", {"t": (end,)}))
    assert model.snapshot().group("g").status is LagStatus.OK


def test_a_group_that_left_stops_and_a_stuck_one_stalls():
    def run(members):
        model = FlowModel()
        model.apply(group(T0, "g", "t", members=members, state="Stable" if members else "Empty"))
        for i in range(6):
            model.apply(ends(T0 + i * 2000, {"t": (100 + i * 5,)}))
            model.apply(commits(T0 + i * 2000, "g", {"t": (90,)}))
        return model.snapshot().group("g").status

    assert run(members=1) is LagStatus.STALL
    assert run(members=0) is LagStatus.STOP


def test_a_topic_missing_from_the_topic_list_is_deleted():
    snapshot = fold(topics(T0, "a", "b"), ends(T0, {"a": (1,), "b": (2,)}), topics(T0 + 1000, "a"))
    assert [topic.name for topic in snapshot.topics] == ["a"]


def test_a_dead_group_disappears():
    snapshot = fold(group(T0, "g", "t"), commits(T0, "g", {"t": (1,)}), group(T0 + 1000, "g", state="Dead"))
    assert snapshot.groups == ()


def test_groups_and_writers_not_seen_within_retention_are_forgotten():
    config = ModelConfig(retention_ms=60_000)
    model = FlowModel(config)
    model.apply(commits(T0, "old", {"t": (1,)}))
    model.apply(record(T0, "t", source="/old-writer"))
    for i in range(1, 20):
        model.apply(topics(T0 + i * 10_000, "t", "u"))
        model.apply(commits(T0 + i * 10_000, "new", {"t": (1,)}))
    model.apply(record(T0 + 190_000, "u", source="/fresh-writer"))
    snapshot = model.snapshot()
    assert [g.id for g in snapshot.groups] == ["new"]
    assert snapshot.topic("t").producer_names == ()
    assert snapshot.topic("u").producer_names == ("fresh-writer",)


def test_producers_are_named_from_headers_and_get_exact_rates_from_sequences():
    def states(t, sequence):
        return ProducersObs(
            t=t,
            topic="orders",
            partitions={0: ((7, 0, sequence, t),)},
        )

    snapshot = fold(
        ends(T0, {"orders": (100,)}),
        states(T0, 99),
        record(T0 + 500, "orders", source="/web-shop", pid=7),
        ends(T0 + 10_000, {"orders": (200,)}),
        states(T0 + 10_000, 199),
    )
    [producer] = snapshot.topic("orders").producers
    assert producer.name == "web-shop"
    assert producer.rate == pytest.approx(10.0)
    assert producer.producer_ids == (7,)
    assert not producer.estimated


def test_producer_rates_of_a_model_watched_all_along_equal_those_of_a_fresh_fold():
    # A live view takes a snapshot every refresh, and the model keeps what the last one's rates
    # started from; as the window moves, that base must move with it.
    config = ModelConfig(rate_window_ms=20_000)
    stream = []
    sequence = 0
    for i in range(60):  # two minutes sampled every 2 s, writing faster and faster
        t = T0 + i * 2000
        sequence += 2 * (i + 1)
        stream.append(ends(t, {"orders": (sequence,)}))
        stream.append(ProducersObs(t=t, topic="orders", partitions={0: ((7, 0, sequence - 1, t),)}))
    watched = FlowModel(config)
    rates = []
    for i in range(0, len(stream), 2):
        watched.apply_all(stream[i : i + 2])
        [producer] = watched.snapshot().topic("orders").producers
        [fresh] = fold(*stream[: i + 2], config=config).topic("orders").producers
        rates.append(producer.rate)
        assert producer.rate == fresh.rate
    assert all(a < b for a, b in pairwise(rates[1:]))  # the base moved with the window


def test_an_unnamed_producer_id_shows_as_such_and_a_silent_source_as_unknown():
    snapshot = fold(
        ends(T0, {"a": (0,), "b": (0,)}),
        ProducersObs(t=T0, topic="a", partitions={0: ((42, 0, 0, -1),)}),
        ends(T0 + 1000, {"a": (5,), "b": (5,)}),
    )
    assert snapshot.topic("a").producer_names == ("producer-id 42",)
    assert snapshot.topic("b").producer_names == (UNKNOWN_WRITER,)
    assert all(service.name != UNKNOWN_WRITER for service in snapshot.services)
    assert [s.unknown for s in snapshot.services if s.name == "producer-id 42"] == [True]


def test_a_streams_app_is_one_service_owning_its_internal_topics_and_writing_through_its_producer():
    # A Streams app at least once: idempotent producers with no transactional id, one per thread, that
    # write its repartition, changelog and output topics; its group reads the input and the repartition.
    app, repartition, changelog = "totals", "totals-by-card-repartition", "totals-store-changelog"
    names = ("payments", repartition, changelog, "card-totals")
    observations = [topics(T0, *names), group(T0, app, "payments", repartition)]
    for i, t in enumerate((T0, T0 + 10_000)):
        observations.append(
            ends(t, {"payments": (10 * i,), repartition: (10 * i,), changelog: (5 * i,), "card-totals": (5 * i,)})
        )
        observations += [
            ProducersObs(t=t, topic=name, partitions={0: ((pid, 0, 10 * i, t),)})
            for name, pid in ((repartition, 7), (changelog, 8), ("card-totals", 8), ("payments", 3))
        ]
    snapshot = fold(*observations)
    assert snapshot.topic(repartition).owner == snapshot.topic(changelog).owner == app
    assert snapshot.topic(repartition).kind == snapshot.topic(changelog).kind == "internal"
    assert f"of `{app}`" in snapshot.topic(changelog).classification.reasons[0]
    assert snapshot.topic("card-totals").producer_names == (app,)  # its output, through the changelog's producer
    assert snapshot.topic("payments").producer_names == ("producer-id 3",)  # upstream of the app, not its
    assert snapshot.topic("card-totals").owner is None
    [service] = [s for s in snapshot.services if s.name == app]
    assert service.groups == (app,)
    assert set(service.consumes) == {"payments", repartition}
    assert set(service.produces) == {repartition, changelog, "card-totals"}


def test_a_service_that_consumes_and_produces_is_one_node_in_the_middle():
    snapshot = fold(
        group(T0, "warehouse", "orders"),
        commits(T0, "warehouse", {"orders": (0,)}),
        record(T0, "orders", source="/web-shop"),
        record(T0, "shipments", source="https://shop.example/warehouse"),
    )
    warehouse = [s for s in snapshot.services if s.name == "warehouse"]
    assert len(warehouse) == 1
    assert warehouse[0].role == "both"
    assert warehouse[0].consumes == ("orders",)
    assert warehouse[0].produces == ("shipments",)
    assert {(e.source, e.target, e.kind) for e in snapshot.edges} == {
        ("web-shop", "orders", "produce"),
        ("warehouse", "shipments", "produce"),
        ("orders", "warehouse", "consume"),
    }


def test_aliases_merge_identities():
    config = ModelConfig(aliases={"wh-consumer": "warehouse", "legacy-wh": "warehouse"})
    snapshot = fold(
        commits(T0, "wh-consumer", {"orders": (0,)}),
        record(T0, "shipments", source="legacy-wh"),
        config=config,
    )
    assert [s.name for s in snapshot.services] == ["warehouse"]


def test_sampled_records_are_capped_per_topic_and_long_values_cut():
    config = ModelConfig(records_per_topic=3, value_chars=10)
    many = [record(T0 + i, "t", offset=i) for i in range(10)]
    big = RecordObs(t=T0 + 20, topic="t", partition=0, offset=99, value="x" * 1_000_000, size=1_000_000)
    records = fold(*many, big, config=config).topic("t").records
    assert [r.offset for r in records] == [8, 9, 99]
    assert records[-1].value == "x" * 10
    assert records[-1].size == 1_000_000


def test_sampled_records_older_than_retention_go_but_each_topic_keeps_its_newest():
    config = ModelConfig(retention_ms=60_000)
    model = FlowModel(config)
    model.apply(record(T0, "quiet", offset=1, source="/old-writer"))
    for i in range(3):
        model.apply(record(T0 + i, "busy", offset=i))
    for i in range(1, 20):
        model.apply(topics(T0 + i * 10_000, "quiet", "busy"))
    model.apply(record(T0 + 190_000, "busy", offset=50, source="/fresh-writer"))
    model.apply(topics(T0 + 200_000, "quiet", "busy"))  # the next sweep
    snapshot = model.snapshot()
    assert [r.offset for r in snapshot.topic("busy").records] == [50]
    assert [r.offset for r in snapshot.topic("quiet").records] == [1]  # old, but the only one it has


def test_record_types_come_from_headers_and_drive_classification():
    snapshot = fold(commits(T0, "warehouse", {"warehouse": (0,)}), record(T0, "warehouse", type_="DispatchProduct"))
    warehouse = snapshot.topic("warehouse")
    assert warehouse.record_types == ("DispatchProduct",)
    assert warehouse.kind == "command"
    assert warehouse.classification.confidence == "medium"


def test_a_note_is_the_caption_while_current():
    model = FlowModel()
    model.apply(NoteObs(t=T0, text="first"))
    assert model.snapshot().note == "first"
    model.apply(NoteObs(t=T0 + 1000, text="brief", duration_ms=500))
    assert model.snapshot().note == "brief"
    model.apply(ends(T0 + 2000, {"t": (1,)}))
    assert model.snapshot().note is None


def test_status_keeps_the_time_the_state_began():
    snapshot = fold(
        StatusObs(t=T0, state="reconnecting", attempt=1),
        StatusObs(t=T0 + 2000, state="reconnecting", attempt=2),
    )
    assert snapshot.status.since == T0
    assert snapshot.status.attempt == 2
    assert snapshot.stale


def test_reset_forgets_everything():
    model = FlowModel()
    model.apply_all([topics(T0, "a"), commits(T0, "g", {"a": (1,)})])
    model.reset()
    snapshot = model.snapshot()
    assert (snapshot.topics, snapshot.groups, snapshot.observations) == ((), (), 0)


def test_a_dropped_model_is_freed_at_once_without_the_garbage_collector():
    # A model in a reference cycle (say, holding its own bound methods) would live on, with all it
    # keeps, until the collector next runs; whole-file folds pause the collector.
    model = FlowModel()
    model.apply_all([topics(T0, "a"), ends(T0, {"a": (1,)}), commits(T0, "g", {"a": (1,)})])
    model.snapshot()
    still_there = weakref.ref(model)
    with collector_paused():
        del model
        assert still_there() is None


def test_snapshots_are_immutable():
    snapshot = fold(topics(T0, "a"))
    with pytest.raises(AttributeError):
        snapshot.topics = ()  # type: ignore[misc]
    with pytest.raises(AttributeError):
        snapshot.topics[0].name = "b"  # type: ignore[misc]
