"""Drive a scenario into a real Kafka cluster: real idempotent producers and real consumer groups.

The one part of flowscope that writes to a cluster. For a :class:`ScenarioSpec` it creates the topics
(existing ones are used as they are), starts one idempotent producer per service and one consumer per
group member, then runs the story:

- **emitters** write records at their rate (a Poisson process, ticked every 100 ms) with CloudEvents
  headers in the Kafka binary binding (``ce_specversion``, ``ce_id``, ``ce_source`` = ``/service``,
  ``ce_type``, ``ce_time``, ``content-type``) and a key (the order id);
- **groups** consume with their group id and commit what they processed, throttled to their capacity
  (split between their members); during a **slow spell** the capacity drops, so lag grows, and
  afterwards the group catches up; spells repeat every ``spec.duration_s`` seconds;
- **reactions**: a record a group reads from a trigger topic makes that group's service write
  ``ratio`` records (same key) to another topic.

``rate`` multiplies every emitter rate *and* every group capacity, so the story (who keeps up, who
falls behind in a spell) holds at any speed. aiokafka speaks only the classic group protocol: a group
whose spec says ``consumer`` (KIP-848) runs as a classic group, and :attr:`SimulationStats.notes` says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, KafkaError

from adapters.scenarios.specs import Emitter, GroupSpec, Reaction, ScenarioSpec

TICK_S = 0.1
"""Emitters decide how many records to write every this many seconds."""
COMMIT_EVERY_S = 1.0
"""A consumer commits what it processed at most this often (and once more when it stops)."""
CONNECT_TIMEOUT_S = 15.0
"""Giving up on an unreachable cluster takes at most this long."""
START_CONCURRENCY = 16
"""Clients connecting at the same time while a simulation starts."""
TOPIC_EXISTS = 36
"""Kafka's TOPIC_ALREADY_EXISTS error code: simulating twice on one cluster is fine."""


class SimulationError(Exception):
    """The cluster could not be reached or refused what simulate needs; the message is one sentence."""


@dataclass(slots=True)
class SimulationStats:
    """What a simulation did; live counters while it runs, final numbers when :func:`simulate` returns."""

    scenario: str
    produced: dict[str, int] = field(default_factory=dict)
    """Records acknowledged by the cluster, per topic."""
    consumed: dict[str, int] = field(default_factory=dict)
    """Records processed (and committed), per group."""
    failed: int = 0
    """Records the cluster did not acknowledge."""
    created: tuple[str, ...] = ()
    """Topics this run created (the others existed already)."""
    elapsed_s: float = 0.0
    notes: list[str] = field(default_factory=list)

    def line(self) -> str:
        """One line for a terminal: totals and per-group progress."""
        produced = sum(self.produced.values())
        groups = ", ".join(f"{group} {count}" for group, count in sorted(self.consumed.items()))
        failed = f", {self.failed} failed" if self.failed else ""
        return f"{self.elapsed_s:.0f}s: produced {produced}{failed}; consumed {groups or 'nothing yet'}"


@dataclass(frozen=True, slots=True)
class _Template:
    values: Mapping[str, str]

    def value(self, record_type: str, rng: random.Random, order: str) -> bytes:
        template = self.values.get(record_type)
        if template is None:
            return f'{{"id":"{order}","type":"{record_type}"}}'.encode()
        return template.format(
            order=order,
            sku=f"SKU-{rng.randrange(1000, 10000)}",
            n=rng.randrange(1, 4),
            customer=f"c-{rng.randrange(10000, 100000)}",
        ).encode()


def cloudevents_headers(service: str, record_type: str) -> list[tuple[str, bytes]]:
    """CloudEvents 1.0 attributes as Kafka headers (binary content mode)."""
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return [
        ("ce_specversion", b"1.0"),
        ("ce_id", str(uuid.uuid4()).encode()),
        ("ce_source", f"/{service}".encode()),
        ("ce_type", record_type.encode()),
        ("ce_time", now.encode()),
        ("content-type", b"application/json"),
    ]


def _poisson(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    if mean > 30:
        return max(round(rng.gauss(mean, math.sqrt(mean))), 0)
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


async def _wait(event: asyncio.Event, seconds: float) -> bool:
    """Wait for ``event`` at most ``seconds``; True when it was set."""
    try:
        await asyncio.wait_for(event.wait(), max(seconds, 0.0))
    except TimeoutError:
        return False
    return True


class _Simulation:
    def __init__(
        self,
        bootstrap: str | Sequence[str],
        spec: ScenarioSpec,
        rate: float,
        client_options: Mapping[str, Any],
        seed: int | None,
    ) -> None:
        servers = bootstrap.split(",") if isinstance(bootstrap, str) else list(bootstrap)
        self.bootstrap = [server.strip() for server in servers if server.strip()]
        self.label = ",".join(self.bootstrap)
        self.spec = spec
        self.rate = rate
        self.options = dict(client_options)
        self.rng = random.Random(seed)
        self.template = _Template(spec.values)
        self.stats = SimulationStats(scenario=spec.name)
        self.stopping = asyncio.Event()
        self.started = time.monotonic()
        self.producers: dict[str, AIOKafkaProducer] = {}
        self.consumers: list[tuple[GroupSpec, AIOKafkaConsumer]] = []
        self.reactions: dict[tuple[str, str], list[Reaction]] = {}
        for reaction in spec.reactions:
            self.reactions.setdefault((reaction.service, reaction.trigger), []).append(reaction)
        self.owed: dict[tuple[str, Reaction], float] = {}
        self.order = 10_000

    # -- setup and teardown ----------------------------------------------------------------------------

    async def create_topics(self) -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap, client_id="flowscope-simulate", **self.options)
        try:
            await asyncio.wait_for(admin.start(), CONNECT_TIMEOUT_S)
            cluster = await admin.describe_cluster()
            replicas = max(1, min(3, len(cluster.get("brokers", ())) or 1))
            created: list[str] = []
            topics = list(self.spec.topics)
            for start in range(0, len(topics), 100):
                chunk = topics[start : start + 100]
                response = await admin.create_topics(
                    [NewTopic(topic.name, topic.partitions, replicas) for topic in chunk]
                )
                for entry in response.topic_errors:
                    name, code = entry[0], entry[1]
                    if code == 0:
                        created.append(name)
                    elif code != TOPIC_EXISTS:
                        message = entry[2] if len(entry) > 2 and entry[2] else f"error code {code}"
                        raise SimulationError(f"the cluster refused to create topic {name!r}: {message}")
            self.stats.created = tuple(created)
        except TimeoutError:
            raise SimulationError(
                f"no answer from a Kafka cluster at {self.label} within {CONNECT_TIMEOUT_S:.0f}s"
            ) from None
        except KafkaConnectionError:
            raise SimulationError(
                f"cannot connect to a Kafka cluster at {self.label}: check the address, the security "
                "protocol and the credentials"
            ) from None
        except KafkaError as error:
            raise SimulationError(f"cannot use the Kafka cluster at {self.label}: {error}") from None
        finally:
            await admin.close()

    async def start_clients(self) -> None:
        services = sorted({e.service for e in self.spec.emitters} | {r.service for r in self.spec.reactions})
        for service in services:
            self.producers[service] = AIOKafkaProducer(
                bootstrap_servers=self.bootstrap,
                client_id=service,
                enable_idempotence=True,
                acks="all",
                linger_ms=5,
                **self.options,
            )
        for group in self.spec.groups:
            if group.protocol != "classic":
                self.stats.notes.append(
                    f"group {group.group!r} asks for the {group.protocol!r} protocol; aiokafka speaks only "
                    "the classic one, so it runs as a classic group"
                )
            for number in range(max(group.members, 1)):
                consumer = AIOKafkaConsumer(
                    *group.topics,
                    bootstrap_servers=self.bootstrap,
                    group_id=group.group,
                    client_id=f"{group.service}-{number + 1}",
                    enable_auto_commit=False,
                    auto_offset_reset="earliest",
                    **self.options,
                )
                self.consumers.append((group, consumer))
        # Hundreds of clients connecting at once (the large scenario) swamp a small broker: a few at a time.
        gate = asyncio.Semaphore(START_CONCURRENCY)

        async def start(client: AIOKafkaProducer | AIOKafkaConsumer) -> None:
            async with gate:
                await asyncio.wait_for(client.start(), CONNECT_TIMEOUT_S * 2)

        clients: list[AIOKafkaProducer | AIOKafkaConsumer] = [*self.producers.values()]
        clients += [consumer for _, consumer in self.consumers]
        try:
            await asyncio.gather(*(start(client) for client in clients))
        except TimeoutError:
            raise SimulationError(f"the clients could not connect to {self.label} in time") from None
        except KafkaError as error:
            raise SimulationError(f"the clients could not connect to {self.label}: {error}") from None

    async def stop_clients(self) -> None:
        results = await asyncio.gather(*(consumer.stop() for _, consumer in self.consumers), return_exceptions=True)
        results += await asyncio.gather(
            *(producer.stop() for producer in self.producers.values()), return_exceptions=True
        )
        errors = [r for r in results if isinstance(r, BaseException)]
        if errors:
            self.stats.notes.append(f"{len(errors)} client(s) did not close cleanly: {errors[0]}")

    # -- the story -------------------------------------------------------------------------------------

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def capacity(self, group: GroupSpec) -> float:
        """Records per second the whole group reads now: its capacity, times a spell's factor."""
        capacity = group.capacity * self.rate
        spell = group.slow
        if spell is not None:
            cycle = self.spec.duration_s if self.spec.duration_s > 0 else math.inf
            moment = self.elapsed() % cycle
            if spell.start_s <= moment < spell.end_s:
                capacity *= spell.factor
        return capacity

    def _acked(self, topic: str) -> Callable[[asyncio.Future[Any]], None]:
        def done(future: asyncio.Future[Any]) -> None:
            if future.cancelled() or future.exception() is not None:
                self.stats.failed += 1
            else:
                self.stats.produced[topic] = self.stats.produced.get(topic, 0) + 1

        return done

    async def send(self, service: str, topic: str, record_type: str, key: bytes | None) -> None:
        if key is None:
            self.order += 1
            key = f"o-{self.order}".encode()
        value = self.template.value(record_type, self.rng, key.decode("utf-8", "replace"))
        try:
            future = await self.producers[service].send(
                topic, value, key=key, headers=cloudevents_headers(service, record_type)
            )
        except KafkaError:
            self.stats.failed += 1
            return
        future.add_done_callback(self._acked(topic))

    async def emit(self) -> None:
        """Every tick, each emitter writes a Poisson-distributed number of records."""
        emitters: list[Emitter] = list(self.spec.emitters)
        loop = asyncio.get_running_loop()
        last = loop.time()
        while not await _wait(self.stopping, TICK_S):
            now = loop.time()
            dt, last = now - last, now
            for emitter in emitters:
                for _ in range(_poisson(self.rng, emitter.rate * self.rate * dt)):
                    await self.send(emitter.service, emitter.topic, emitter.record_type, None)

    async def react(self, group: GroupSpec, topic: str, key: bytes | None) -> None:
        for reaction in self.reactions.get((group.service, topic), ()):
            owed = self.owed.get((group.group, reaction), 0.0) + reaction.ratio
            count = int(owed)
            self.owed[group.group, reaction] = owed - count
            for _ in range(count):
                await self.send(reaction.service, reaction.topic, reaction.record_type, key)

    async def consume(self, group: GroupSpec, consumer: AIOKafkaConsumer) -> None:
        """One member: read at most its share of the group's capacity, react, commit what it processed."""
        loop = asyncio.get_running_loop()
        members = max(group.members, 1)
        allowance, last = 0.0, loop.time()
        last_commit, dirty = last, False
        while not self.stopping.is_set():
            now = loop.time()
            capacity = self.capacity(group) / members
            # A member that had nothing to read may not bank more than a second of capacity.
            allowance = min(allowance + capacity * (now - last), max(capacity, 1.0))
            last = now
            if allowance < 1:
                await _wait(self.stopping, (1 - allowance) / capacity if capacity > 0 else TICK_S)
                continue
            try:
                batch = await consumer.getmany(timeout_ms=250, max_records=int(allowance))
            except KafkaError:
                await _wait(self.stopping, 1.0)
                continue
            count = 0
            for partition, records in batch.items():
                count += len(records)
                for record in records:
                    await self.react(group, partition.topic, record.key)
            if count:
                allowance -= count
                dirty = True
                self.stats.consumed[group.group] = self.stats.consumed.get(group.group, 0) + count
            if dirty and now - last_commit >= COMMIT_EVERY_S:
                dirty = not await self._commit(consumer)
                last_commit = now
        if dirty:
            await self._commit(consumer)

    async def _commit(self, consumer: AIOKafkaConsumer) -> bool:
        try:
            await consumer.commit()
        except KafkaError:
            return False  # a rebalance took the partitions away; the next owner re-reads them
        return True


async def simulate(
    bootstrap: str | Sequence[str],
    spec: ScenarioSpec,
    rate: float = 1.0,
    duration: float | None = None,
    stop_event: asyncio.Event | None = None,
    *,
    client_options: Mapping[str, Any] | None = None,
    seed: int | None = None,
    progress: Callable[[SimulationStats], None] | None = None,
    progress_every: float = 10.0,
) -> SimulationStats:
    """Run ``spec`` against the cluster at ``bootstrap`` until ``duration`` seconds pass or ``stop_event``
    is set; then every consumer commits what it processed and leaves its group, and every producer
    flushes. ``client_options`` go to every aiokafka client (security_protocol, sasl_*, ssl_context).
    Raises :class:`SimulationError` when the cluster cannot be used.
    """
    if rate <= 0:
        raise ValueError("rate must be positive")
    sim = _Simulation(bootstrap, spec, rate, client_options or {}, seed)
    stop_event = stop_event or asyncio.Event()
    await sim.create_topics()
    tasks: list[asyncio.Task[None]] = []
    try:
        await sim.start_clients()
        sim.started = time.monotonic()
        tasks.append(asyncio.create_task(sim.emit(), name="simulate-emit"))
        tasks += [
            asyncio.create_task(sim.consume(group, consumer), name=f"simulate-{group.group}")
            for group, consumer in sim.consumers
        ]
        deadline = None if duration is None else sim.started + duration
        while True:
            left = None if deadline is None else deadline - time.monotonic()
            wait = progress_every if left is None else min(progress_every, left)
            if await _wait(stop_event, wait) or (deadline is not None and time.monotonic() >= deadline):
                break
            failed = [task for task in tasks if task.done() and task.exception() is not None]
            if failed:
                raise SimulationError(f"the simulation stopped: {failed[0].exception()}")
            if progress is not None:
                sim.stats.elapsed_s = sim.elapsed()
                progress(sim.stats)
        sim.stopping.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        with contextlib.suppress(KafkaError):
            await asyncio.gather(*(producer.flush() for producer in sim.producers.values()))
    finally:
        sim.stopping.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        await sim.stop_clients()
    sim.stats.elapsed_s = sim.elapsed()
    return sim.stats
