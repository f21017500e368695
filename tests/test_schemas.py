"""Schema decoding without a network: wire format, the three formats, the cache, and every bad input."""

from __future__ import annotations

import io
import json
import struct

import fastavro
import pytest

from adapters.schemas.codecs import protobuf_indexes, split_wire, to_json_text
from adapters.schemas.decoder import SchemaDecoder
from adapters.schemas.registry import RegisteredSchema, RegistryUnreachable, SchemaNotFound, SchemaReference
from flow.model import FlowModel
from flow.observations import RecordObs, SchemaInfo
from flow.sanitize import payload_text

AVRO = {
    "type": "record",
    "name": "DispatchProduct",
    "namespace": "shop",
    "fields": [{"name": "order", "type": "string"}, {"name": "count", "type": "int"}],
}
PROTO = """syntax = "proto3";
package shop;
message Envelope { string id = 1; }
message OrderPlaced { string order = 1; int32 count = 2; message Line { string sku = 1; } repeated Line lines = 3; }
"""
JSON_SCHEMA = {"title": "SendEmail", "type": "object", "required": ["to"], "properties": {"to": {"type": "string"}}}


class FakeRegistry:
    """Answers from a dict; ``down`` makes it unreachable. Counts the calls."""

    label = "fake"

    def __init__(self, schemas: dict[int, RegisteredSchema]) -> None:
        self.schemas = schemas
        self.down = False
        self.calls = 0

    async def schema(self, schema_id: int) -> RegisteredSchema:
        self.calls += 1
        if self.down:
            raise RegistryUnreachable("registry unreachable")
        if schema_id not in self.schemas:
            raise SchemaNotFound(f"schema {schema_id} not found")
        return self.schemas[schema_id]

    async def referenced(self, reference: SchemaReference) -> str:
        raise SchemaNotFound(reference.subject)


def wire(schema_id: int, payload: bytes, indexes: bytes = b"") -> bytes:
    return b"\x00" + struct.pack(">I", schema_id) + indexes + payload


def avro_bytes(record: dict[str, object]) -> bytes:
    out = io.BytesIO()
    fastavro.schemaless_writer(out, fastavro.parse_schema(AVRO), record)
    return out.getvalue()


def registry() -> FakeRegistry:
    return FakeRegistry(
        {
            1: RegisteredSchema(1, "avro", json.dumps(AVRO), subjects=("other-value", "shop-commands-value")),
            2: RegisteredSchema(2, "protobuf", PROTO),
            3: RegisteredSchema(3, "json", json.dumps(JSON_SCHEMA)),
            4: RegisteredSchema(4, "avro", "{" * 100_000),
            5: RegisteredSchema(5, "avro", json.dumps({"type": "record", "name": "Big", "fields": []}) + " " * 300_000),
            6: RegisteredSchema(
                6,
                "avro",
                json.dumps(
                    {
                        "type": "record",
                        "name": "Node",
                        "fields": [{"name": "next", "type": ["null", "Node"]}],
                    }
                ),
            ),
            7: RegisteredSchema(7, "protobuf", "this is [bold]not[/bold] a proto {"),
        }
    )


def test_the_wire_format_is_magic_zero_and_a_big_endian_id() -> None:
    assert split_wire(b"\x00\x00\x00\x01\x02rest") is not None
    assert split_wire(b"\x00\x00\x00\x01\x02rest")[0] == 258  # type: ignore[index]
    assert split_wire(b'{"json": 1}') is None
    assert split_wire(b"\x00\x00") is None
    assert split_wire(None) is None
    assert protobuf_indexes(memoryview(b"\x00rest"))[0] == (0,)
    assert protobuf_indexes(memoryview(b"\x04\x02\x00rest")) == ((1, 0), memoryview(b"rest"))


async def test_avro_protobuf_and_json_schema_are_decoded_and_typed() -> None:
    from google.protobuf import descriptor_pb2  # noqa: F401  (protobuf is a dependency)

    decoder = SchemaDecoder(registry())
    avro = wire(1, avro_bytes({"order": "o-1", "count": 2}))
    proto = wire(2, b"\x0a\x03o-7\x10\x05\x1a\x05\x0a\x03abc", indexes=b"\x02\x02")
    nested = wire(2, b"\x0a\x03xyz", indexes=b"\x04\x02\x00")
    js = wire(3, b'{"to": "ann@example.com"}')
    await decoder.prefetch(i for i in (decoder.schema_id(d) for d in (avro, proto, js)) if i is not None)
    a = decoder.decode(avro, 1024, topic="shop-commands")
    assert a is not None and a.schema == SchemaInfo(
        id=1, format="avro", record_type="shop.DispatchProduct", subject="shop-commands-value"
    )
    assert json.loads(str(a.text)) == {"order": "o-1", "count": 2}
    p = decoder.decode(proto, 1024)
    assert p is not None and p.schema.record_type == "shop.OrderPlaced" and p.schema.error is None
    assert json.loads(str(p.text)) == {"order": "o-7", "count": 5, "lines": [{"sku": "abc"}]}
    n = decoder.decode(nested, 1024)
    assert n is not None and n.schema.record_type == "shop.OrderPlaced.Line"
    j = decoder.decode(js, 1024)
    assert j is not None and j.schema.record_type == "SendEmail"
    assert json.loads(str(j.text)) == {"to": "ann@example.com"}
    # With payloads "none" the type is still named, and nothing is decoded.
    named = decoder.decode(avro, None)
    assert named is not None and named.text is None and named.schema.record_type == "shop.DispatchProduct"
    assert decoder.decode(b"plain text", 1024) is None


async def test_bad_inputs_mark_the_record_and_never_raise() -> None:
    fake = registry()
    decoder = SchemaDecoder(fake)
    await decoder.prefetch([42, 1, 3, 4, 5, 6, 7])
    marks = {
        "unknown id": decoder.decode(wire(42, b"x"), 100),
        "avro mismatch": decoder.decode(wire(1, b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"), 100),
        "leftover": decoder.decode(wire(1, avro_bytes({"order": "o", "count": 1}) + b"junk"), 100),
        "json mismatch": decoder.decode(wire(3, b'{"no": "to"}'), 100),
        "not json": decoder.decode(wire(3, b"\xff\xfe"), 100),
        "deep schema": decoder.decode(wire(4, b""), 100),
        "huge schema": decoder.decode(wire(5, b""), 100),
        "not proto": decoder.decode(wire(7, b""), 100),
    }
    errors = {name: (d.schema.error if d else None) for name, d in marks.items()}
    assert errors["unknown id"] == "schema 42 not found"
    assert errors["avro mismatch"] == "does not match schema 1"
    assert errors["leftover"] == "does not match schema 1"
    assert errors["json mismatch"] == "does not match schema 3"
    assert errors["not json"] == "does not match schema 3"
    assert str(errors["deep schema"]).startswith("schema 4: not a usable Avro schema")
    assert errors["huge schema"] == "schema 5: too large"
    assert "schema 7" in str(errors["not proto"]) and "[bold]" not in str(errors["not proto"])
    # A recursive type decodes a deep payload without blowing the stack: the depth is bounded on display.
    deep = b"\x02" * 5000 + b"\x00"
    recursive = decoder.decode(wire(6, deep), 10_000)
    assert recursive is not None and recursive.schema.record_type == "Node"
    assert recursive.text is None or "…" in str(recursive.text)


async def test_a_registry_that_is_down_is_asked_once_per_interval() -> None:
    now = [0.0]
    fake = registry()
    fake.down = True
    decoder = SchemaDecoder(fake, retry_unreachable=15.0, clock=lambda: now[0])
    for _ in range(5):
        await decoder.prefetch([1])
    assert fake.calls == 1
    marked = decoder.decode(wire(1, b""), 100)
    assert marked is not None and marked.schema.error == "registry unreachable"
    fake.down = False
    now[0] = 16.0
    await decoder.prefetch([1])
    back = decoder.decode(wire(1, avro_bytes({"order": "o", "count": 1})), 100)
    assert back is not None and back.schema.error is None and fake.calls == 2


async def test_the_cache_is_bounded() -> None:
    fake = FakeRegistry({i: RegisteredSchema(i, "json", json.dumps({"title": f"T{i}"})) for i in range(50)})
    decoder = SchemaDecoder(fake, capacity=8)
    for i in range(50):
        await decoder.prefetch([i])
    assert len(decoder._cache) == 8


def test_decoded_text_is_bounded_and_plain() -> None:
    text = to_json_text({"a": "[bold red]x\x1b]2;title\x07", "n": list(range(10_000))}, 200)
    assert len(text) <= 201 and text.endswith("…")
    shown = payload_text(text, 400)
    assert "\x1b" not in shown and "\x07" not in shown


def test_schema_types_name_records_like_a_type_header() -> None:
    model = FlowModel()
    info = SchemaInfo(id=1, format="avro", record_type="shop.DispatchProduct", subject="shop-commands-value")
    model.apply(RecordObs(t=1000, topic="warehouse", partition=0, offset=0, value_schema=info))
    snapshot = model.snapshot()
    topic = next(t for t in snapshot.topics if t.name == "warehouse")
    assert topic.record_types == ("shop.DispatchProduct",)


def test_old_records_without_schemas_still_load() -> None:
    from flow.observations import parse_observation

    old = parse_observation('{"kind": "record", "t": 1, "topic": "a", "partition": 0, "offset": 3}')
    assert isinstance(old, RecordObs) and old.value_schema is None


def test_registry_settings_come_from_the_properties_and_never_show_the_secret() -> None:
    from adapters.kafka.config import resolve_connection
    from adapters.settings import SettingsError

    resolved = resolve_connection(
        bootstrap="127.0.0.1:9092",
        overrides=["basic.auth.credentials.source=USER_INFO", "basic.auth.user.info=ops:s3cret-value"],
        schema_registry="https://registry.example:8081",
        environ={},
    )
    registry = resolved.settings.registry
    assert registry is not None and registry.username == "ops" and registry.password == "s3cret-value"
    assert "s3cret" not in repr(resolved.settings) and "s3cret" not in resolved.settings.describe()
    assert "s3cret-value" in resolved.settings.secrets()  # so a recording masks it should it ever appear
    from_env = resolve_connection(bootstrap="b:9092", environ={"FLOWSCOPE_SCHEMA_REGISTRY": "http://r:8081"})
    assert from_env.settings.registry is not None and from_env.settings.registry.url == "http://r:8081"
    in_url = resolve_connection(bootstrap="b:9092", schema_registry="http://u:pw-in-url@r:8081/x", environ={})
    assert in_url.settings.registry is not None and "pw-in-url" not in in_url.settings.registry.label
    with pytest.raises(SettingsError) as refused:
        resolve_connection(
            bootstrap="b:9092",
            overrides=["basic.auth.credentials.source=USER_INFO", "basic.auth.user.info=no-colon-s3cret"],
            schema_registry="http://r:8081",
            environ={},
        )
    assert "s3cret" not in str(refused.value)


def test_topic_details_show_the_schema_and_its_mark_as_plain_text() -> None:
    from rich.console import Console

    from tui.view.details import topic_details

    model = FlowModel()
    hostile = SchemaInfo(id=42, format="avro", record_type="[bold]Dispatch\x1b]2;x\x07", error="schema 42 not found")
    model.apply(RecordObs(t=1000, topic="warehouse", partition=0, offset=0, value="{}", value_schema=hostile))
    snapshot = model.snapshot()
    console = Console(width=160, record=True, color_system=None)
    console.print(topic_details(snapshot, snapshot.topic("warehouse")))
    shown = console.export_text()
    assert "value schema 42" in shown and "schema 42 not found" in shown
    assert "[bold]Dispatch" in shown and "\x1b" not in shown


def test_topic_details_list_the_subjects_of_the_sampled_records_once_each() -> None:
    from rich.console import Console

    from tui.view.details import topic_details

    model = FlowModel()
    for offset, subject in enumerate(["warehouse-value", "shop.DispatchProduct", "warehouse-value"]):
        schema = SchemaInfo(id=offset + 1, format="avro", record_type="shop.DispatchProduct", subject=subject)
        model.apply(
            RecordObs(t=1000 + offset, topic="warehouse", partition=0, offset=offset, value="{}", value_schema=schema)
        )
    key = SchemaInfo(id=9, format="avro", record_type="shop.OrderId", subject="warehouse-key")
    model.apply(RecordObs(t=2000, topic="warehouse", partition=0, offset=3, key="o-1", value="{}", key_schema=key))
    snapshot = model.snapshot()
    console = Console(width=160, record=True, color_system=None)
    console.print(topic_details(snapshot, snapshot.topic("warehouse")))
    assert "schema subjects: warehouse-value, shop.DispatchProduct, warehouse-key" in console.export_text()
