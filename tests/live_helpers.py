"""Helpers for the live-source tests: real producers, consumer groups and Kafka's own tools, no mocks."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.conn import AIOKafkaConnection

from adapters.kafka.config import ConnectionSettings, resolve_connection
from adapters.kafka.headless import observe
from adapters.kafka.source import LiveSource
from adapters.scenarios.specs import ScenarioSpec
from flow.model import FlowModel
from flow.observations import Observation, StatusObs
from tests.conftest import ROOT
from tests.waiting import Deadline, wait_until, wait_until_async

KAFKA_TOOL = ROOT / "scripts" / "kafka-tool"
LOCAL_KAFKA = ROOT / "scripts" / "local-kafka"
LOCAL_STREAMS_APP = ROOT / "scripts" / "local-streams-app"


def flowscope(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> tuple[int, str, str, float]:
    """The `flowscope` command line run in a fresh interpreter: exit code, stdout, stderr, seconds taken."""
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "tui.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        check=False,
    )
    return done.returncode, done.stdout, done.stderr, time.monotonic() - started


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def settings_for(bootstrap: str) -> ConnectionSettings:
    return resolve_connection(bootstrap=bootstrap, environ={}).settings


def kafka_tool(*args: str, timeout: float = 180) -> str:
    done = subprocess.run([str(KAFKA_TOOL), *args], capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"kafka-tool {args[0]} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    return done.stdout


# -- producing and consuming with real clients ---------------------------------------------------------------


async def create_topics(bootstrap: str, topics: dict[str, int], replicas: int = 1) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, partitions, replicas) for name, partitions in topics.items()])
    finally:
        await admin.close()
    await wait_for_topics(bootstrap, set(topics))


async def wait_for_topics(bootstrap: str, names: set[str], timeout: float = 30) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        deadline = Deadline(f"topics {sorted(names)} to be listed", timeout)
        while not names <= set(await admin.list_topics()):
            deadline.check()
            await asyncio.sleep(0.2)
    finally:
        await admin.close()


async def delete_topics(bootstrap: str, names: list[str]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.delete_topics(names)
    finally:
        await admin.close()


async def produce(
    bootstrap: str,
    topic: str,
    count: int,
    *,
    source: str | None = None,
    type_: str | None = None,
    transactional_id: str | None = None,
    idempotent: bool = True,
) -> None:
    """``count`` records spread over the partitions, with CloudEvents headers when ``source`` is given."""
    headers: list[tuple[str, bytes]] = []
    if source is not None:
        headers.append(("ce_source", source.encode()))
    if type_ is not None:
        headers.append(("ce_type", type_.encode()))
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        enable_idempotence=idempotent or transactional_id is not None,
        transactional_id=transactional_id,
        linger_ms=5,
    )
    await producer.start()
    try:
        if transactional_id is not None:
            async with producer.transaction():
                await _send_all(producer, topic, count, headers)
        else:
            await _send_all(producer, topic, count, headers)
    finally:
        await producer.stop()


async def _send_all(producer: AIOKafkaProducer, topic: str, count: int, headers: list[tuple[str, bytes]]) -> None:
    futures = [
        await producer.send(topic, value=b'{"n": %d}' % n, key=b"key-%d" % n, headers=headers) for n in range(count)
    ]
    await asyncio.gather(*futures)


async def consume_and_commit(bootstrap: str, group: str, topics: list[str], count: int, timeout: float = 60) -> None:
    """A real classic consumer group member: reads ``count`` records, commits, leaves the group.

    It fails rather than commit fewer: on a fresh broker the group coordinator (and ``__consumer_offsets``)
    can take a while to be ready, and a member that read nothing leaves no committed offsets, so no group.
    """
    consumer = AIOKafkaConsumer(
        *topics,
        bootstrap_servers=bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        max_poll_records=max(count // 4, 1),
    )
    await consumer.start()
    read = 0
    try:
        deadline = Deadline(lambda: f"group {group} to read {count} records (it read {read})", timeout)
        while read < count:
            deadline.check()
            batches = await consumer.getmany(timeout_ms=500, max_records=count - read)
            read += sum(len(records) for records in batches.values())
        await consumer.commit()
    finally:
        await consumer.stop()


def scenario_flowing(settings: ConnectionSettings, spec: ScenarioSpec) -> bool:
    """One look at the cluster (a second of the live source): every group of a simulated ``spec`` has
    members and every topic of it a rate."""
    snapshot = observe(settings, duration=1.0, interval=0.5)
    groups = {group.id: group for group in snapshot.groups}
    return all(g.group in groups and groups[g.group].members for g in spec.groups) and all(
        (topic := snapshot.topic(t.name)) is not None and topic.rate for t in spec.topics
    )


# -- what Kafka's own tool says ---------------------------------------------------------------------------

_ROW = re.compile(r"^(\S+)\s+(\S+)\s+(\d+)\s+(\S+)\s+(\S+)\s+(\S+)\s")


def describe_all_groups(bootstrap: str) -> dict[tuple[str, str, int], tuple[int | None, int, int | None]]:
    """``kafka-consumer-groups --describe --all-groups``: (group, topic, partition) -> (current, end, lag)."""
    text = kafka_tool("consumer-groups", "--bootstrap-server", bootstrap, "--describe", "--all-groups")
    rows: dict[tuple[str, str, int], tuple[int | None, int, int | None]] = {}
    for line in text.splitlines():
        match = _ROW.match(line + " ")
        if match is None or match.group(1) == "GROUP":
            continue
        group, topic, partition, current, end, lag = match.groups()
        rows[(group, topic, int(partition))] = (
            None if current == "-" else int(current),
            int(end),
            None if lag == "-" else int(lag),
        )
    return rows


def wait_until_empty(bootstrap: str, group: str, timeout: float = 90) -> None:
    """Wait until Kafka's tool reports the group Empty (its last member has left)."""
    text = ""

    def empty() -> bool:
        nonlocal text
        text = kafka_tool("consumer-groups", "--bootstrap-server", bootstrap, "--describe", "--group", group, "--state")
        return re.search(r"^\S+\s+.*\bEmpty\b", text, re.MULTILINE) is not None

    wait_until(empty, lambda: f"group {group} to be empty; the tool says: {text}", timeout=timeout, interval=1)


def cluster_state(bootstrap: str) -> dict[str, Any]:
    """Topics, groups and committed offsets as Kafka's own tools print them (for before/after checks)."""
    topics = sorted(kafka_tool("topics", "--bootstrap-server", bootstrap, "--list").split())
    groups = sorted(kafka_tool("consumer-groups", "--bootstrap-server", bootstrap, "--list").split())
    described = kafka_tool("consumer-groups", "--bootstrap-server", bootstrap, "--describe", "--all-groups")
    lines = sorted(" ".join(line.split()) for line in described.splitlines() if line.strip())
    return {"topics": topics, "groups": groups, "describe": lines}


# -- running the live source ----------------------------------------------------------------------------------


@dataclass
class Collector:
    """A sink that keeps every observation (with the wall time it arrived) and folds them into a model."""

    model: FlowModel = field(default_factory=FlowModel)
    observations: list[Observation] = field(default_factory=list)
    arrived: list[float] = field(default_factory=list)

    def apply(self, obs: Observation) -> None:
        self.observations.append(obs)
        self.arrived.append(time.monotonic())
        self.model.apply(obs)

    def reset(self) -> None:
        self.model.reset()

    def publish(self, force: bool = False) -> None:
        pass

    def rebase(self) -> None:
        self.model.rebase_changes()

    def statuses(self) -> list[StatusObs]:
        return [obs for obs in self.observations if isinstance(obs, StatusObs)]

    def of_kind(self, kind: str) -> list[Any]:
        return [obs for obs in self.observations if obs.kind == kind]


async def run_until(
    source: LiveSource, sink: Collector, condition: Callable[[], bool], timeout: float = 30, what: str = "the condition"
) -> asyncio.Task[None]:
    """Start ``source.run(sink)`` and wait until ``condition()``; the task keeps running (cancel it)."""
    task = asyncio.create_task(source.run(sink))

    def met() -> bool:
        if task.done():
            task.result()
            raise AssertionError("the live source stopped")
        return condition()

    try:
        await wait_until_async(met, lambda: f"{what}; statuses: {sink.statuses()[-3:]}", timeout=timeout)
    except AssertionError:
        task.cancel()
        raise
    return task


async def stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def refreshes(source: LiveSource, count: int) -> Collector:
    """Run the live source for ``count`` refreshes and return what it saw."""
    sink = Collector()
    task = await run_until(source, sink, lambda: source.refreshes >= count)
    await stop(task)
    return sink


@contextlib.contextmanager
def recorded_api_keys() -> Iterator[list[tuple[str, int]]]:
    """Every request sent on any aiokafka connection in this process: (host:port, API key).

    It wraps the client's send path itself, so it also sees the handshake (ApiVersions, SASL) and would
    see anything a bug sent around flowscope's own request path.
    """
    sent: list[tuple[str, int]] = []
    original = AIOKafkaConnection.send

    def send(self: AIOKafkaConnection, request: Any, expect_response: bool = True) -> Any:
        sent.append((f"{self.host}:{self.port}", request.API_KEY))
        return original(self, request, expect_response)

    AIOKafkaConnection.send = send  # type: ignore[method-assign]
    try:
        yield sent
    finally:
        AIOKafkaConnection.send = original  # type: ignore[method-assign]


class ConsoleConsumer:
    """Kafka's own console consumer as a group member, optionally with the KIP-848 consumer protocol."""

    def __init__(self, bootstrap: str, topic: str, group: str, *, protocol: str = "consumer") -> None:
        self.process = subprocess.Popen(
            [
                str(KAFKA_TOOL),
                "console-consumer",
                "--bootstrap-server",
                bootstrap,
                "--topic",
                topic,
                "--group",
                group,
                "--from-beginning",
                "--command-property",
                f"group.protocol={protocol}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "KAFKA_TOOL_LOG_LEVEL": "WARN"},
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


# -- a real Kafka Streams application -------------------------------------------------------------------------


@dataclass(frozen=True)
class StreamsApp:
    """A running scripts/local-streams-app (OrderTotals: counts orders per customer; input records are
    key = order id, value = customer; output records key = customer, value = the count in decimal)."""

    application_id: str
    """Also its group id: a consumer group (protocol classic) or a KIP-1071 streams group (streams)."""
    protocol: str
    pid: int
    log: Path
    info: dict[str, str]
    """Every line the script printed: application_id, protocol, bootstrap, input, output, pid, log."""

    @property
    def repartition_topic(self) -> str:
        return f"{self.application_id}-by-customer-repartition"

    @property
    def changelog_topic(self) -> str:
        return f"{self.application_id}-order-counts-changelog"


def _local_streams_app(*args: str, timeout: float) -> str:
    done = subprocess.run([str(LOCAL_STREAMS_APP), *args], capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"scripts/local-streams-app {args[0]} failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout


@contextlib.contextmanager
def streams_app(
    bootstrap: str,
    state: Path,
    application_id: str,
    input_topic: str,
    output_topic: str,
    protocol: str = "classic",
    *,
    properties: dict[str, str] | None = None,
    timeout: float = 600,
) -> Iterator[StreamsApp]:
    """A real Kafka Streams app (scripts/local-streams-app) in ``state`` (e.g. ``tmp_path``; one app per
    state dir, so give each app of a test its own), RUNNING when this yields and stopped (it leaves its
    group) when the block ends, whatever happens in it.

    ``protocol`` is its group.protocol, ``classic`` or ``streams`` (KIP-1071); ``properties`` are further
    Streams/client properties. ``timeout`` covers a first start that resolves Kafka Streams with Maven.
    Raises RuntimeError, with the script's sentence and the app's last log lines, if it does not run.
    """
    args = ["--bootstrap", bootstrap, "--application-id", application_id, "--input", input_topic]
    args += ["--output", output_topic, "--protocol", protocol, "--state", str(state)]
    for key, value in (properties or {}).items():
        args += ["--property", f"{key}={value}"]
    try:
        out = _local_streams_app("start", *args, timeout=timeout)
        info = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
        yield StreamsApp(info["application_id"], info["protocol"], int(info["pid"]), Path(info["log"]), info)
    finally:
        _local_streams_app("stop", "--state", str(state), timeout=60)
