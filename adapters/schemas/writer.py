"""Schemas for simulated records, and records written in a schema registry's wire format (the reverse of codecs).

Pure: no I/O. :func:`record_schema` makes one schema per record type, named by the record type (an Avro record
``DispatchProduct`` with no namespace, a Protobuf ``message DispatchProduct``, a JSON Schema titled
``DispatchProduct``), so a reader that decodes through the registry names the type exactly as the CloudEvents
``ce_type`` header would. Every field is a string or an integer. :meth:`RecordSchema.wire` encodes one record
in the Confluent wire format: magic byte 0, the schema id as 4 big-endian bytes, for Protobuf the message
indexes (a single 0 byte: the first message of the file), then the payload.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from adapters.schemas.codecs import MAGIC

WriteFormat = Literal["avro", "protobuf", "json-schema"]
WRITE_FORMATS: tuple[WriteFormat, ...] = ("avro", "protobuf", "json-schema")
FieldKind = Literal["string", "int"]
Value = str | int

REGISTRY_TYPES: dict[WriteFormat, str] = {"avro": "AVRO", "protobuf": "PROTOBUF", "json-schema": "JSON"}
"""The ``schemaType`` a Confluent-compatible registry expects for each format."""

FIRST_MESSAGE = b"\x00"
"""Protobuf message indexes for the first message of the file: a count of zero stands for ``[0]``."""


@dataclass(frozen=True, slots=True)
class RecordSchema:
    """One record type's schema in one format: its text for the registry, and an encoder for its records."""

    format: WriteFormat
    record_type: str
    fields: tuple[tuple[str, FieldKind], ...]
    text: str
    """The schema as the registry stores it (Avro / JSON Schema JSON, or ``.proto`` source)."""
    encode: Callable[[Mapping[str, Value]], bytes]
    """The payload for one record (without the wire-format prefix)."""

    @property
    def registry_type(self) -> str:
        return REGISTRY_TYPES[self.format]

    def wire(self, schema_id: int, record: Mapping[str, Value]) -> bytes:
        """One record in the Confluent wire format under ``schema_id``."""
        indexes = FIRST_MESSAGE if self.format == "protobuf" else b""
        return bytes([MAGIC]) + schema_id.to_bytes(4, "big") + indexes + self.encode(record)


def record_schema(fmt: WriteFormat, record_type: str, fields: Sequence[tuple[str, FieldKind]]) -> RecordSchema:
    """The schema of ``record_type`` (a valid identifier) with these fields, in ``fmt``."""
    if not record_type.isidentifier() or not all(name.isidentifier() for name, _ in fields):
        raise ValueError(f"record type {record_type!r} and its fields must be identifiers")
    fields = tuple(fields)
    if fmt == "avro":
        return _avro(record_type, fields)
    if fmt == "protobuf":
        return _protobuf(record_type, fields)
    return _json_schema(record_type, fields)


def _avro(record_type: str, fields: tuple[tuple[str, FieldKind], ...]) -> RecordSchema:
    import fastavro

    # No namespace: the full name is the record type itself, as a ce_type header would carry it.
    schema = {
        "type": "record",
        "name": record_type,
        "fields": [{"name": name, "type": "string" if kind == "string" else "int"} for name, kind in fields],
    }
    parsed = fastavro.parse_schema(schema)

    def encode(record: Mapping[str, Value]) -> bytes:
        out = io.BytesIO()
        fastavro.schemaless_writer(out, parsed, dict(record))
        return out.getvalue()

    return RecordSchema("avro", record_type, fields, json.dumps(schema), encode)


def _protobuf(record_type: str, fields: tuple[tuple[str, FieldKind], ...]) -> RecordSchema:
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    # The message class is built at run time from a descriptor made here (no protoc, no generated code);
    # the registry gets the same message as .proto source, which is what a reader compiles.
    field_proto = descriptor_pb2.FieldDescriptorProto
    file = descriptor_pb2.FileDescriptorProto(name=f"{record_type}.proto", syntax="proto3")
    message = file.message_type.add(name=record_type)
    lines = ['syntax = "proto3";', "", f"message {record_type} {{"]
    for number, (name, kind) in enumerate(fields, start=1):
        scalar = field_proto.TYPE_STRING if kind == "string" else field_proto.TYPE_INT32
        message.field.add(name=name, number=number, type=scalar, label=field_proto.LABEL_OPTIONAL)
        lines.append(f"  {'string' if kind == 'string' else 'int32'} {name} = {number};")
    lines += ["}", ""]
    pool = descriptor_pool.DescriptorPool()  # a pool of its own: the same type name in several formats is fine
    pool.Add(file)
    cls: Any = message_factory.GetMessageClass(pool.FindMessageTypeByName(record_type))

    def encode(record: Mapping[str, Value]) -> bytes:
        data: bytes = cls(**record).SerializeToString()
        return data

    return RecordSchema("protobuf", record_type, fields, "\n".join(lines), encode)


def _json_schema(record_type: str, fields: tuple[tuple[str, FieldKind], ...]) -> RecordSchema:
    schema = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": record_type,
        "type": "object",
        "properties": {name: {"type": "string" if kind == "string" else "integer"} for name, kind in fields},
        "required": [name for name, _ in fields],
        "additionalProperties": False,
    }

    def encode(record: Mapping[str, Value]) -> bytes:
        return json.dumps(dict(record), separators=(",", ":"), ensure_ascii=False).encode()

    return RecordSchema("json-schema", record_type, fields, json.dumps(schema), encode)
