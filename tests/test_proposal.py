"""Decoupling proposals: the seed's second design derived from its first, and from any chain or fan-out."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from adapters.headless import fold, fold_file
from adapters.scenarios.specs import large, scenario
from adapters.scenarios.synthetic import SyntheticOptions, synthetic
from flow.model import FlowModel
from flow.naming import read_name
from flow.proposal import apply_proposals, placeholder_name, propose
from flow.snapshot import FlowSnapshot
from tests.helpers import T0, commits, ends, group, record, topics

SAMPLES = Path(__file__).resolve().parent.parent / "sample_data"


@pytest.fixture(scope="module")
def shop_commands() -> FlowSnapshot:
    return fold_file(SAMPLES / "shop-commands.jsonl")[0]


@pytest.fixture(scope="module")
def shop_events() -> FlowSnapshot:
    return fold_file(SAMPLES / "shop-events.jsonl")[0]


def flow(writes: dict[str, dict[str, str]], reads: dict[str, tuple[str, ...]]) -> FlowSnapshot:
    """A folded flow: ``writes`` maps a service to the topics it writes, each with its records' type;
    ``reads`` maps a consumer group (named like its service) to the topics it reads."""
    names = sorted({t for written in writes.values() for t in written} | {t for read in reads.values() for t in read})
    model = FlowModel()
    for step in range(2):
        t = T0 + 2000 * step
        model.apply(topics(t, *names))
        model.apply(ends(t, dict.fromkeys(names, (10 * step,))))
        for service, written in writes.items():
            for topic, record_type in written.items():
                model.apply(record(t, topic, source=f"/{service}", type_=record_type, offset=step))
        for group_id, read in reads.items():
            model.apply(group(t, group_id, *read))
            model.apply(commits(t, group_id, dict.fromkeys(read, (10 * step,))))
    return model.snapshot()


def audiences(snapshot: FlowSnapshot, topic_names) -> set[str]:
    """The services behind the consumer groups of some topics."""
    return {snapshot.group(g).service for name in topic_names for g in snapshot.topic(name).groups}


def shape(snapshot: FlowSnapshot) -> list[tuple[int, int, str]]:
    """The flow without names: per non-internal topic, its writer count, audience count and kind."""
    return sorted(
        (len(topic.producers), len(topic.groups), topic.kind) for topic in snapshot.topics if topic.kind != "internal"
    )


# -- the seed's shop ---------------------------------------------------------------------------------------


def test_the_shop_gets_one_proposal_one_writer_one_fact_and_every_former_audience(shop_commands):
    commands = [topic.name for topic in shop_commands.command_topics()]
    [proposal] = propose(shop_commands)
    [first] = {writer for topic in commands for writer in shop_commands.topic(topic).producer_names} - audiences(
        shop_commands, commands
    )
    assert proposal.writer == first == "web-shop"
    assert set(proposal.removed_topics) == set(proposal.command_topics) == set(commands)
    assert set(proposal.subscribers) == audiences(shop_commands, commands)
    assert len(proposal.subscribers) == len(commands)
    assert proposal.coordinators == shop_commands.findings[0].services
    assert set(proposal.findings) == set(shop_commands.findings)


def test_after_the_shop_proposal_the_fact_topic_has_the_shape_of_orders_in_the_second_design(
    shop_commands, shop_events
):
    [proposal] = propose(shop_commands)
    after = apply_proposals(shop_commands, [proposal])
    fact = after.topic(proposal.fact_topic)
    orders = shop_events.topic("orders")
    assert (fact.producer_names, len(fact.groups), fact.kind) == (orders.producer_names, len(orders.groups), "event")
    assert {after.group(g).service for g in fact.groups} == set(proposal.subscribers)
    assert after.command_topics() == shop_events.command_topics() == ()
    assert after.findings == shop_events.findings == ()
    assert not {t.name for t in after.topics} & set(proposal.removed_topics)
    # The coordinator now only listens: it writes nothing the proposal did not keep.
    [coordinator] = proposal.coordinators
    assert next(s for s in after.services if s.name == coordinator).produces == ()
    # Everything the drawing needs agrees: edges, services and groups tell the same flow.
    produced = {(e.source, e.target) for e in after.edges if e.kind == "produce"}
    assert produced == {(s.name, t) for s in after.services for t in s.produces}
    consumed = {(e.source, after.group(e.target).service) for e in after.edges if e.kind == "consume"}
    assert consumed == {(t, s.name) for s in after.services for t in s.consumes}


def test_the_shop_explanation_says_what_changes(shop_commands):
    [proposal] = propose(shop_commands)
    text = proposal.explanation
    count = len(shop_commands.command_topics())
    assert f"{count} command topics become 1 event topic with {len(proposal.subscribers)} audiences" in text
    [coordinator] = proposal.coordinators
    led = audiences(
        shop_commands, [t for t in proposal.command_topics if coordinator in shop_commands.topic(t).producer_names]
    )
    assert f"`{coordinator}` no longer coordinates " in text
    assert all(f"`{service}`" in text.split("no longer coordinates", 1)[1].split(".", 1)[0] for service in led)
    assert f"`{proposal.writer}` records what happened once, on `{proposal.fact_topic}`" in text
    assert all(f"`{service}`" in text for service in proposal.subscribers)


def test_the_shop_fact_gets_a_placeholder_because_its_commands_are_imperatives_and_can_be_renamed(shop_commands):
    [proposal] = propose(shop_commands)
    assert all(read_name(t).imperative for t in shop_commands.topic("warehouse").record_types)
    assert (proposal.fact_topic, proposal.name_source) == (placeholder_name(proposal.writer), "placeholder")
    assert ":propose NAME" in proposal.name_reason
    [renamed] = propose(shop_commands, {proposal.key: "orders"})
    assert (renamed.fact_topic, renamed.name_source) == ("orders", "renamed")
    assert "on `orders`" in renamed.explanation
    assert {e.target for e in renamed.added_edges if e.kind == "produce"} == {"orders"}
    assert propose(shop_commands, {"someone-else": "orders"}) == (proposal,)


def test_the_second_design_needs_no_proposal(shop_events):
    assert propose(shop_events) == ()
    assert apply_proposals(shop_events, ()) is shop_events


# -- naming the fact from evidence -------------------------------------------------------------------------


def test_a_fact_typed_record_on_an_imperative_topic_names_a_new_fact_topic():
    snapshot = flow(
        {"shop": {"handle-order": "OrderPlaced", "notify-customer": "OrderPlaced"}},
        {"fulfilment": ("handle-order",), "mailer": ("notify-customer",)},
    )
    [proposal] = propose(snapshot)
    assert (proposal.fact_topic, proposal.name_source) == ("order-placed", "record type")
    assert set(proposal.removed_topics) == {"handle-order", "notify-customer"}
    assert "the next reaction needs no change to `shop`" in proposal.explanation


def test_a_command_topic_that_reads_as_a_fact_is_kept_and_gains_the_other_audiences():
    snapshot = flow(
        {"shipping": {"shipment-dispatched": "ShipmentDispatched"}, "orders": {"invoice-jobs": "InvoiceJob"}},
        {"orders": ("shipment-dispatched",), "invoicer": ("invoice-jobs",)},
    )
    [proposal] = propose(snapshot)
    assert (proposal.writer, proposal.fact_topic, proposal.name_source) == (
        "shipping",
        "shipment-dispatched",
        "command topic",
    )
    assert proposal.removed_topics == ("invoice-jobs",)
    assert "(`shipment-dispatched`, kept)" in proposal.explanation
    after = apply_proposals(snapshot, [proposal])
    assert after.topic("shipment-dispatched").groups == ("invoicer", "orders")
    assert after.topic("shipment-dispatched").kind == "event"


def test_the_one_fact_the_writer_already_records_is_where_its_commands_fold_in():
    snapshot = flow(
        {"shop": {"order-placed": "Order", "send-email": "SendEmail", "send-text": "SendText"}},
        {"sales": ("order-placed",), "audit": ("order-placed",), "email": ("send-email",), "sms": ("send-text",)},
    )
    [proposal] = propose(snapshot)
    assert (proposal.fact_topic, proposal.name_source) == ("order-placed", "writer's topic")
    assert "fold into the event topic `order-placed`, which then has 4 audiences" in proposal.explanation
    assert apply_proposals(snapshot, [proposal]).topic("order-placed").groups == ("audit", "email", "sales", "sms")


# -- any flow: every chain and fan-out is answered ---------------------------------------------------------


def _large() -> FlowSnapshot:
    spec = large(topics=300, partitions=2, groups=80, services=40)
    return fold(itertools.islice(synthetic(spec, SyntheticOptions(duration_s=20, records_per_tick=30)), 50_000))


@pytest.mark.parametrize("name", ["realistic", "large"])
def test_every_chain_and_fanout_of_a_scenario_is_answered_and_none_remains_after(name):
    snapshot = _large() if name == "large" else fold(synthetic(scenario(name)))
    kinds = {finding.kind for finding in snapshot.findings}
    assert "command_chain" in kinds and (name != "large" or "command_fanout" in kinds)
    proposals = propose(snapshot)
    answered = [finding for proposal in proposals for finding in proposal.findings]
    assert set(answered) == set(snapshot.findings)
    assert len({p.key for p in proposals}) == len(proposals)  # one proposal per starting writer
    for proposal in proposals:
        assert proposal.writer not in proposal.subscribers
        assert set(proposal.removed_topics) <= set(proposal.command_topics)
        assert all(snapshot.topic(t).kind == "command" for t in proposal.command_topics)
        assert set(proposal.subscribers) == audiences(snapshot, proposal.command_topics) - {proposal.writer}
        assert proposal.explanation.startswith(f"{len(proposal.command_topics)} command topic")
    after = apply_proposals(snapshot, proposals)
    assert after.findings == ()
    for proposal in proposals:
        assert set(after.topic(proposal.fact_topic).groups) >= set(proposal.subscriber_groups)
        assert all(after.topic(t) is None for t in proposal.removed_topics)


def test_a_chain_and_the_commands_it_continues_are_one_proposal_from_the_first_writer():
    snapshot = flow(
        {
            "gateway": {"reserve-stock": "ReserveStock", "charge-card": "ChargeCard"},
            "stock": {"ship-parcel": "ShipParcel"},
            "courier": {"notify-buyer": "NotifyBuyer"},
        },
        {
            "stock": ("reserve-stock",),
            "payments": ("charge-card",),
            "courier": ("ship-parcel",),
            "mail": ("notify-buyer",),
        },
    )
    assert sorted(f.kind for f in snapshot.findings) == ["command_chain", "command_chain", "command_fanout"]
    [proposal] = propose(snapshot)
    assert proposal.writer == "gateway"
    assert proposal.coordinators == ("stock", "courier")
    assert set(proposal.subscribers) == {"stock", "payments", "courier", "mail"}
    assert "`stock` no longer coordinates `courier`; `courier` no longer coordinates `mail`" in proposal.explanation


def test_a_chain_commanded_by_two_writers_is_in_both_proposals_and_both_apply_together():
    snapshot = flow(
        {
            "shop": {"pick-items": "PickItems"},
            "returns": {"pick-items": "PickItems"},
            "stock": {"send-mail": "SendMail"},
        },
        {"stock": ("pick-items",), "mail": ("send-mail",)},
    )
    proposals = propose(snapshot)
    assert [p.writer for p in proposals] == ["returns", "shop"]
    assert all(set(p.subscribers) == {"stock", "mail"} for p in proposals)
    after = apply_proposals(snapshot, proposals)
    assert after.findings == () and after.command_topics() == ()
    assert set(next(s for s in after.services if s.name == "mail").consumes) == {p.fact_topic for p in proposals}
