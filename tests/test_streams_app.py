"""The real Kafka Streams app the Streams tests look at (scripts/local-streams-app), checked with Kafka's own
tools: in both rebalance protocols it counts, and it makes its group and its two internal topics."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from tests.conftest import Broker
from tests.live_helpers import create_topics, kafka_tool, streams_app, unique
from tests.waiting import Deadline

pytestmark = pytest.mark.kafka

PARTITIONS = 2
ORDERS = [("o1", "alice"), ("o2", "bob"), ("o3", "alice"), ("o4", "carol"), ("o5", "alice")]


async def produce_orders(bootstrap: str, topic: str) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for order, customer in ORDERS:
            await producer.send_and_wait(topic, customer.encode(), key=order.encode())
    finally:
        await producer.stop()


async def latest_counts(bootstrap: str, topic: str, expected: dict[str, str], timeout: float = 60) -> dict[str, str]:
    """The newest value per key in ``topic``, read from the start until it equals ``expected``."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    latest: dict[str, str] = {}
    try:
        partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        deadline = Deadline(lambda: f"counts {expected} in {topic} (it holds {latest})", timeout)
        while latest != expected:
            deadline.check()
            for records in (await consumer.getmany(timeout_ms=500)).values():
                latest.update((r.key.decode(), r.value.decode()) for r in records)
    finally:
        await consumer.stop()
    return latest


@pytest.mark.parametrize("protocol", ["classic", "streams"])
async def test_streams_app_counts_in_its_own_group_through_internal_topics(
    kafka: Broker, tmp_path: Path, protocol: str
) -> None:
    bootstrap = kafka.bootstrap
    orders, totals = unique("orders"), unique("order-totals")
    await create_topics(bootstrap, {orders: PARTITIONS, totals: PARTITIONS})
    with streams_app(bootstrap, tmp_path, unique(f"totals-{protocol}"), orders, totals, protocol) as app:
        assert app.protocol == protocol
        await produce_orders(bootstrap, orders)
        assert await latest_counts(bootstrap, totals, {"alice": "3", "bob": "1", "carol": "1"})

        topics = set(kafka_tool("topics", "--bootstrap-server", bootstrap, "--list").split())
        assert {app.repartition_topic, app.changelog_topic} <= topics

        group = app.application_id
        listed = kafka_tool("groups", "--bootstrap-server", bootstrap, "--list")
        kind = "Classic" if protocol == "classic" else "Streams"
        assert re.search(rf"^{re.escape(group)}\s+{kind}\b", listed, re.MULTILINE), listed
        if protocol == "classic":
            described = kafka_tool("consumer-groups", "--bootstrap-server", bootstrap, "--describe", "--group", group)
            # One member reads the input topic and the repartition topic (the changelog is only written).
            rows = [line.split() for line in described.splitlines() if line.startswith(group + " ")]
            assert {row[1] for row in rows} == {orders, app.repartition_topic}, described
            assert len({row[6] for row in rows}) == 1, described
        else:
            state = kafka_tool(
                "streams-groups", "--bootstrap-server", bootstrap, "--describe", "--group", group, "--state"
            )
            assert re.search(rf"^{re.escape(group)}\s.*\bStable\s+1\s*$", state, re.MULTILINE), state
            members = kafka_tool(
                "streams-groups", "--bootstrap-server", bootstrap, "--describe", "--group", group, "--members"
            )
            # One member with both subtopologies' tasks (0: input -> repartition, 1: repartition -> count).
            assert re.search(r"ACTIVE: 0:\[0,1\]; 1:\[0,1\];", members), members
