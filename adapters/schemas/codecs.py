"""The Confluent wire format and the three schema formats: parse a registry's schema, decode a payload with it.

Wire format: magic byte 0, the schema id as 4 big-endian bytes, then the payload; a Protobuf payload starts
with the message indexes (a zigzag-varint count, then that many zigzag-varint indexes; a lone 0 stands for
the first message of the file). Nothing here does I/O except compiling a ``.proto``: that runs Google's
``protoc`` (from ``grpcio-tools``) in a subprocess, so a hostile schema can neither crash nor write to the
terminal, and it is bounded by a timeout.

Everything a schema says is untrusted: names are cut to ``NAME_CHARS``, schema text beyond
``SCHEMA_CHARS`` is refused, and decoded values become JSON text through a walker bounded in depth and
size (a recursive Avro type or a deep JSON document cannot exhaust the stack of the UI's process).
"""

from __future__ import annotations

import asyncio
import base64
import datetime
import decimal
import io
import json
import math
import os
import sys
import tempfile
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flow.observations import SchemaFormat

MAGIC = 0
SCHEMA_CHARS = 256 * 1024
"""Longer schemas are refused: no real record type needs more, and parsing it would cost the UI."""
NAME_CHARS = 200
MAX_DEPTH = 32
"""Decoded values nested deeper are shown as ``…``."""
MAX_INDEXES = 16
PROTOC_TIMEOUT = 10.0


class SchemaError(Exception):
    """A schema that cannot be used; the message is shown on the records that name it."""


class MismatchError(Exception):
    """A payload that does not match its schema."""


def split_wire(data: bytes | None) -> tuple[int, memoryview] | None:
    """``(schema id, payload)`` when ``data`` is in the Confluent wire format, else None."""
    if data is None or len(data) < 5 or data[0] != MAGIC:
        return None
    return int.from_bytes(data[1:5], "big"), memoryview(data)[5:]


def _zigzag_varint(data: memoryview, pos: int) -> tuple[int, int]:
    shift = 0
    value = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise MismatchError("truncated message indexes")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            break
    return (value >> 1) ^ -(value & 1), pos


def protobuf_indexes(payload: memoryview) -> tuple[tuple[int, ...], memoryview]:
    """The message indexes at the start of a Protobuf payload, and the message bytes after them."""
    count, pos = _zigzag_varint(payload, 0)
    if count == 0:
        return (0,), payload[pos:]
    if count < 0 or count > MAX_INDEXES:
        raise MismatchError("implausible message indexes")
    indexes = []
    for _ in range(count):
        index, pos = _zigzag_varint(payload, pos)
        if index < 0:
            raise MismatchError("negative message index")
        indexes.append(index)
    return tuple(indexes), payload[pos:]


def short_name(name: str) -> str:
    return name if len(name) <= NAME_CHARS else name[:NAME_CHARS] + "…"


# -- bounded JSON text ------------------------------------------------------------------------------------


class _Full(Exception):
    pass


def to_json_text(value: Any, limit: int) -> str:
    """Compact JSON of a decoded value, at most about ``limit`` characters (then ``…``), depth-bounded."""
    out = io.StringIO()
    budget = [limit]

    def put(text: str) -> None:
        budget[0] -= len(text)
        if budget[0] < 0:
            out.write(text[: len(text) + budget[0]])
            raise _Full
        out.write(text)

    def walk(item: Any, depth: int) -> None:
        if depth > MAX_DEPTH:
            put('"…"')
        elif item is None or isinstance(item, bool | str):
            put(json.dumps(item, ensure_ascii=False))
        elif isinstance(item, int):
            put(str(item))
        elif isinstance(item, float):
            put(json.dumps(item) if math.isfinite(item) else json.dumps(str(item)))
        elif isinstance(item, bytes | bytearray | memoryview):
            put(json.dumps("base64:" + base64.b64encode(bytes(item)[:limit]).decode("ascii")))
        elif isinstance(item, Mapping):
            put("{")
            for i, (key, inner) in enumerate(item.items()):
                put(("," if i else "") + json.dumps(str(key), ensure_ascii=False) + ":")
                walk(inner, depth + 1)
            put("}")
        elif isinstance(item, list | tuple):
            put("[")
            for i, inner in enumerate(item):
                if i:
                    put(",")
                walk(inner, depth + 1)
            put("]")
        elif isinstance(item, decimal.Decimal | uuid.UUID | datetime.date | datetime.time | datetime.datetime):
            put(json.dumps(str(item)))
        else:
            put(json.dumps(repr(item)[:NAME_CHARS], ensure_ascii=False))

    try:
        walk(value, 0)
    except _Full:
        return out.getvalue() + "…"
    return out.getvalue()


# -- parsed schemas ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Parsed:
    """A schema ready to decode with: its format, its record type name (None when it has none) and the
    format's own parsed form."""

    format: SchemaFormat
    record_type: str | None
    parsed: Any

    def type_for(self, payload: memoryview) -> str | None:
        """The record type of one payload (Protobuf: from its message indexes)."""
        if self.format != "protobuf":
            return self.record_type
        indexes, _ = protobuf_indexes(payload)
        return short_name(_message(self.parsed, indexes).full_name)

    def decode(self, payload: memoryview) -> Any:
        """The payload as plain Python values; MismatchError when it does not fit the schema."""
        try:
            if self.format == "avro":
                return _decode_avro(self.parsed, payload)
            if self.format == "protobuf":
                return _decode_protobuf(self.parsed, payload)
            return _decode_json(self.parsed, payload)
        except MismatchError:
            raise
        except (Exception, RecursionError) as error:  # every decoder has its own errors for bad bytes
            raise MismatchError(type(error).__name__) from None


def parse_avro(text: str) -> Parsed:
    import fastavro

    try:
        schema = json.loads(text)
        parsed = fastavro.parse_schema(schema)
    except (ValueError, TypeError, KeyError, RecursionError, fastavro.schema.SchemaParseException) as error:
        raise SchemaError(f"not a usable Avro schema ({type(error).__name__})") from None
    name = parsed.get("name") if isinstance(parsed, dict) else None
    return Parsed("avro", short_name(name) if isinstance(name, str) else None, (parsed, _refers_by_name(parsed)))


_AVRO_PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})


def _refers_by_name(schema: Any, depth: int = 0) -> bool:
    """Whether an Avro schema uses a named type by its name (so it may be recursive)."""
    if depth > 200:
        return True
    if isinstance(schema, str):
        return schema not in _AVRO_PRIMITIVES
    if isinstance(schema, list):
        return any(_refers_by_name(item, depth + 1) for item in schema)
    if isinstance(schema, dict):
        kind = schema.get("type")
        if kind == "record" or kind == "error":
            return any(_refers_by_name(f.get("type"), depth + 1) for f in schema.get("fields", ()))
        if kind == "array":
            return _refers_by_name(schema.get("items"), depth + 1)
        if kind == "map":
            return _refers_by_name(schema.get("values"), depth + 1)
        if kind in ("enum", "fixed"):
            return False
        return _refers_by_name(kind, depth + 1)
    return False


def _decode_avro(parsed: Any, payload: memoryview) -> Any:
    import fastavro
    import fastavro._read_py

    schema, by_name = parsed
    stream = io.BytesIO(payload)
    # fastavro's compiled reader recurses on the C stack: a recursive type with a deeply nested payload
    # crashes the process. Schemas that refer to a type by name use the pure-Python reader, which stops
    # at Python's recursion limit with a RecursionError instead.
    reader = fastavro._read_py.schemaless_reader if by_name else fastavro.schemaless_reader
    value = reader(stream, schema, None)
    if stream.tell() != len(payload):
        raise MismatchError("bytes left over")
    return value


def parse_json_schema(text: str) -> Parsed:
    try:
        schema = json.loads(text)
    except (ValueError, RecursionError):
        raise SchemaError("not a usable JSON Schema (not JSON)") from None
    if not isinstance(schema, dict | bool):
        raise SchemaError("not a usable JSON Schema (neither object nor boolean)")
    title = schema.get("title") if isinstance(schema, dict) else None
    return Parsed("json", short_name(title) if isinstance(title, str) and title else None, schema)


_JSON_TYPES: dict[str, Any] = {
    "object": dict,
    "array": list,
    "string": str,
    "boolean": bool,
    "null": type(None),
}


def _decode_json(schema: Any, payload: memoryview) -> Any:
    try:
        value = json.loads(bytes(payload).decode("utf-8"))
    except (ValueError, RecursionError):
        raise MismatchError("not JSON") from None
    # Light validation: the top-level type and the required properties; enough to tell a record from
    # another schema's, without a validator's cost on every sampled record.
    if isinstance(schema, dict):
        kind = schema.get("type")
        kinds = [kind] if isinstance(kind, str) else kind if isinstance(kind, list) else []
        if kinds and not any(_json_type_ok(value, k) for k in kinds if isinstance(k, str)):
            raise MismatchError("wrong type")
        required = schema.get("required")
        missing = (
            isinstance(value, dict)
            and isinstance(required, list)
            and any(isinstance(r, str) and r not in value for r in required)
        )
        if missing:
            raise MismatchError("missing a required property")
    return value


def _json_type_ok(value: Any, kind: str) -> bool:
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    expected = _JSON_TYPES.get(kind)
    return expected is None or (isinstance(value, expected) and not (expected is not bool and isinstance(value, bool)))


async def parse_protobuf(text: str, references: Mapping[str, str]) -> Parsed:
    """Compile a ``.proto`` (and the files it imports, given by name) with protoc in a subprocess."""
    from google.protobuf import descriptor_pb2, descriptor_pool

    try:
        import grpc_tools
    except ImportError:
        raise SchemaError("Protobuf schemas need grpcio-tools") from None
    includes = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
    with tempfile.TemporaryDirectory(prefix="flowscope-proto-") as workdir:
        main = "flowscope_schema.proto"
        files = {**references, main: text}
        for name, body in files.items():
            path = os.path.normpath(os.path.join(workdir, name))
            if not path.startswith(workdir + os.sep):
                raise SchemaError("a schema reference has an unsafe name")
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(body)
        out = os.path.join(workdir, "out.pb")
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            f"-I{workdir}",
            f"-I{includes}",
            f"--descriptor_set_out={out}",
            "--include_imports",
            os.path.join(workdir, main),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        try:
            code = await asyncio.wait_for(process.wait(), PROTOC_TIMEOUT)
        except TimeoutError:
            process.kill()
            await process.wait()
            raise SchemaError("compiling the Protobuf schema took too long") from None
        if code != 0:
            raise SchemaError("not a usable Protobuf schema (protoc refused it)")
        with open(out, "rb") as fh:
            files_set = descriptor_pb2.FileDescriptorSet.FromString(fh.read())
    pool = descriptor_pool.DescriptorPool()
    try:
        for proto in files_set.file:
            pool.Add(proto)
        file = pool.FindFileByName(main)
    except Exception as error:  # protobuf's own descriptor errors
        raise SchemaError(f"not a usable Protobuf schema ({type(error).__name__})") from None
    if not file.message_types_by_name:
        raise SchemaError("the Protobuf schema defines no message")
    first = next(iter(file.message_types_by_name.values()))
    return Parsed("protobuf", short_name(first.full_name), file)


def _message(file: Any, indexes: tuple[int, ...]) -> Any:
    """The message the indexes point at: the first into the file's messages, the rest into nested ones."""
    messages = list(file.message_types_by_name.values())
    descriptor = None
    for index in indexes:
        if index >= len(messages):
            raise MismatchError("message index out of range")
        descriptor = messages[index]
        messages = list(descriptor.nested_types)
    return descriptor


def _decode_protobuf(file: Any, payload: memoryview) -> Any:
    from google.protobuf import json_format, message_factory

    indexes, rest = protobuf_indexes(payload)
    cls = message_factory.GetMessageClass(_message(file, indexes))
    message = cls.FromString(bytes(rest))
    return json_format.MessageToDict(message, preserving_proto_field_name=True)
