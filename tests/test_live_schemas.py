"""Schema-registry decoding against the real broker and a real registry (scripts/local-schema-registry).

The test registers schemas itself (POST); flowscope only reads (GET), which a recording proxy between
flowscope and the registry checks. Records are produced in the Confluent wire format with fastavro and
protobuf, with no CloudEvents headers: the types come from the schemas alone.
"""

from __future__ import annotations

import http.server
import io
import json
import struct
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import fastavro
import pytest
from aiokafka import AIOKafkaProducer

from adapters.files.open import open_file
from adapters.files.recorder import live_recorder
from adapters.kafka.sampler import SamplerOptions
from adapters.kafka.source import LiveSource
from adapters.schemas.decoder import SchemaDecoder
from adapters.schemas.registry import ConfluentRegistry, RegistrySettings
from flow.model import FlowModel
from flow.observations import RecordObs
from tests.live_helpers import Collector, create_topics, run_until, settings_for, stop, unique

pytestmark = pytest.mark.kafka

AVRO = {
    "type": "record",
    "name": "DispatchProduct",
    "namespace": "shop",
    "fields": [{"name": "order", "type": "string"}, {"name": "sku", "type": "string"}],
}
PROTO = """syntax = "proto3";
package shop;
message OrderPlaced { string order = 1; int32 lines = 2; }
"""
JSON_SCHEMA = {"title": "SendEmail", "type": "object", "required": ["to"], "properties": {"to": {"type": "string"}}}


def register(registry: str, subject: str, schema: str, kind: str) -> int:
    body = json.dumps({"schema": schema, "schemaType": kind}).encode()
    request = urllib.request.Request(
        f"{registry}/subjects/{subject}/versions",
        data=body,
        method="POST",
        headers={"Content-Type": "application/vnd.schemaregistry.v1+json"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return int(json.load(answer)["id"])


def wire(schema_id: int, payload: bytes, indexes: bytes = b"") -> bytes:
    return b"\x00" + struct.pack(">I", schema_id) + indexes + payload


class AuditingProxy:
    """A tiny HTTP proxy in front of the registry that records the method and path of every request."""

    def __init__(self, upstream: str) -> None:
        seen: list[tuple[str, str]] = []
        self.seen = seen

        class Handler(http.server.BaseHTTPRequestHandler):
            def _forward(self) -> None:
                seen.append((self.command, self.path))
                length = int(self.headers.get("Content-Length") or 0)
                data = self.rfile.read(length) if length else None
                base = upstream.split("/apis/", 1)[0]
                request = urllib.request.Request(base + self.path, data=data, method=self.command)
                try:
                    with urllib.request.urlopen(request, timeout=10) as answer:
                        status, body = answer.status, answer.read()
                except urllib.error.HTTPError as error:
                    status, body = error.code, error.read()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _forward

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        path = "/apis/" + upstream.split("/apis/", 1)[1]
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def proxy(schema_registry: str) -> Iterator[AuditingProxy]:
    audit = AuditingProxy(schema_registry)
    yield audit
    audit.close()


async def test_records_are_typed_and_decoded_through_the_registry_with_gets_only(
    kafka, schema_registry, proxy, tmp_path: Path
):
    commands, events, emails = unique("warehouse"), unique("shop-events"), unique("send-email")
    avro_id = register(schema_registry, f"{commands}-value", json.dumps(AVRO), "AVRO")
    proto_id = register(schema_registry, f"{events}-value", PROTO, "PROTOBUF")
    json_id = register(schema_registry, f"{emails}-value", json.dumps(JSON_SCHEMA), "JSON")
    await create_topics(kafka.bootstrap, {commands: 1, events: 1, emails: 1})

    avro_out = io.BytesIO()
    fastavro.schemaless_writer(avro_out, fastavro.parse_schema(AVRO), {"order": "o-1", "sku": "[red]hat"})
    # OrderPlaced{order: "o-2", lines: 3}, the first message of its file (index list "0").
    proto_payload = b"\x0a\x03o-2\x10\x03"
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap)
    await producer.start()
    try:
        for _ in range(3):
            await producer.send_and_wait(commands, wire(avro_id, avro_out.getvalue()), key=b"o-1")
            await producer.send_and_wait(events, wire(proto_id, proto_payload, b"\x00"))
            await producer.send_and_wait(emails, wire(json_id, b'{"to": "ann@example.com"}'))
        await producer.send_and_wait(emails, wire(987_654, b"{}"))  # an id the registry never gave
    finally:
        await producer.stop()

    registry = ConfluentRegistry(RegistrySettings(proxy.url))
    source = LiveSource(
        settings_for(kafka.bootstrap),
        interval=0.5,
        sampler=SamplerOptions(payloads="preview", per_topic_per_second=10),
        schemas=SchemaDecoder(registry),
    )
    sink = Collector()
    recording = tmp_path / "schemas.jsonl"
    recorder = live_recorder(recording, source.settings, payloads="preview")
    wanted = {commands, events, emails}

    def all_sampled() -> bool:
        topics = {obs.topic for obs in sink.of_kind("record") if obs.value_schema is not None}
        return wanted <= topics

    class Tee(Collector):
        def apply(self, obs):  # type: ignore[no-untyped-def]
            recorder.write(obs)
            super().apply(obs)

    sink = Tee()
    task = await run_until(source, sink, all_sampled, timeout=60, what="records of the three topics")
    await stop(task)
    recorder.close()

    records: list[RecordObs] = [obs for obs in sink.of_kind("record") if obs.topic in wanted]
    by_topic = {topic: [r for r in records if r.topic == topic] for topic in wanted}
    avro = by_topic[commands][0]
    assert avro.value_schema is not None and avro.value_schema.record_type == "shop.DispatchProduct"
    assert avro.value_schema.subject == f"{commands}-value" and avro.value_schema.error is None
    assert json.loads(str(avro.value)) == {"order": "o-1", "sku": "[red]hat"}
    proto = by_topic[events][0]
    assert proto.value_schema is not None and proto.value_schema.record_type == "shop.OrderPlaced"
    assert json.loads(str(proto.value)) == {"order": "o-2", "lines": 3}
    typed = [r for r in by_topic[emails] if r.value_schema and r.value_schema.id == json_id]
    assert typed and typed[0].value_schema and typed[0].value_schema.record_type == "SendEmail"
    unknown = [r for r in by_topic[emails] if r.value_schema and r.value_schema.id == 987_654]
    assert unknown and unknown[0].value_schema and unknown[0].value_schema.error == "schema 987654 not found"

    snapshot = sink.model.snapshot()
    assert snapshot.topic(commands).record_types == ("shop.DispatchProduct",)
    assert snapshot.topic(events).record_types == ("shop.OrderPlaced",)
    assert snapshot.topic(emails).record_types == ("SendEmail",)

    # flowscope only read from the registry, and asked for each schema once (the cache holds it).
    methods = {method for method, _ in proxy.seen}
    assert methods == {"GET"}, proxy.seen
    fetched = [path for _, path in proxy.seen if path.endswith(f"/schemas/ids/{avro_id}")]
    assert len(fetched) == 1

    # A replay of the recording names the same types with no registry at all.
    replayed = FlowModel()
    reader = open_file(recording).read()
    try:
        for obs in reader:
            replayed.apply(obs)
    finally:
        reader.close()
    again = replayed.snapshot()
    assert again.topic(commands).record_types == ("shop.DispatchProduct",)
    assert again.topic(events).record_types == ("shop.OrderPlaced",)
    assert again.topic(emails).record_types == ("SendEmail",)
    kept = [obs for obs in again.topic(commands).records if obs.value_schema is not None]
    assert kept and json.loads(str(kept[0].value)) == {"order": "o-1", "sku": "[red]hat"}


async def test_a_registry_that_is_down_marks_records_and_the_view_goes_on(kafka):
    topic = unique("orders-no-registry")
    await create_topics(kafka.bootstrap, {topic: 1})
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topic, wire(1, b"\x02x"))
    finally:
        await producer.stop()
    # A port nothing listens on: the registry is "down".
    registry = ConfluentRegistry(RegistrySettings("http://127.0.0.1:9/apis/ccompat/v7", timeout=0.5))
    source = LiveSource(settings_for(kafka.bootstrap), interval=0.5, schemas=SchemaDecoder(registry))
    sink = Collector()

    def marked() -> bool:
        return any(obs.topic == topic and obs.value_schema is not None for obs in sink.of_kind("record"))

    task = await run_until(source, sink, lambda: marked() and source.refreshes >= 3, timeout=30)
    await stop(task)
    record = next(obs for obs in sink.of_kind("record") if obs.topic == topic)
    assert record.value_schema.error == "registry unreachable"
    assert record.value is not None  # the raw bytes are still shown
    assert source.state == "connected"
