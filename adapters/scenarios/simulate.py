"""Drive a scenario into a real Kafka cluster: real idempotent producers and real consumer groups.

The one part of flowscope that writes to a cluster. For a :class:`ScenarioSpec` it creates the topics
(existing ones are used as they are), starts one idempotent producer per service and one consumer per
group member, then runs the story:

- **emitters** write records at their rate (a Poisson process, ticked every 100 ms) with a key (the order
  id); in the default ``cloudevents`` format, JSON values with CloudEvents headers in the Kafka binary
  binding (``ce_specversion``, ``ce_id``, ``ce_source`` = ``/service``, ``ce_type``, ``ce_time``,
  ``content-type``); in ``avro``, ``protobuf`` or ``json-schema``, values in a schema registry's wire format
  and no headers at all: before the story starts, one schema per (topic, record type) is registered (see
  :meth:`_Simulation.register_schemas`), and the record type is the schema's name;
- **groups** consume with their group id and commit what they processed, throttled to their capacity
  (split between their members); during a **slow spell** the capacity drops, so lag grows, and
  afterwards the group catches up; spells repeat every ``spec.duration_s`` seconds;
- **reactions**: a record a group reads from a trigger topic makes that group's service write
  ``ratio`` records (same key) to another topic.

``rate`` multiplies every emitter rate *and* every group capacity, so the story (who keeps up, who
falls behind in a spell) holds at any speed. aiokafka speaks only the classic group protocol: a group
whose spec says ``consumer`` (KIP-848) runs as a classic group, and :attr:`SimulationStats.notes` says so.

A run given a duration ends by it, whatever the cluster does. The duration starts once the clients are
up (connecting has timeouts of its own, and ``stop_event`` ends it too); at the end the clients get
:data:`STOP_GRACE_S` to commit, flush and leave (:data:`SILENT_GRACE_S` when the cluster has already
stopped acknowledging). A cluster that does not answer by then is *lost*: the clients are dropped (their
unacknowledged records with them) and :func:`simulate` raises a :class:`SimulationError` that says so.
The same holds when ``stop_event`` ends the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import string
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, KafkaError

from adapters.kafka.headless import lost_sentence
from adapters.scenarios.schema_registrar import RegistrationError, SchemaRegistrar
from adapters.scenarios.specs import Emitter, GroupSpec, Reaction, ScenarioSpec
from adapters.schemas.registry import RegistrySettings
from adapters.schemas.writer import WRITE_FORMATS, FieldKind, RecordSchema, Value, WriteFormat, record_schema

TICK_S = 0.1
"""Emitters decide how many records to write every this many seconds."""
COMMIT_EVERY_S = 1.0
"""A consumer commits what it processed at most this often (and once more when it stops)."""
CONNECT_TIMEOUT_S = 15.0
"""Giving up on an unreachable cluster takes at most this long."""
STOP_GRACE_S = 3.0
"""Seconds the clients get to commit, flush and leave at the end (a healthy cluster needs well under one);
past them the cluster is lost."""
SILENT_S = 2.0
"""A cluster that acknowledged nothing for this long while records wait is not answering: at the end its
clients get only :data:`SILENT_GRACE_S` (a healthy cluster acknowledges within milliseconds)."""
SILENT_GRACE_S = 1.0
CLOSE_S = 0.5
"""Past the grace, the seconds clients still get to close (what a lost cluster does not answer is dropped)."""
START_CONCURRENCY = 16
"""Clients connecting at the same time while a simulation starts."""
TOPIC_EXISTS = 36
"""Kafka's TOPIC_ALREADY_EXISTS error code: simulating twice on one cluster is fine."""
REGISTER_CONCURRENCY = 8
"""Schemas registered at the same time (the large scenario has hundreds)."""

SimulateFormat = Literal["cloudevents", "avro", "protobuf", "json-schema"]
FORMATS: tuple[SimulateFormat, ...] = ("cloudevents", *WRITE_FORMATS)


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


_ID_FIELDS: tuple[tuple[str, FieldKind], ...] = (("id", "string"), ("type", "string"))


@dataclass(frozen=True, slots=True)
class _Template:
    values: Mapping[str, str]

    @staticmethod
    def _fills(rng: random.Random, order: str) -> dict[str, Value]:
        # Drawn in this order whatever the format, so one seed gives the same records in every format.
        return {
            "order": order,
            "sku": f"SKU-{rng.randrange(1000, 10000)}",
            "n": rng.randrange(1, 4),
            "customer": f"c-{rng.randrange(10000, 100000)}",
        }

    def value(self, record_type: str, rng: random.Random, order: str) -> bytes:
        """A JSON value (the cloudevents format): the type's template filled in."""
        template = self.values.get(record_type)
        if template is None:
            return f'{{"id":"{order}","type":"{record_type}"}}'.encode()
        return template.format(**self._fills(rng, order)).encode()

    def fields(self, record_type: str) -> tuple[tuple[str, FieldKind], ...]:
        """A schema's fields for the type: the keys its template fills (``n`` an integer, the others
        strings), or ``id`` and ``type`` when it has no template."""
        template = self.values.get(record_type)
        names = dict.fromkeys(name for _, name, _, _ in string.Formatter().parse(template or "") if name)
        if not names:
            return _ID_FIELDS
        return tuple((name, "int" if name == "n" else "string") for name in names)

    def record(self, record_type: str, rng: random.Random, order: str) -> dict[str, Value]:
        """The record a schema format writes: the same keys :meth:`fields` names."""
        fills = self._fills(rng, order)
        fields = self.fields(record_type)
        if fields is _ID_FIELDS:
            return {"id": order, "type": record_type}
        return {name: fills[name] for name, _ in fields}


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
    # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation that arrives just
    # as the event is set, and a task dropped at the end of a run would then go on (see STOP_GRACE_S).
    try:
        async with asyncio.timeout(max(seconds, 0.0)):
            await event.wait()
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
        fmt: SimulateFormat = "cloudevents",
        registry: RegistrySettings | None = None,
    ) -> None:
        servers = bootstrap.split(",") if isinstance(bootstrap, str) else list(bootstrap)
        self.bootstrap = [server.strip() for server in servers if server.strip()]
        self.label = ",".join(self.bootstrap)
        self.spec = spec
        self.rate = rate
        self.options = dict(client_options)
        self.rng = random.Random(seed)
        self.template = _Template(spec.values)
        self.format = fmt
        self.registry = registry
        self.schemas: dict[tuple[str, str], tuple[RecordSchema, int]] = {}
        """(topic, record type) -> its schema and the id the registry gave it (schema formats only)."""
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
        self.answered = time.monotonic()
        """When the cluster last acknowledged a record or a commit (a lost cluster is named with it)."""
        self.in_flight = 0
        """Records sent and not acknowledged (nor failed) yet."""

    # -- setup and teardown ----------------------------------------------------------------------------

    async def connect(self, stop: asyncio.Event) -> bool:
        """Create the topics and start the clients (each step has its timeout); False when ``stop`` was set
        first. SimulationError when the cluster cannot be used."""
        work = asyncio.create_task(self._connect(), name="simulate-connect")
        stopped = asyncio.create_task(stop.wait(), name="simulate-connect-stop")
        try:
            await asyncio.wait({work, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
            if not work.done():
                work.cancel()
                await asyncio.wait({work}, timeout=STOP_GRACE_S)
        if work.done() and not work.cancelled():
            work.result()  # SimulationError when the cluster cannot be used
            self.answered = time.monotonic()
            return True
        return False

    async def _connect(self) -> None:
        await self.create_topics()
        await self.register_schemas()
        await self.start_clients()

    async def register_schemas(self) -> None:
        """In a schema format, register one schema per (topic, record type) the scenario writes.

        Subjects follow the TopicRecordNameStrategy, ``<topic>-<RecordType>``: a topic that carries several
        record types (realistic's) then needs no compatibility between them, which the default
        TopicNameStrategy (one ``<topic>-value`` subject, each new type a new version of it) would ask for.
        """
        if self.format == "cloudevents":
            return
        if self.registry is None:
            raise SimulationError(f"--format {self.format} needs a schema registry to register its schemas in")
        fmt: WriteFormat = self.format
        registrar = SchemaRegistrar(self.registry)
        written = [(e.topic, e.record_type) for e in self.spec.emitters]
        written += [(r.topic, r.record_type) for r in self.spec.reactions]
        gate = asyncio.Semaphore(REGISTER_CONCURRENCY)

        async def register(topic: str, record_type: str) -> None:
            schema = record_schema(fmt, record_type, self.template.fields(record_type))
            async with gate:
                schema_id = await registrar.register(f"{topic}-{record_type}", schema.text, schema.registry_type)
            self.schemas[topic, record_type] = (schema, schema_id)

        try:
            await asyncio.gather(*(register(topic, kind) for topic, kind in dict.fromkeys(written)))
        except RegistrationError as error:
            raise SimulationError(str(error)) from None

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

    async def shutdown(self, tasks: Sequence[asyncio.Task[None]]) -> bool:
        """End the story: consumers commit what they processed and leave their groups, producers flush and
        close, within STOP_GRACE_S; False when the cluster did not answer by then (the clients are dropped)."""
        self.stopping.set()
        loop = asyncio.get_running_loop()
        silent = self.in_flight > 0 and time.monotonic() - self.answered >= SILENT_S
        grace = loop.time() + (SILENT_GRACE_S if silent else STOP_GRACE_S)
        answered = True
        try:
            async with asyncio.timeout_at(grace):
                await asyncio.gather(*tasks, return_exceptions=True)
                with contextlib.suppress(KafkaError):
                    await asyncio.gather(*(producer.flush() for producer in self.producers.values()))
        except TimeoutError:
            answered = False
        # Every client is told to stop even past the grace (briefly then): one told is closed for good,
        # and what it still waits for is dropped with the event loop.
        try:
            async with asyncio.timeout_at(max(grace, loop.time() + CLOSE_S)):
                await self.stop_clients()
        except TimeoutError:
            answered = False
        return answered

    def lost(self) -> str:
        """The sentence for a cluster that stopped answering before the run ended."""
        produced = sum(self.stats.produced.values())
        silent = time.monotonic() - self.answered
        return f"{lost_sentence(self.label, silent)} ({produced} records acknowledged before)"

    async def stop_clients(self) -> None:
        clients: list[AIOKafkaProducer | AIOKafkaConsumer] = [consumer for _, consumer in self.consumers]
        clients += self.producers.values()
        results = await asyncio.gather(*(client.stop() for client in clients), return_exceptions=True)
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
            self.in_flight -= 1
            if future.cancelled() or future.exception() is not None:
                self.stats.failed += 1
            else:
                self.stats.produced[topic] = self.stats.produced.get(topic, 0) + 1
                self.answered = time.monotonic()

        return done

    async def send(self, service: str, topic: str, record_type: str, key: bytes | None) -> None:
        if key is None:
            self.order += 1
            key = f"o-{self.order}".encode()
        order = key.decode("utf-8", "replace")
        headers: list[tuple[str, bytes]] | None
        if self.format == "cloudevents":
            value = self.template.value(record_type, self.rng, order)
            headers = cloudevents_headers(service, record_type)
        else:
            # The type travels in the schema alone: no headers, as on most production clusters.
            schema, schema_id = self.schemas[topic, record_type]
            value = schema.wire(schema_id, self.template.record(record_type, self.rng, order))
            headers = None
        try:
            future = await self.producers[service].send(topic, value, key=key, headers=headers)
        except KafkaError:
            self.stats.failed += 1
            return
        self.in_flight += 1
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
        self.answered = time.monotonic()
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
    fmt: SimulateFormat = "cloudevents",
    registry: RegistrySettings | None = None,
) -> SimulationStats:
    """Run ``spec`` against the cluster at ``bootstrap`` for ``duration`` seconds once the clients are up
    (connecting has timeouts of its own), or until ``stop_event`` is set; then every consumer commits what
    it processed and leaves its group, and every producer flushes, within :data:`STOP_GRACE_S`.
    ``client_options`` go to every aiokafka client (security_protocol, sasl_*, ssl_context). ``fmt`` other
    than ``cloudevents`` writes records in a schema registry's wire format, registering the scenario's
    schemas in ``registry`` first (required then). Raises :class:`SimulationError` when the cluster or the
    registry cannot be used, or when the cluster stopped answering (then the run still ends on time).
    """
    if rate <= 0:
        raise ValueError("rate must be positive")
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    if fmt != "cloudevents" and registry is None:
        raise ValueError(f"format {fmt} needs a schema registry")
    sim = _Simulation(bootstrap, spec, rate, client_options or {}, seed, fmt, registry)
    stop_event = stop_event or asyncio.Event()
    tasks: list[asyncio.Task[None]] = []
    answered = True
    try:
        if await sim.connect(stop_event):
            sim.started = time.monotonic()
            ends = None if duration is None else sim.started + duration
            tasks.append(asyncio.create_task(sim.emit(), name="simulate-emit"))
            tasks += [
                asyncio.create_task(sim.consume(group, consumer), name=f"simulate-{group.group}")
                for group, consumer in sim.consumers
            ]
            while True:
                left = None if ends is None else ends - time.monotonic()
                if await _wait(stop_event, progress_every if left is None else min(progress_every, left)):
                    break
                if ends is not None and time.monotonic() >= ends:
                    break
                failed = [task for task in tasks if task.done() and task.exception() is not None]
                if failed:
                    raise SimulationError(f"the simulation stopped: {failed[0].exception()}")
                if progress is not None:
                    sim.stats.elapsed_s = sim.elapsed()
                    progress(sim.stats)
    finally:
        answered = await sim.shutdown(tasks)
    sim.stats.elapsed_s = sim.elapsed()
    if not answered:
        raise SimulationError(sim.lost())
    return sim.stats
