"""flowscope on a real three-broker cluster (scripts/local-kafka up --brokers 3): lag per partition equals
kafka-consumer-groups for groups whose coordinators are on different brokers, a live session stays
read-only and batched per broker, concurrent requests to one broker share one connection, and a broker
lost mid-session is named, its partitions marked, and the marks cleared within 10 s of its return."""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from adapters.files.recording import RecordingReader, RecordingWriter
from adapters.kafka.codec import READ_ONLY_API_KEYS
from adapters.kafka.requests import MetadataRequest
from adapters.kafka.source import LiveSource
from adapters.kafka.wire import Wire
from flow.model import FlowModel
from flow.observations import ClusterObs, StatusObs
from tests.conftest import ROOT, local_kafka, start_local_kafka
from tests.live_helpers import (
    Collector,
    cluster_state,
    consume_and_commit,
    create_topics,
    describe_all_groups,
    produce,
    recorded_api_keys,
    refreshes,
    run_until,
    settings_for,
    stop,
    unique,
    wait_for_topics,
)
from tests.waiting import wait_until_async

pytestmark = pytest.mark.kafka

STATE = Path(os.environ.get("FLOWSCOPE_TEST_CLUSTER_STATE", ROOT / ".cache" / "local-kafka-tests-3"))
HANDSHAKE_KEYS = {17, 18, 36}  # SaslHandshake, ApiVersions, SaslAuthenticate: per connection, not per refresh


@pytest.fixture(scope="module")
def cluster() -> Iterator[dict[str, str]]:
    """The three-broker cluster's lines (bootstrap lists all three; node_1..node_3 each broker)."""
    info = start_local_kafka(STATE, "three-broker cluster for the tests", "--brokers", "3")
    try:
        yield info
    finally:
        local_kafka("down", STATE)


def java_hash(text: str) -> int:
    """Java's String.hashCode, which picks a group's coordinator partition of __consumer_offsets."""
    value = 0
    for char in text.encode("utf-16-be").decode("utf-16-be"):
        value = (31 * value + ord(char)) & 0xFFFFFFFF
    return value - (1 << 32) if value >= 1 << 31 else value


async def groups_on_every_broker(bootstrap: str, prefix: str) -> list[str]:
    """One group id per broker, each coordinated by that broker (the leader of its offsets partition)."""
    wire = Wire(settings_for(bootstrap))
    try:
        metadata = await wire.metadata()
        leaders = {
            partition.index: partition.leader
            for topic in (await wire.send(metadata.brokers[0].node_id, MetadataRequest(["__consumer_offsets"]))).topics
            for partition in topic.partitions
        }
    finally:
        await wire.close()
    chosen: dict[int, str] = {}
    while len(chosen) < 3:
        group = unique(prefix)
        code = java_hash(group)
        leader = leaders[(0 if code == -(2**31) else abs(code)) % len(leaders)]
        chosen.setdefault(leader, group)
    return list(chosen.values())


async def test_lag_per_partition_matches_kafka_consumer_groups_across_coordinators(cluster):
    bootstrap = cluster["bootstrap"]
    topic, other = unique("c3-orders"), unique("c3-payments")
    await create_topics(bootstrap, {topic: 6, other: 3}, replicas=3)
    await produce(bootstrap, topic, 180)
    await produce(bootstrap, other, 60)
    await consume_and_commit(bootstrap, unique("c3-warmup"), [other], 1)  # makes __consumer_offsets
    groups = await groups_on_every_broker(bootstrap, "c3-group")
    for count, group in zip((40, 100, 150), groups, strict=True):
        await consume_and_commit(bootstrap, group, [topic, other], count)

    sink = await refreshes(LiveSource(settings_for(bootstrap), sample=False), 1)
    expected = await asyncio.to_thread(describe_all_groups, bootstrap)
    snapshot = sink.model.snapshot()
    seen = {
        (group, row.topic, row.partition): (row.committed, row.end_offset, row.lag)
        for group in groups
        for row in snapshot.group(group).partitions  # type: ignore[union-attr]
    }
    mine = {key: value for key, value in expected.items() if key[0] in groups}
    assert len({key[0] for key in mine}) == 3 and seen == mine
    assert sum(lag for _, _, lag in mine.values() if lag) > 0  # the comparison is not between zeros


async def test_a_live_session_on_three_brokers_is_read_only_and_batched_per_broker(cluster):
    bootstrap = cluster["bootstrap"]
    topic = unique("c3-audit")
    await create_topics(bootstrap, {topic: 6}, replicas=3)
    await produce(bootstrap, topic, 60, source="shop", type_="OrderPlaced")
    await consume_and_commit(bootstrap, unique("c3-audit-billing"), [topic], 30)
    before = await asyncio.to_thread(cluster_state, bootstrap)
    source = LiveSource(settings_for(bootstrap), interval=0.5, payloads="full")
    with recorded_api_keys() as sent:
        await refreshes(source, 4)
    after = await asyncio.to_thread(cluster_state, bootstrap)

    keys = {key for _, key in sent}
    assert keys <= set(READ_ONLY_API_KEYS), sorted(keys - set(READ_ONLY_API_KEYS))
    per_broker = Counter(address for address, key in sent if key not in HANDSHAKE_KEYS)
    nodes = {cluster[f"node_{i}"] for i in (1, 2, 3)}
    assert set(per_broker) == nodes, "every broker was asked for what it leads or coordinates"
    # Four refreshes and the first one's metadata: at most ten requests per broker per refresh.
    assert max(per_broker.values()) <= 10 * source.refreshes + 2, per_broker
    assert after == before


async def test_requests_sent_at_once_to_one_broker_share_one_connection(cluster):
    wire = Wire(settings_for(cluster["bootstrap"]))
    try:
        metadata = await wire.metadata()
        nodes = [broker.node_id for broker in metadata.brokers]
        await asyncio.gather(*(wire.send(node, MetadataRequest([])) for node in nodes for _ in range(8)))
        assert wire.connections_opened == len(nodes) == 3
    finally:
        await wire.close()


# Last in the module: it stops a broker of the shared cluster (and starts it again).
async def test_a_broker_lost_mid_session_is_marked_then_recovers_and_its_recording_replays_it(cluster, tmp_path):
    bootstrap = cluster["bootstrap"]
    replicated, single = unique("c3-loss-rf3"), unique("c3-loss-rf1")
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:  # one topic on every broker, one whose partition 0 lives on broker 2 alone
        await admin.create_topics(
            [NewTopic(replicated, 3, 3), NewTopic(single, -1, -1, replica_assignments={0: [2], 1: [1]})]
        )
    finally:
        await admin.close()
    await wait_for_topics(bootstrap, {replicated, single})
    await produce(bootstrap, replicated, 30)

    sink = Collector()
    task = await run_until(LiveSource(settings_for(bootstrap), interval=0.5, sample=False), sink, lambda: True)
    try:
        await wait_until_async(lambda: sink.model.snapshot().topic(single) is not None, "the topics", timeout=30)
        await asyncio.to_thread(local_kafka, "stop", STATE, "--node", "2")

        def marked() -> bool:
            snapshot = sink.model.snapshot()
            missing = snapshot.cluster.missing if snapshot.cluster else ()
            lost, spread = snapshot.topic(single), snapshot.topic(replicated)
            return (
                [broker.id for broker in missing] == [2]
                and lost is not None
                and lost.offline == (0,)
                and spread is not None
                and len(spread.under_replicated) == 3
            )

        await wait_until_async(marked, "broker 2 missing, its partitions marked", timeout=60)
        node_2 = cluster["node_2"]
        assert any(f"broker 2 ({node_2}) not in the cluster" in obs.detail for obs in sink.statuses()), sink.statuses()
        assert sink.statuses()[-1].state == "connected", "the rest of the cluster stays live"
        incident = sink.model.snapshot()
        assert incident.topic(replicated).rate is not None  # the live part keeps its figures  # type: ignore[union-attr]

        await asyncio.to_thread(local_kafka, "start", STATE, "--node", "2")
        back = time.monotonic()

        def recovered() -> bool:
            snapshot = sink.model.snapshot()
            lost, spread = snapshot.topic(single), snapshot.topic(replicated)
            return (
                snapshot.cluster is not None
                and not snapshot.cluster.missing
                and lost is not None
                and not lost.offline
                and spread is not None
                and not spread.under_replicated
            )

        await wait_until_async(recovered, "the marks to clear once broker 2 is back", timeout=30)
        assert time.monotonic() - back <= 10
    finally:
        await stop(task)
        await asyncio.to_thread(local_kafka, "start", STATE, "--node", "2")

    # The recording of the session replays the incident: the loss, then the recovery.
    path = tmp_path / "incident.jsonl"
    with RecordingWriter(path, {"kind": "live"}) as writer:
        for obs in sink.observations:
            writer.write(obs)
    replayed = FlowModel()
    lost_at: int | None = None
    for obs in RecordingReader(path, strict=True):
        replayed.apply(obs)
        if isinstance(obs, ClusterObs) and obs.missing == (2,) and lost_at is None:
            lost_at = obs.t
    assert lost_at is not None
    assert not replayed.snapshot().cluster.missing  # type: ignore[union-attr]
    assert any("not in the cluster" in obs.detail for obs in RecordingReader(path) if isinstance(obs, StatusObs))
