"""The live source is strictly read-only: every API key it sends is on a read-only list, and topics, groups and
committed offsets are the same, as Kafka's own tools print them, before and after a live session."""

from __future__ import annotations

import asyncio
import inspect

import pytest

from adapters.kafka import group_requests, requests
from adapters.kafka.codec import READ_ONLY_API_KEYS, KafkaRequest
from adapters.kafka.source import LiveSource
from tests.live_helpers import (
    ConsoleConsumer,
    cluster_state,
    consume_and_commit,
    create_topics,
    describe_all_groups,
    produce,
    recorded_api_keys,
    refreshes,
    settings_for,
    unique,
    wait_until_empty,
)
from tests.waiting import wait_until

# Requests that change a cluster or a group; none may ever leave flowscope.
WRITES = {
    0: "Produce",
    8: "OffsetCommit",
    10: "FindCoordinator",  # not a write, but flowscope never needs it: listing names the coordinator
    11: "JoinGroup",
    12: "Heartbeat",
    13: "LeaveGroup",
    14: "SyncGroup",
    19: "CreateTopics",
    20: "DeleteTopics",
    22: "InitProducerId",
    42: "DeleteGroups",
    47: "OffsetDelete",
    68: "ConsumerGroupHeartbeat",
}


def test_only_read_only_requests_exist_in_the_request_modules():
    classes = [
        cls
        for module in (requests, group_requests)
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, KafkaRequest) and "API_KEY" in vars(cls)  # a request that can be sent, not a base
    ]
    assert classes
    assert {cls.API_KEY for cls in classes} <= set(READ_ONLY_API_KEYS)
    assert not set(READ_ONLY_API_KEYS) & set(WRITES)


@pytest.mark.kafka
async def test_a_live_session_sends_only_read_only_requests_and_changes_nothing(kafka):
    orders, payments = unique("audit-orders"), unique("audit-payments")
    await create_topics(kafka.bootstrap, {orders: 3, payments: 1})
    await produce(kafka.bootstrap, orders, 60, source="shop", type_="OrderPlaced")
    await produce(kafka.bootstrap, payments, 10, transactional_id=unique("audit-tx"))
    await consume_and_commit(kafka.bootstrap, unique("audit-billing"), [orders], 30)
    # A KIP-848 group too, so ConsumerGroupDescribe is part of the audit; stopped before "before".
    kip848 = unique("audit-kip848")
    console = ConsoleConsumer(kafka.bootstrap, payments, kip848, protocol="consumer")

    def committed() -> bool:
        return any(key[0] == kip848 and row[0] is not None for key, row in describe_all_groups(kafka.bootstrap).items())

    try:
        await asyncio.to_thread(wait_until, committed, "the console consumer to commit", timeout=90, interval=1)
    finally:
        console.stop()
    await asyncio.to_thread(wait_until_empty, kafka.bootstrap, kip848)

    before = await asyncio.to_thread(cluster_state, kafka.bootstrap)
    with recorded_api_keys() as sent:
        source = LiveSource(settings_for(kafka.bootstrap), interval=0.5, payloads="full")
        sink = await refreshes(source, 5)
    after = await asyncio.to_thread(cluster_state, kafka.bootstrap)

    keys = {key for _, key in sent}
    assert keys <= set(READ_ONLY_API_KEYS), {key: WRITES.get(key, "?") for key in keys - set(READ_ONLY_API_KEYS)}
    # The session exercised every part of a refresh, sampler included.
    assert {1, 2, 3, 9, 15, 16, 18, 61, 66, 69} <= keys, sorted(keys)
    assert sink.of_kind("record")
    assert after == before
