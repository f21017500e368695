"""`simulate --format avro|protobuf|json-schema` against the real broker and a real schema registry.

Both shops run at once in each format, on topics and groups of their own (a suffix per run: the types the
live view names can then come only from this run's schemas, not from CloudEvents records other tests left on
the shared broker). The read-only live source, decoding through the registry, must tell the story as it does
with CloudEvents headers: three command topics with the record type named among the reasons, an event topic
with three audiences, and not one ``ce_*`` header on the sampled records.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import urllib.request
import uuid
from dataclasses import replace

import pytest

from adapters.kafka.sampler import SamplerOptions
from adapters.kafka.source import LiveSource
from adapters.scenarios.simulate import SimulationStats, simulate
from adapters.scenarios.specs import ScenarioSpec, TopicSpec, shop_commands, shop_events
from adapters.schemas.decoder import SchemaDecoder
from adapters.schemas.registry import ConfluentRegistry, RegistrySettings
from flow.observations import RecordObs
from flow.snapshot import FlowSnapshot
from tests.conftest import ROOT
from tests.live_helpers import Collector, flowscope, run_until, settings_for, stop
from tests.waiting import wait_until_async

pytestmark = pytest.mark.kafka

COMMANDS = {"warehouse": "DispatchProduct", "send-email": "SendEmail", "send-text": "SendText"}
AUDIENCES = {"warehouse", "notifications", "sales"}


def suffixed(spec: ScenarioSpec, tag: str) -> ScenarioSpec:
    """The scenario with every topic and group renamed ``NAME-tag`` (services keep their names)."""

    def name(topic: str) -> str:
        return f"{topic}-{tag}"

    return replace(
        spec,
        topics=tuple(TopicSpec(name(t.name), t.partitions) for t in spec.topics),
        emitters=tuple(replace(e, topic=name(e.topic)) for e in spec.emitters),
        reactions=tuple(replace(r, trigger=name(r.trigger), topic=name(r.topic)) for r in spec.reactions),
        groups=tuple(replace(g, group=name(g.group), topics=tuple(map(name, g.topics))) for g in spec.groups),
    )


def subjects(registry: str) -> set[str]:
    with urllib.request.urlopen(f"{registry}/subjects", timeout=10) as answer:
        return set(json.load(answer))


def typed_reason(record_type: str) -> str:
    return f"its records are typed `{record_type}`"


def story_told(snapshot: FlowSnapshot, records: list[RecordObs], tag: str) -> bool:
    """Every command topic classified with its type among the reasons, `orders` an event with three audiences,
    and decoded records sampled from each topic."""
    topics = {topic.name: topic for topic in snapshot.topics}
    for base, record_type in COMMANDS.items():
        topic = topics.get(f"{base}-{tag}")
        if topic is None or topic.kind != "command":
            return False
        if not any(typed_reason(record_type) in reason for reason in topic.classification.reasons):
            return False
    orders = topics.get(f"orders-{tag}")
    if orders is None or orders.kind != "event" or set(orders.groups) != {f"{g}-{tag}" for g in AUDIENCES}:
        return False
    if "Order" not in orders.record_types:
        return False
    decoded = {r.topic for r in records if r.value_schema is not None and r.value_schema.record_type}
    return {f"{base}-{tag}" for base in (*COMMANDS, "orders", "shipments")} <= decoded


@pytest.mark.parametrize("fmt", ["avro", "protobuf", "json-schema"])
async def test_both_shops_in_a_schema_format_are_classified_from_the_schemas_alone(kafka, schema_registry, fmt):
    tag = f"{fmt}-{uuid.uuid4().hex[:6]}"
    specs = (suffixed(shop_commands(), tag), suffixed(shop_events(), tag))
    registry = RegistrySettings(schema_registry, timeout=5)
    stopping, stats = asyncio.Event(), {}

    def progress(latest: SimulationStats) -> None:
        stats[latest.scenario] = latest

    runs = [
        asyncio.create_task(
            simulate(
                kafka.bootstrap, spec, 3, 40, stopping, seed=5, progress=progress, progress_every=0.1,
                fmt=fmt, registry=registry,
            )
        )
        for spec in specs
    ]  # fmt: skip
    source = LiveSource(
        settings_for(kafka.bootstrap),
        interval=1.0,
        sampler=SamplerOptions(payloads="preview", per_topic_per_second=10),
        schemas=SchemaDecoder(ConfluentRegistry(registry)),
    )
    sink = Collector()

    def mine() -> list[RecordObs]:
        return [obs for obs in sink.of_kind("record") if obs.topic.endswith(f"-{tag}")]

    def flowing() -> bool:
        for run in runs:
            if run.done():
                run.result()  # a SimulationError says why
                raise AssertionError("a simulation ended early")
        return all(
            spec.name in stats and stats[spec.name].consumed.get(group.group) for spec in specs for group in spec.groups
        )

    try:
        await wait_until_async(flowing, "every group of both shops to read records", timeout=60)
        told = lambda: source.refreshes >= 2 and story_told(sink.model.snapshot(), mine(), tag)  # noqa: E731
        await stop(await run_until(source, sink, told, timeout=60, what=f"the live source to tell the {fmt} story"))
    finally:
        stopping.set()
        await asyncio.gather(*runs, return_exceptions=True)

    # One subject per topic and record type (TopicRecordNameStrategy), named by the type.
    written = {(e.topic, e.record_type) for spec in specs for e in spec.emitters}
    written |= {(r.topic, r.record_type) for spec in specs for r in spec.reactions}
    assert {f"{topic}-{record_type}" for topic, record_type in written} <= subjects(schema_registry)

    records = mine()
    assert records
    expected_types = dict(written)
    for record in records:
        # No CloudEvents headers at all: the type comes from the schema alone.
        assert not any(name.startswith("ce_") for name, _ in record.headers), record.headers
        schema = record.value_schema
        assert schema is not None and schema.error is None, (record.topic, schema)
        assert schema.format == ("json" if fmt == "json-schema" else fmt)
        assert schema.record_type == expected_types[record.topic]
        assert schema.subject == f"{record.topic}-{schema.record_type}"
    dispatch = next(r for r in records if r.topic == f"warehouse-{tag}")
    value = json.loads(str(dispatch.value))
    assert set(value) == {"order", "sku", "n"} and value["order"].startswith("o-") and value["n"] in (1, 2, 3)

    snapshot = sink.model.snapshot()
    topics = {topic.name: topic for topic in snapshot.topics}
    for base, record_type in COMMANDS.items():
        topic = topics[f"{base}-{tag}"]
        assert topic.kind == "command", (base, topic.classification)
        assert topic.record_types == (record_type,)
    orders = topics[f"orders-{tag}"]
    assert orders.kind == "event" and orders.record_types == ("Order",)
    assert set(orders.groups) == {f"{g}-{tag}" for g in AUDIENCES}


def test_the_command_line_simulates_protobuf_and_report_classifies_it(kafka, schema_registry):
    # The shop's own topic names, as a user would run it; report reads while simulate writes.
    process = subprocess.Popen(
        [sys.executable, "-m", "tui.cli", "simulate", "-b", kafka.bootstrap, "--format", "protobuf",
         "--schema-registry", schema_registry, "--duration", "15", "--rate", "3", "--quiet"],
        cwd=ROOT, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        assert process.stderr is not None
        first = process.stderr.readline()
        assert "as protobuf (schemas registered in" in first, first
        code, out, err, _ = flowscope(
            "report", "-b", kafka.bootstrap, "--schema-registry", schema_registry, "--format", "json",
            "--duration", "6", timeout=120,
        )  # fmt: skip
        assert code == 0, err
        process.terminate()  # SIGTERM stops simulate cleanly, like Ctrl+C
        assert process.wait(timeout=60) == 0, process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert {"warehouse-DispatchProduct", "send-email-SendEmail", "send-text-SendText"} <= subjects(schema_registry)
    topics = {topic["name"]: topic for topic in json.loads(out)["topics"]}
    for name, record_type in COMMANDS.items():
        assert topics[name]["kind"] == "command", topics[name]
        assert record_type in topics[name]["record_types"]
        assert any(typed_reason(record_type) in reason for reason in topics[name]["reasons"]), topics[name]
