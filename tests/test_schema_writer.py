"""The schemas simulate registers and the wire format it writes, read back by flowscope's own decoders."""

from __future__ import annotations

import random

import pytest

from adapters.scenarios.simulate import _Template
from adapters.scenarios.specs import SHOP_VALUES
from adapters.schemas.codecs import parse_avro, parse_json_schema, parse_protobuf, split_wire
from adapters.schemas.writer import record_schema


async def parsed_for(fmt: str, text: str):  # type: ignore[no-untyped-def]
    if fmt == "avro":
        return parse_avro(text)
    if fmt == "protobuf":
        return await parse_protobuf(text, {})
    return parse_json_schema(text)


@pytest.mark.parametrize("fmt", ["avro", "protobuf", "json-schema"])
async def test_a_written_record_decodes_to_its_type_and_fields(fmt):
    template = _Template(SHOP_VALUES)
    fields = template.fields("DispatchProduct")
    assert fields == (("order", "string"), ("sku", "string"), ("n", "int"))
    schema = record_schema(fmt, "DispatchProduct", fields)
    record = template.record("DispatchProduct", random.Random(1), "o-10001")
    data = schema.wire(42, record)
    assert data[:5] == b"\x00\x00\x00\x00\x2a"
    if fmt == "protobuf":
        assert data[5:6] == b"\x00"  # the message indexes: the first message of the file
    wire = split_wire(data)
    assert wire is not None and wire[0] == 42
    parsed = await parsed_for(fmt, schema.text)
    assert parsed.type_for(wire[1]) == "DispatchProduct"
    assert parsed.decode(wire[1]) == record


def test_a_type_without_a_template_gets_id_and_type_fields():
    template = _Template(SHOP_VALUES)
    assert template.fields("Refund") == (("id", "string"), ("type", "string"))
    assert template.record("Refund", random.Random(1), "o-1") == {"id": "o-1", "type": "Refund"}
    assert [name for name, _ in template.fields("SendText")] == ["n", "order"]


def test_one_seed_draws_the_same_values_in_every_format():
    template = _Template(SHOP_VALUES)
    json_value = template.value("DispatchProduct", random.Random(7), "o-1")
    record = template.record("DispatchProduct", random.Random(7), "o-1")
    assert f'"sku":"{record["sku"]}","quantity":{record["n"]}'.encode() in json_value


def test_record_types_must_be_identifiers():
    with pytest.raises(ValueError, match="identifiers"):
        record_schema("protobuf", "dispatch product", ())
