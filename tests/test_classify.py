"""Classification: kinds with reasons in plain words, and the findings that span topics."""

from __future__ import annotations

import pytest

from flow.classify import classify_topic, find_findings


def test_an_audience_of_one_is_a_command_and_says_why():
    result = classify_topic("warehouse", internal=False, groups=["warehouse"], record_types=["DispatchProduct"])
    assert result.kind == "command"
    assert result.reasons[0] == "exactly one consumer group reads it: `warehouse`, an audience of one"
    assert "its records are typed `DispatchProduct`, an imperative (`dispatch`)" in result.reasons
    assert result.confidence == "medium"


def test_confidence_rises_with_each_imperative_clue():
    plain = classify_topic("stock", internal=False, groups=["g"], record_types=[])
    named = classify_topic("send-email", internal=False, groups=["g"], record_types=[])
    both = classify_topic("send-email", internal=False, groups=["g"], record_types=["SendEmail"])
    assert (plain.confidence, named.confidence, both.confidence) == ("low", "medium", "high")


def test_a_fact_with_a_single_reader_is_still_flagged_but_noted():
    result = classify_topic("orders", internal=False, groups=["billing"], record_types=["OrderPlaced"])
    assert result.kind == "command"
    assert result.confidence == "low"
    assert result.note is not None and "reads like a fact" in result.note


def test_several_audiences_make_an_event():
    result = classify_topic("orders", internal=False, groups=["a", "b", "c"], record_types=["Order"])
    assert result.kind == "event"
    assert result.reasons == ("3 consumer groups read it (`a`, `b`, `c`): each decides for itself",)
    assert result.note is None


def test_a_command_name_read_by_many_is_named_like_a_command_read_like_a_fact():
    result = classify_topic("send-email", internal=False, groups=["a", "b"], record_types=[])
    assert result.kind == "event"
    assert result.note == "named like a command, read like a fact"
    assert any("named like a command, read like a fact" in reason for reason in result.reasons)


@pytest.mark.parametrize(("topic", "types"), [("user-signed-up", ["UserSignedUp"]), ("payments", ["PaymentReceived"])])
def test_one_audience_of_a_fact_by_name_or_type_is_flagged_low_and_says_it_reads_like_a_fact(topic, types):
    result = classify_topic(topic, internal=False, groups=["welcome-mailer"], record_types=types)
    assert (result.kind, result.confidence) == ("command", "low")
    assert result.note == "reads like a fact: perhaps an event with one audience so far"


def test_a_topic_typed_as_a_command_but_read_by_two_groups_reads_like_a_fact():
    result = classify_topic("refunds", internal=False, groups=["payments", "ledger"], record_types=["ProcessRefund"])
    assert (result.kind, result.note) == ("event", "named like a command, read like a fact")
    assert any("`ProcessRefund`, an imperative (`process`)" in reason for reason in result.reasons)


def test_unread_and_internal_topics_are_not_flagged():
    assert classify_topic("orders", internal=False, groups=[], record_types=["SendEmail"]).kind == "unread"
    internal = classify_topic("__consumer_offsets", internal=True, groups=["x"], record_types=[])
    assert internal.kind == "internal"
    assert "not flagged" in internal.reasons[0]
    changelog = classify_topic("app-store-changelog", internal=False, groups=["app"], record_types=[])
    assert changelog.kind == "internal"


def test_a_command_consumer_that_issues_commands_is_a_chain():
    kinds = {"warehouse": "command", "send-email": "command", "send-text": "command"}
    findings = find_findings(
        kinds,
        writes={"web-shop": ["warehouse"], "warehouse": ["send-email", "send-text"]},
        reads={"warehouse": ["warehouse"], "email-service": ["send-email"], "sms-service": ["send-text"]},
        topic_writers={"warehouse": ["web-shop"], "send-email": ["warehouse"], "send-text": ["warehouse"]},
    )
    assert len(findings) == 1
    chain = findings[0]
    assert chain.kind == "command_chain"
    assert chain.services == ("warehouse",)
    assert chain.topics == ("warehouse", "send-email", "send-text")
    assert "(from `web-shop`)" in chain.summary
    assert "what happened" in chain.advice and "who cares" in chain.advice


def test_one_writer_of_several_commands_is_a_fanout():
    kinds = {"warehouse": "command", "send-email": "command", "send-text": "command"}
    findings = find_findings(
        kinds,
        writes={"web-shop": ["warehouse", "send-email", "send-text"]},
        reads={"warehouse": ["warehouse"], "email-service": ["send-email"], "sms-service": ["send-text"]},
        topic_writers={},
    )
    assert [(f.kind, f.services, f.topics) for f in findings] == [
        ("command_fanout", ("web-shop",), ("send-email", "send-text", "warehouse"))
    ]


def test_events_make_no_findings():
    kinds = {"orders": "event", "shipments": "event"}
    findings = find_findings(
        kinds,
        writes={"web-shop": ["orders"], "warehouse": ["shipments"]},
        reads={"warehouse": ["orders"], "sales": ["orders", "shipments"]},
        topic_writers={"orders": ["web-shop"], "shipments": ["warehouse"]},
    )
    assert findings == ()


def test_a_topic_whose_records_carry_several_types_says_so():
    result = classify_topic(
        "billing", internal=False, groups=["ledger", "audit"], record_types=["InvoiceIssued", "PaymentReceived"]
    )
    assert "its records carry 2 types (`InvoiceIssued`, `PaymentReceived`)" in result.reasons[1]
    single = classify_topic("refunds", internal=False, groups=["ledger"], record_types=["RefundIssued"])
    assert not any("types (" in reason for reason in single.reasons)
