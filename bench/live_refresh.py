"""One full live refresh of a large cluster: wall time and Kafka requests per broker, against a naive
per-group aiokafka loop in the same run and against Kafka's own `kafka-consumer-groups --describe --all-groups`.

Usage: .venv/bin/python bench/live_refresh.py [--bootstrap HOST:PORT] [--brokers 1] [--topics 500]
       [--partitions 4] [--groups 300] [--repeat 3] [--keep]
Without --bootstrap it starts a cluster of its own (scripts/local-kafka up --brokers N, state
.cache/kafka-bench or .cache/kafka-bench-N; topics replicated on up to three brokers) and stops it at the
end; --keep leaves it running for another round. The cluster gets --topics topics of --partitions
partitions with a few records each, and --groups consumer groups with committed offsets on two topics each.
It times refreshes once the cluster has settled (every replica in sync), on the quiet cluster and again with
one record written to every partition before each refresh (so nothing can be skipped as unchanged).
Targets: a full refresh (sampler included) <= 1 s and <= 10 requests per broker, whatever the number of groups.
A script that prints figures, not a timed test.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.conn import AIOKafkaConnection
from aiokafka.errors import KafkaError
from aiokafka.structs import OffsetAndMetadata

from adapters.kafka.config import resolve_connection
from adapters.kafka.source import LiveSource
from flow.observations import EndOffsetsObs

ROOT = Path(__file__).resolve().parent.parent
STATE = ROOT / ".cache" / "kafka-bench"


def local_kafka(command: str, brokers: int = 1) -> dict[str, str]:
    state = STATE if brokers == 1 else STATE.with_name(f"{STATE.name}-{brokers}")
    env = {**os.environ, "FLOWSCOPE_KAFKA_STATE": str(state)}
    extra = ["--brokers", str(brokers)] if command == "up" else []
    done = subprocess.run(
        [str(ROOT / "scripts" / "local-kafka"), command, *extra], capture_output=True, text=True, env=env, check=True
    )
    return dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)


@contextmanager
def counting() -> Iterator[Counter[str]]:
    """Every request sent on any aiokafka connection of this process, per broker address."""
    sent: Counter[str] = Counter()
    original = AIOKafkaConnection.send

    def send(self: AIOKafkaConnection, request: Any, expect_response: bool = True) -> Any:
        sent[f"{self.host}:{self.port}"] += 1
        return original(self, request, expect_response)

    AIOKafkaConnection.send = send  # type: ignore[method-assign]
    try:
        yield sent
    finally:
        AIOKafkaConnection.send = original  # type: ignore[method-assign]


# -- the cluster ------------------------------------------------------------------------------------------


async def populate(bootstrap: str, topics: int, partitions: int, groups: int, replicas: int = 1) -> None:
    names = [f"bench-topic-{i:04d}" for i in range(topics)]
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=120_000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [name for name in names if name not in existing]
        for start in range(0, len(missing), 100):
            await admin.create_topics([NewTopic(name, partitions, replicas) for name in missing[start : start + 100]])
        if missing:
            print(f"created {len(missing)} topics x {partitions} partitions", file=sys.stderr)
        listed = {group for group, _ in await admin.list_consumer_groups()}
        deadline = time.monotonic() + 120
        while True:  # new topics need leaders before they take records
            described = await admin.describe_topics(names)
            if all(p["leader"] >= 0 for t in described for p in t["partitions"]) or time.monotonic() > deadline:
                break
            await asyncio.sleep(1)
    finally:
        await admin.close()
    probe = LiveSource(resolve_connection(bootstrap=bootstrap, environ={}).settings, sample=False)
    try:
        ends: dict[str, tuple[int, ...]] | None = None
        for _ in range(30):  # a broker that just created hundreds of topics may not list offsets at once
            ends = next((obs.offsets for obs in await probe.refresh_once() if isinstance(obs, EndOffsetsObs)), None)
            if ends is not None:
                break
            await asyncio.sleep(1)
        if ends is None:
            raise SystemExit("live_refresh: the broker reported no end offsets in 30 refreshes")
    finally:
        await probe.close()
    empty = sorted(name for name in names if not all(ends.get(name, (0,))))
    if empty:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, linger_ms=20)
        await producer.start()
        try:
            for _ in range(5):  # partitions just created may still be electing their leader
                sends = [
                    await producer.send(name, b'{"n": %d}' % n, partition=p, headers=[("ce_source", b"bench-writer")])
                    for name in empty
                    for p in range(partitions)
                    for n in range(3)
                ]
                results = await asyncio.gather(*sends, return_exceptions=True)
                failed = [error for error in results if isinstance(error, KafkaError)]
                if not failed:
                    break
                print(f"{len(failed)} sends failed ({failed[0]!r}); again in 5 s", file=sys.stderr)
                await asyncio.sleep(5)
            else:
                raise SystemExit("live_refresh: could not write the bench topics' records")
        finally:
            await producer.stop()
    wanted = [f"bench-group-{i:04d}" for i in range(groups)]
    todo = [group for group in wanted if group not in listed]
    limit = asyncio.Semaphore(8)

    async def commit(index: int, group: str) -> None:
        async with limit:
            consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
            await consumer.start()
            try:
                mine = [names[index % topics], names[(index * 7 + 1) % topics]]
                parts = [TopicPartition(name, p) for name in mine for p in range(partitions)]
                consumer.assign(parts)
                await consumer.commit({tp: OffsetAndMetadata(1 + tp.partition % 2, "") for tp in parts})
            finally:
                await consumer.stop()

    await asyncio.gather(*(commit(wanted.index(group), group) for group in todo))
    if todo:
        print(f"committed offsets for {len(todo)} groups", file=sys.stderr)


# -- the three ways of looking ------------------------------------------------------------------------------


async def settle(bootstrap: str, timeout: float = 300) -> float:
    """Seconds until every partition has a leader and all its replicas in sync: a cluster that has just
    created thousands of replicas is still catching up, and a refresh timed then measures the brokers."""
    started = time.perf_counter()
    probe = LiveSource(resolve_connection(bootstrap=bootstrap, environ={}).settings, sample=False)
    try:
        while time.perf_counter() - started < timeout:
            await probe.refresh_once()
            report = probe.last_report
            if report is not None and not report.offline and not report.under_replicated:
                break
            await asyncio.sleep(2)
    finally:
        await probe.close()
    return time.perf_counter() - started


async def write_every_partition(producer: AIOKafkaProducer, topics: int, partitions: int) -> None:
    """One record on every bench partition, so the next refresh finds every partition written."""
    sends = [
        await producer.send(f"bench-topic-{i:04d}", b'{"n": 0}', partition=p)
        for i in range(topics)
        for p in range(partitions)
    ]
    await asyncio.gather(*sends)


async def flowscope_refreshes(
    bootstrap: str, repeat: int, before_each: Callable[[], Awaitable[None]] | None = None
) -> list[tuple[float, dict[Any, int], int, int, int]]:
    """(seconds, requests per broker, observations, groups, records) for a cold refresh, then warm ones,
    each warm one after ``before_each()`` when given."""
    source = LiveSource(resolve_connection(bootstrap=bootstrap, environ={}).settings)
    results = []
    try:
        for index in range(repeat + 1):
            if index and before_each is not None:
                await before_each()
            started = time.perf_counter()
            observations = await source.refresh_once()
            seconds = time.perf_counter() - started
            report = source.last_report
            assert report is not None
            results.append((seconds, report.requests, len(observations), report.groups, report.records))
            await asyncio.sleep(0.5)
    finally:
        await source.close()
    return results


async def naive_loop(bootstrap: str) -> tuple[float, int]:
    """What a script written with aiokafka's admin client does: describe and fetch offsets per group."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=60_000)
    await admin.start()
    try:
        started = time.perf_counter()
        topics = await admin.describe_topics()
        groups = await admin.list_consumer_groups()
        committed = 0
        for group_id, _protocol in groups:
            await admin.describe_consumer_groups([group_id])
            committed += len(await admin.list_consumer_group_offsets(group_id))
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
        await consumer.start()
        try:
            # One metadata update for all topics first; asked one by one, aiokafka times out on 500 topics.
            await consumer._client.set_topics([topic["topic"] for topic in topics])
            parts = [
                TopicPartition(topic["topic"], partition["partition"])
                for topic in topics
                for partition in topic["partitions"]
            ]
            await consumer.end_offsets(parts)
        finally:
            await consumer.stop()
        return time.perf_counter() - started, len(groups)
    finally:
        await admin.close()


def kafka_tool_describe(bootstrap: str) -> tuple[float, int]:
    started = time.perf_counter()
    done = subprocess.run(
        [str(ROOT / "scripts" / "kafka-tool"), "consumer-groups", "--bootstrap-server", bootstrap, "--describe",
         "--all-groups"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    rows = sum(1 for line in done.stdout.splitlines() if line.startswith("bench-group-"))
    return time.perf_counter() - started, rows


async def main_async(args: argparse.Namespace, bootstrap: str) -> None:
    replicas = min(args.brokers, 3)
    await populate(bootstrap, args.topics, args.partitions, args.groups, replicas)
    print(
        f"\ncluster: {bootstrap} ({args.brokers} broker(s)), {args.topics} topics x {args.partitions} partitions "
        f"x {replicas} replicas, {args.groups} groups\n"
    )

    print(f"settled (every partition led, every replica in sync) after {await settle(bootstrap):.0f} s\n")

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, linger_ms=20)
    await producer.start()
    # Metadata for every bench topic in one request, not one growing request per topic on its first send.
    await producer.client.set_topics([f"bench-topic-{i:04d}" for i in range(args.topics)])

    async def written() -> None:
        await write_every_partition(producer, args.topics, args.partitions)

    try:
        for title, before_each in (("quiet cluster", None), ("every partition written before each refresh", written)):
            with counting() as sent:
                runs = await flowscope_refreshes(bootstrap, args.repeat, before_each)
            cold, warm = runs[0], runs[1:]
            warm_seconds = [run[0] for run in warm]
            print(f"flowscope live refresh (batched requests, record sampler included), {title}:")
            print(f"  cold (connects first): {cold[0] * 1000:7.0f} ms, requests {dict(cold[1])}")
            for seconds, requests, observations, groups, records in warm:
                per_broker = max((n for key, n in requests.items() if isinstance(key, int)), default=0)
                print(
                    f"  warm: {seconds * 1000:7.0f} ms, {per_broker} requests per broker {dict(requests)}, "
                    f"{observations} observations, {groups} groups, {records} sampled records"
                )
            print(f"  median warm refresh: {statistics.median(warm_seconds) * 1000:.0f} ms")
            if before_each is None:  # with a writer, its own requests would count too
                print(f"  wire total incl. handshakes: {sum(sent.values())} requests over {len(runs)} refreshes")
            print()
    finally:
        await producer.stop()

    with counting() as sent:
        seconds, groups = await naive_loop(bootstrap)
    print("\nnaive aiokafka admin loop (describe + offsets per group, end offsets once):")
    print(f"  {seconds * 1000:7.0f} ms, {sum(sent.values())} requests {dict(sent)} for {groups} groups")

    seconds, rows = await asyncio.to_thread(kafka_tool_describe, bootstrap)
    print("\nkafka-consumer-groups --describe --all-groups (JVM start included):")
    print(f"  {seconds * 1000:7.0f} ms wall, {rows} rows for the bench groups")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bootstrap", help="an existing cluster (default: start one in .cache/kafka-bench)")
    parser.add_argument("--brokers", type=int, default=1, help="nodes of the cluster it starts (1)")
    parser.add_argument("--topics", type=int, default=500)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--groups", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3, help="warm refreshes to time")
    parser.add_argument("--keep", action="store_true", help="leave the bench broker running")
    args = parser.parse_args()
    own = args.bootstrap is None
    bootstrap = args.bootstrap or local_kafka("up", args.brokers)["bootstrap"]
    try:
        asyncio.run(main_async(args, bootstrap))
    finally:
        if own and not args.keep:
            local_kafka("down", args.brokers)


if __name__ == "__main__":
    main()
