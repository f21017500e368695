"""The live source against a real broker: lag as Kafka's tool sees it, KIP-848 groups, named producers,
classification, the group-less sampler, and batched requests."""

from __future__ import annotations

import asyncio
import subprocess
import time

import pytest

from adapters.kafka import refresh
from adapters.kafka.codec import READ_ONLY_API_KEYS
from adapters.kafka.sampler import SamplerOptions
from adapters.kafka.source import LiveSource
from flow.model import FlowModel
from flow.naming import source_service
from flow.observations import Blob, GroupObs, ProducersObs, RecordObs
from tests.live_helpers import (
    KAFKA_TOOL,
    Collector,
    ConsoleConsumer,
    consume_and_commit,
    create_topics,
    delete_topics,
    describe_all_groups,
    kafka_tool,
    produce,
    refreshes,
    run_until,
    settings_for,
    stop,
    unique,
)
from tests.waiting import wait_until_async

pytestmark = pytest.mark.kafka


async def test_lag_per_partition_matches_kafka_consumer_groups(kafka):
    topic, other = unique("lag-orders"), unique("lag-payments")
    await create_topics(kafka.bootstrap, {topic: 3, other: 2})
    await produce(kafka.bootstrap, topic, 120)
    await produce(kafka.bootstrap, other, 40)
    groups = [unique("lag-billing"), unique("lag-audit")]
    # Real consumer groups that read part of the log, commit and leave: the numbers are still from here on.
    await consume_and_commit(kafka.bootstrap, groups[0], [topic], 50)
    await consume_and_commit(kafka.bootstrap, groups[1], [topic, other], 90)

    sink = await refreshes(LiveSource(settings_for(kafka.bootstrap), sample=False), 1)
    expected = describe_all_groups(kafka.bootstrap)
    snapshot = sink.model.snapshot()

    seen: dict[tuple[str, str, int], tuple[int | None, int | None, int | None]] = {}
    for group_id in groups:
        view = snapshot.group(group_id)
        assert view is not None, group_id
        for row in view.partitions:
            seen[(group_id, row.topic, row.partition)] = (row.committed, row.end_offset, row.lag)
    mine = {key: value for key, value in expected.items() if key[0] in groups}
    assert mine, "kafka-consumer-groups printed nothing for the test's groups"
    assert seen == mine
    assert sum(lag for _, _, lag in mine.values() if lag) > 0  # the comparison is not between zeros


async def test_a_kip848_group_from_the_console_consumer_shows_members_and_topic(kafka):
    topic, group = unique("kip848-orders"), unique("kip848-shipping")
    await create_topics(kafka.bootstrap, {topic: 2})
    await produce(kafka.bootstrap, topic, 10)
    console = ConsoleConsumer(kafka.bootstrap, topic, group, protocol="consumer")
    try:
        source = LiveSource(settings_for(kafka.bootstrap), interval=0.5, sample=False)
        sink = Collector()

        def described() -> bool:
            latest = [obs for obs in sink.of_kind("group") if obs.group == group]
            return bool(latest) and bool(latest[-1].members) and bool(latest[-1].members[0].assigned)

        task = await run_until(source, sink, described, timeout=90)
        await stop(task)
    finally:
        console.stop()
    observation: GroupObs = [obs for obs in sink.of_kind("group") if obs.group == group][-1]
    assert observation.protocol == "consumer"
    assert observation.state not in ("Dead", "Unknown")
    member = observation.members[0]
    assert member.client_id  # the console consumer names itself
    assert set(member.assigned) == {topic}
    assert topic in member.subscribed
    view = sink.model.snapshot().group(group)
    assert view is not None and view.protocol == "consumer" and topic in view.topics and view.members


async def test_producers_appear_by_name_and_describe_producers_is_used(kafka):
    topic = unique("named-invoices")
    transactional_id = unique("ledger-writer")
    await create_topics(kafka.bootstrap, {topic: 2})
    await produce(kafka.bootstrap, topic, 10, transactional_id=transactional_id)

    keys: list[int] = []
    source = LiveSource(settings_for(kafka.bootstrap), interval=0.5, on_request=lambda node, key: keys.append(key))
    sink = Collector()
    task = await run_until(source, sink, lambda: source.refreshes >= 1)
    # The sampler follows the head of the log: a producer is named by the records it writes while watched.
    await produce(kafka.bootstrap, topic, 30, source="/services/billing", type_="InvoiceIssued")
    count = source.refreshes
    await run_until_refreshes(source, count + 3)
    await stop(task)

    assert 61 in keys, "DescribeProducers (API key 61) was not sent"
    assert 66 in keys, "ListTransactions (API key 66) was not sent"
    producers = [obs for obs in sink.of_kind("producers") if obs.topic == topic]
    assert producers
    latest: ProducersObs = producers[-1]
    assert transactional_id in latest.transactional_ids.values()
    named = {record.producer_id for record in sink.of_kind("record") if record.topic == topic}
    assert named - {None}, "no sampled record carried its batch's producer id"

    view = sink.model.snapshot().topic(topic)
    assert view is not None
    assert "billing" in view.producer_names
    assert source_service(transactional_id, {}) in view.producer_names
    assert "InvoiceIssued" in view.record_types


async def test_producers_are_asked_about_again_only_where_a_partition_was_written(kafka, monkeypatch):
    topic = unique("quiet-ledger")
    await create_topics(kafka.bootstrap, {topic: 2})
    await produce(kafka.bootstrap, topic, 10)
    asked: list[dict[str, list[int]]] = []

    class Recorded(refresh.DescribeProducersRequest):
        def __init__(self, partitions):
            super().__init__(partitions)
            asked.append(dict(partitions))

    monkeypatch.setattr(refresh, "DescribeProducersRequest", Recorded)
    source = LiveSource(settings_for(kafka.bootstrap), sample=False)

    async def ours() -> tuple[set[int], ProducersObs]:
        asked.clear()
        observations = await source.refresh_once()
        [obs] = [o for o in observations if isinstance(o, ProducersObs) and o.topic == topic]
        return {p for partitions in asked for p in partitions.get(topic, ())}, obs

    try:
        first_asked, first = await ours()
        quiet_asked, quiet = await ours()
        await produce(kafka.bootstrap, topic, 1)  # one record: one partition written
        written_asked, written = await ours()
    finally:
        await source.close()
    assert first_asked == {0, 1} and sum(len(states) for states in first.partitions.values()) == 2
    assert quiet_asked == set() and quiet.partitions == first.partitions  # the last answer, said again
    [partition] = written_asked
    assert written.partitions[partition] != first.partitions[partition]
    assert written.partitions[1 - partition] == first.partitions[1 - partition]


async def run_until_refreshes(source: LiveSource, count: int, timeout: float = 30) -> None:
    await wait_until_async(lambda: source.refreshes >= count, f"{count} refreshes of the live source", timeout=timeout)


async def test_one_group_makes_a_command_topic_and_three_make_an_event_topic(kafka):
    command, event = unique("SendInvoice"), unique("order-placed")
    await create_topics(kafka.bootstrap, {command: 1, event: 2})
    await produce(kafka.bootstrap, command, 20, source="billing", type_="SendInvoice")
    await produce(kafka.bootstrap, event, 20, source="shop", type_="OrderPlaced")
    await consume_and_commit(kafka.bootstrap, unique("mailer"), [command], 20)
    for service in ("warehouse", "analytics", "loyalty"):
        await consume_and_commit(kafka.bootstrap, unique(service), [event], 20)

    sink = await refreshes(LiveSource(settings_for(kafka.bootstrap), interval=0.5), 2)
    snapshot = sink.model.snapshot()
    command_view, event_view = snapshot.topic(command), snapshot.topic(event)
    assert command_view is not None and event_view is not None
    assert command_view.kind == "command", command_view.classification
    assert event_view.kind == "event", event_view.classification
    assert len(event_view.groups) == 3 and len(command_view.groups) == 1


async def test_the_sampler_reads_the_head_of_the_log_capped_and_without_values_when_asked(kafka):
    topic = unique("sampled-clicks")
    await create_topics(kafka.bootstrap, {topic: 2})
    await produce(kafka.bootstrap, topic, 500, source="web")
    options = SamplerOptions(payloads="none", per_topic_per_second=2.0, burst_seconds=2.0)
    source = LiveSource(settings_for(kafka.bootstrap), interval=0.5, sampler=options)
    sink = Collector()
    started = time.monotonic()
    task = await run_until(source, sink, lambda: source.refreshes >= 2)
    await produce(kafka.bootstrap, topic, 500, source="web")
    after = source.refreshes + 3  # three refreshes over the new records: a cap not kept would sample far more

    def sampled_twice() -> bool:
        return source.refreshes >= after and len({obs.t for obs in sink.of_kind("record") if obs.topic == topic}) >= 2

    await wait_until_async(sampled_twice, f"three refreshes, and records of {topic} sampled at two of them")
    await stop(task)
    elapsed = time.monotonic() - started

    records: list[RecordObs] = [obs for obs in sink.of_kind("record") if obs.topic == topic]
    assert records
    assert all(record.value is None for record in records)  # --payloads none
    assert all(record.size > 0 and record.key is not None and record.headers for record in records)
    assert all(record.offset >= 200 for record in records), "the sampler must not read from the beginning"
    # 2 records per second with a burst of 2 s of credit: never more than that over the run.
    assert len(records) <= 2 * (elapsed + 2) + 1
    assert len({obs.t for obs in records}) >= 2  # sampled at more than one refresh


@pytest.mark.parametrize("codec", ["gzip", "snappy", "lz4", "zstd"])
async def test_the_sampler_reads_batches_compressed_by_kafkas_own_producer(kafka, codec):
    topic = unique(f"packed-{codec}")
    await create_topics(kafka.bootstrap, {topic: 1})
    source = LiveSource(settings_for(kafka.bootstrap), interval=0.5, payloads="full")
    sink = Collector()
    task = await run_until(source, sink, lambda: source.refreshes >= 1)
    lines = "".join(f'ce_source:/services/packer,ce_type:Packed\tparcel-{n}\t{{"n": {n}}}\n' for n in range(40))
    console_producer = [
        str(KAFKA_TOOL), "console-producer", "--bootstrap-server", kafka.bootstrap, "--topic", topic,
        "--compression-codec", codec, "--producer-property", "linger.ms=50",
        "--property", "parse.headers=true", "--property", "parse.key=true",
    ]  # fmt: skip
    done = await asyncio.to_thread(
        subprocess.run, console_producer, input=lines, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    await run_until_refreshes(source, source.refreshes + 3)
    await stop(task)

    records: list[RecordObs] = [obs for obs in sink.of_kind("record") if obs.topic == topic]
    assert records, f"nothing sampled from the {codec} batches"
    assert source._sampler is not None and source._sampler.stats.undecodable_batches == 0
    assert all(record.key is not None and record.key.startswith("parcel-") for record in records)
    assert all(record.value is not None and record.value.startswith('{"n": ') for record in records)
    view = sink.model.snapshot().topic(topic)
    assert view is not None and "packer" in view.producer_names and "Packed" in view.record_types


async def test_preview_payloads_are_cut_and_full_payloads_are_whole(kafka):
    topic = unique("big-values")
    await create_topics(kafka.bootstrap, {topic: 1})
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap, max_request_size=2_000_000)
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"x" * 5000 + b"\xff\xfe")
    finally:
        await producer.stop()
    preview = await refreshes(LiveSource(settings_for(kafka.bootstrap), payloads="preview"), 1)
    full = await refreshes(LiveSource(settings_for(kafka.bootstrap), payloads="full"), 1)
    (cut,) = [obs for obs in preview.of_kind("record") if obs.topic == topic]
    (whole,) = [obs for obs in full.of_kind("record") if obs.topic == topic]
    assert cut.value == "x" * 1024 and cut.size == 5002
    assert isinstance(whole.value, Blob) and len(whole.value.to_bytes()) == 5002


async def test_a_topic_deleted_while_watched_is_not_created_again(kafka):
    topic = unique("short-lived")
    await create_topics(kafka.bootstrap, {topic: 1})
    await produce(kafka.bootstrap, topic, 5)
    source = LiveSource(settings_for(kafka.bootstrap), interval=0.5)
    sink = Collector()
    task = await run_until(source, sink, lambda: source.refreshes >= 2)
    await delete_topics(kafka.bootstrap, [topic])
    await run_until_refreshes(source, source.refreshes + 4)
    await stop(task)
    latest = sink.of_kind("topics")[-1]
    assert topic not in {info.name for info in latest.topics}
    assert sink.model.snapshot().topic(topic) is None


async def test_a_group_deleted_with_kafkas_tool_goes_and_its_neighbour_stays(kafka):
    topic, doomed, kept = unique("deleted-group-orders"), unique("doomed"), unique("kept")
    await create_topics(kafka.bootstrap, {topic: 1})
    await produce(kafka.bootstrap, topic, 10)
    await consume_and_commit(kafka.bootstrap, doomed, [topic], 5)
    await consume_and_commit(kafka.bootstrap, kept, [topic], 5)
    source = LiveSource(settings_for(kafka.bootstrap), interval=0.5, sample=False)
    sink = Collector()
    task = await run_until(source, sink, lambda: sink.model.snapshot().group(doomed) is not None)
    kafka_tool("consumer-groups", "--bootstrap-server", kafka.bootstrap, "--delete", "--group", doomed)
    try:
        await wait_until_async(lambda: sink.model.snapshot().group(doomed) is None, f"{doomed} to go", timeout=20)
    finally:
        await stop(task)
    assert sink.model.snapshot().group(kept) is not None


async def test_the_interval_changes_while_running(kafka):
    source = LiveSource(settings_for(kafka.bootstrap), interval=30.0, sample=False)
    sink = Collector()
    task = await run_until(source, sink, lambda: source.refreshes >= 1)
    source.set_interval(0.5)
    source.shorter_interval()
    assert source.interval == 0.5
    await wait_until_async(lambda: source.refreshes >= 3, "the shorter interval to take effect", timeout=10)
    source.longer_interval()
    assert source.interval == 1.0
    await stop(task)
    assert source.controls.playback is None


async def test_requests_per_refresh_do_not_grow_with_groups(kafka):
    topic = unique("many-groups")
    await create_topics(kafka.bootstrap, {topic: 4})
    await produce(kafka.bootstrap, topic, 40)
    for index in range(12):
        await consume_and_commit(kafka.bootstrap, unique(f"reader{index}"), [topic], 5)
    keys: list[tuple[int | str, int]] = []
    source = LiveSource(settings_for(kafka.bootstrap), on_request=lambda node, key: keys.append((node, key)))
    observations = await source.refresh_once()
    keys.clear()
    observations = await source.refresh_once()
    await source.close()
    report = source.last_report
    assert report is not None
    assert report.max_requests_per_broker <= 9, report.requests  # 8 per broker + Metadata on one
    per_key = [key for _, key in keys]
    assert all(per_key.count(key) == 1 for key in set(per_key)), per_key  # one request of each API
    assert set(per_key) <= set(READ_ONLY_API_KEYS)
    assert sum(1 for obs in observations if isinstance(obs, GroupObs)) >= 12
    model = FlowModel()
    model.apply_all(observations)
    assert model.snapshot().topic(topic) is not None
