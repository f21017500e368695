"""Synthetic scenarios: deterministic streams that tell the seed's two stories."""

from __future__ import annotations

import itertools

from adapters.headless import fold
from adapters.scenarios.specs import large, scenario
from adapters.scenarios.synthetic import SyntheticOptions, synthetic
from flow.model import FlowModel
from flow.observations import NoteObs, RecordObs
from flow.vocabulary import LagStatus


def test_the_same_seed_gives_the_same_stream_and_another_seed_another():
    first = list(synthetic(scenario("shop-commands")))
    assert first == list(synthetic(scenario("shop-commands")))
    assert first != list(synthetic(scenario("shop-commands"), SyntheticOptions(seed=8)))


def test_streams_are_in_time_order():
    times = [obs.t for obs in synthetic(scenario("shop-events"))]
    assert times == sorted(times)


def test_shop_commands_is_the_seeds_first_design():
    snapshot = fold(synthetic(scenario("shop-commands")))
    kinds = {t.name: (t.kind, t.groups, t.producer_names) for t in snapshot.topics if t.kind != "internal"}
    assert kinds == {
        "warehouse": ("command", ("warehouse",), ("web-shop",)),
        "send-email": ("command", ("email-service",), ("warehouse",)),
        "send-text": ("command", ("sms-service",), ("warehouse",)),
    }
    [chain] = snapshot.findings
    assert (chain.kind, chain.services) == ("command_chain", ("warehouse",))


def test_shop_events_is_the_seeds_second_design():
    snapshot = fold(synthetic(scenario("shop-events")))
    orders = snapshot.topic("orders")
    assert orders.kind == "event"
    assert orders.groups == ("notifications", "sales", "warehouse")
    assert snapshot.command_topics() == ()
    assert snapshot.findings == ()
    assert {g.id: g.protocol for g in snapshot.groups}["sales"] == "consumer"


def test_records_carry_cloudevents_headers_and_keys():
    records = [obs for obs in synthetic(scenario("shop-commands")) if isinstance(obs, RecordObs)]
    assert records
    headers = dict(records[0].headers)
    assert {"ce_type", "ce_source", "ce_id", "ce_specversion"} <= headers.keys()
    assert all(isinstance(r.key, str) and r.key.startswith("o-") for r in records)


def test_one_consumer_in_each_shop_falls_behind_for_a_while_then_recovers():
    for name, slow in (("shop-commands", "sms-service"), ("shop-events", "notifications")):
        model = FlowModel()
        statuses = []
        for obs in synthetic(scenario(name)):
            model.apply(obs)
            if obs.kind == "end_offsets":
                statuses.append({g.id: (g.status, g.lag) for g in model.snapshot().groups})
        behind = [s[slow] for s in statuses if s[slow][0] is LagStatus.WARN]
        assert len(behind) >= 10, name
        assert max(lag for _, lag in behind) > 50
        assert statuses[-1][slow][0] is LagStatus.OK
        others = {g for g in statuses[-1] if g != slow}
        assert all(s[g][0] is not LagStatus.WARN for s in statuses for g in others), name


def test_notes_tell_the_story_in_order():
    notes = [obs.text for obs in synthetic(scenario("shop-commands")) if isinstance(obs, NoteObs)]
    assert len(notes) >= 5
    assert "DispatchProduct" in notes[0]
    assert any("command chain" in note for note in notes)


def test_rates_vary_over_time():
    model = FlowModel()
    rates = []
    for obs in synthetic(scenario("shop-events")):
        model.apply(obs)
        if obs.kind == "end_offsets" and obs.t % 20_000 == 0:
            rates.append(model.snapshot().topic("orders").rate)
    known = [r for r in rates if r]
    assert max(known) > 1.3 * min(known)


def test_large_is_parameterised_and_has_every_kind_of_topic():
    spec = large(topics=300, partitions=2, groups=80, services=40)
    assert (len(spec.topics), len(spec.groups)) == (300, 80)
    assert {t.partitions for t in spec.topics} == {2}
    stream = synthetic(spec, SyntheticOptions(duration_s=20, records_per_tick=30))
    snapshot = fold(itertools.islice(stream, 50_000))
    kinds = {t.kind for t in snapshot.topics}
    assert {"command", "event", "unread", "internal"} <= kinds
    assert any(f.kind == "command_chain" for f in snapshot.findings)


def test_large_defaults_match_the_benchmark_size():
    spec = large()
    services = {e.service for e in spec.emitters} | {g.service for g in spec.groups}
    assert (len(spec.topics), len(spec.groups), len(services)) == (2000, 500, 300)
