"""Reading names: which topics are infrastructure, which names give orders, and who a producer is."""

from __future__ import annotations

import pytest

from flow.naming import group_service, internal_reason, read_name, source_service, streams_application, tokens


def test_tokens_split_camel_case_and_separators():
    assert tokens("DispatchProduct") == ["dispatch", "product"]
    assert tokens("send-email") == ["send", "email"]
    assert tokens("shop.orders_v2") == ["shop", "orders", "v", "2"]
    assert tokens("HTTPRequestSent") == ["http", "request", "sent"]


@pytest.mark.parametrize(
    ("name", "word"),
    [
        ("send-email", "send"),
        ("SendText", "send"),
        ("DispatchProduct", "dispatch"),
        ("billing.charge-card", "charge"),
        ("warehouse-commands", "commands"),
        ("shop.cmd.refund", "cmd"),
        ("ProcessRefund", "process"),
    ],
)
def test_imperative_names_read_as_commands(name, word):
    reading = read_name(name)
    assert reading.imperative
    assert reading.word == word


@pytest.mark.parametrize(
    "name", ["orders", "Order", "warehouse", "shipments", "dispatch", "order-updates", "order-lines", "user", "process"]
)
def test_nouns_do_not_read_as_commands(name):
    assert not read_name(name).imperative


@pytest.mark.parametrize(
    "name",
    [
        "OrderPlaced",
        "order-created",
        "payment.settled",
        "EmailSent",
        "RefundIssued",
        "refund-issued",
        "user-signed-up",
        "UserSignedUp",
        "CartCheckedOut",
    ],
)
def test_past_tense_names_read_as_facts(name):
    reading = read_name(name)
    assert reading.fact
    assert not reading.imperative


@pytest.mark.parametrize(
    "name",
    [
        "__consumer_offsets",
        "__transaction_state",
        "_schemas",
        "connect-configs",
        "my-connect-cluster-offsets",
        "app-KSTREAM-AGGREGATE-STATE-STORE-0000000004-changelog",
        "app-KSTREAM-KEY-SELECT-0000000002-repartition",
        "_confluent-command",
        "mm2-offset-syncs.source.internal",
    ],
)
def test_infrastructure_topics_are_internal(name):
    assert internal_reason(name) is not None


def test_application_topics_are_not_internal_unless_the_broker_says_so():
    assert internal_reason("orders") is None
    assert internal_reason("connections") is None
    assert internal_reason("orders", flagged_internal=True) == "the broker marks it internal"


@pytest.mark.parametrize(
    ("raw", "service"),
    [
        ("/warehouse", "warehouse"),
        ("warehouse", "warehouse"),
        ("https://shop.example/services/warehouse", "warehouse"),
        ("urn:shop:warehouse", "warehouse"),
        ("//shop.example/web-shop/", "web-shop"),
    ],
)
def test_cloudevents_sources_name_the_service(raw, service):
    assert source_service(raw, {}) == service


def test_aliases_win_over_parsing():
    aliases = {"urn:legacy:wh-7": "warehouse", "wh": "warehouse", "warehouse-consumer": "warehouse"}
    assert source_service("urn:legacy:wh-7", aliases) == "warehouse"
    assert source_service("/wh", aliases) == "warehouse"
    assert group_service("warehouse-consumer", aliases) == "warehouse"
    assert group_service("app:v2", {}) == "app:v2"  # group ids are names, not URIs


@pytest.mark.parametrize(
    ("topic", "app"),
    [
        ("totals-KSTREAM-AGGREGATE-STATE-STORE-0000000003-changelog", "totals"),
        ("totals-by-card-repartition", "totals"),
        ("shop-totals-counts-changelog", "shop-totals"),  # the longest group id that prefixes it
        ("shop-counts-changelog", "shop"),
        ("totals-orders", None),  # not a Streams internal topic
        ("other-counts-changelog", None),  # no such group
        ("totals-changelog", None),  # Streams always puts a name between the id and the suffix
    ],
)
def test_a_streams_internal_topic_belongs_to_the_group_whose_id_prefixes_its_name(topic, app):
    assert streams_application(topic, {"totals", "shop", "shop-totals", "billing"}) == app
