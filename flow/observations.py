"""Observations: what a source saw at one instant. They are also the lines of a recording.

Every observation carries ``t``, integer UTC milliseconds. A recording is a header line followed by one
observation per line (JSON Lines), in time order. Offsets are arrays indexed by partition number, so a
topic's state folds without per-partition Python loops; they are tuples in memory because the model
keeps windows of them, and the garbage collector stops tracking tuples of plain numbers.

The types are frozen, slotted pydantic dataclasses rather than BaseModels: validated the same way, but
one object each instead of three (no instance dict, no set of the fields given), which matters for the
sampled records the model keeps and for every line a replay validates.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, StrictBool, StrictInt, TypeAdapter, ValidationError
from pydantic.dataclasses import dataclass
from pydantic_core import PydanticSerializationError

from flow.instants import LAST_INSTANT_MS

_SURROGATE = re.compile("[\ud800-\udfff]")

FORMAT_NAME: Literal["flowscope-recording"] = "flowscope-recording"
FORMAT_VERSION = 1
SUPPORTED_VERSIONS: tuple[int, ...] = (1,)


# The ranges every number in a file must fall in, checked here at the edge so the model and the screens
# never meet a time no clock can show or a partition no broker can have. Integers are strict: true,
# 1.0 and "5" are not numbers of anything. Partition numbers are keys; nothing is sized by them.
INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1
Millis = Annotated[StrictInt, Field(ge=0, le=LAST_INSTANT_MS)]
Offset = Annotated[StrictInt, Field(ge=0, le=INT64_MAX)]
Partition = Annotated[StrictInt, Field(ge=0, le=INT32_MAX)]
Count = Annotated[StrictInt, Field(ge=0, le=INT32_MAX)]
Int32 = Annotated[StrictInt, Field(ge=-(2**31), le=INT32_MAX)]
Int64 = Annotated[StrictInt, Field(ge=-(2**63), le=INT64_MAX)]

# Unknown fields are ignored so a recording written by a newer 1.x flowscope still replays here;
# incompatible changes bump FORMAT_VERSION instead.
_CONFIG = ConfigDict(extra="ignore")


@dataclass(frozen=True, slots=True, kw_only=True, config=_CONFIG)
class Blob:
    """Bytes that are not valid UTF-8, kept exactly (base64) so nothing is lost on the way to the screen."""

    b64: str

    @classmethod
    def from_bytes(cls, data: bytes) -> Blob:
        return cls(b64=base64.b64encode(data).decode("ascii"))

    def to_bytes(self) -> bytes:
        return base64.b64decode(self.b64, validate=False)


Payload = str | Blob
"""A key, header value or value: text when it decodes as UTF-8, otherwise a :class:`Blob`."""


def payload_from_bytes(data: bytes | None, limit: int | None = None) -> Payload | None:
    """Turn raw Kafka bytes into a payload, cut to ``limit`` bytes when a limit is given."""
    if data is None:
        return None
    if limit is not None and len(data) > limit:
        data = data[:limit]
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as cut:
            # The cut may split a multi-byte character; drop the partial tail rather than call it binary.
            if cut.start >= len(data) - 3:
                try:
                    return data[: cut.start].decode("utf-8")
                except UnicodeDecodeError:
                    pass
            return Blob.from_bytes(data)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return Blob.from_bytes(data)


@dataclass(frozen=True, slots=True, kw_only=True, config=_CONFIG)
class _Observation:
    t: Millis = Field(description="UTC milliseconds")


@dataclass(frozen=True, slots=True, kw_only=True, config=_CONFIG)
class Broker:
    id: Int32
    host: str
    port: Annotated[StrictInt, Field(ge=0, le=65535)]
    rack: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True, config=_CONFIG)
class ClusterObs(_Observation):
    """The brokers the cluster lists, and ``missing``: brokers named as replicas that it does not list
    (down, or fenced by the controller)."""

    kind: Literal["cluster"] = "cluster"
    cluster_id: str | None = None
    brokers: tuple[Broker, ...] = ()
    controller_id: Int32 | None = None
    missing: tuple[Int32, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True, config=_CONFIG)
class TopicInfo:
    """One topic; ``offline``: partitions without a leader (nothing can be read or written there, and
    their figures are the last ones seen); ``under_replicated``: fewer in-sync replicas than replicas."""

    name: str
    partitions: Count
    internal: StrictBool = False
    offline: tuple[Partition, ...] = ()
    under_replicated: tuple[Partition, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True, config=_CONFIG)
class TopicsObs(_Observation):
    """The full topic list: a topic missing from it no longer exists."""

    kind: Literal["topics"] = "topics"
    topics: tuple[TopicInfo, ...]


@dataclass(frozen=True, slots=True, kw_only=True, config=_CONFIG)
class EndOffsetsObs(_Observation):
    """Log-end offsets of one or more topics, one list per topic indexed by partition."""

    kind: Literal["end_offsets"] = "end_offsets"
    offsets: dict[str, tuple[Offset, ...]]


@dataclass(frozen=True, slots=True, kw_only=True, config=_CONFIG)
class Member:
    member_id: str
    client_id: str = ""
    host: str = ""
    assigned: dict[str, tuple[Partition, ...]] = Field(default_factory=dict)
    subscribed: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True, config=_CONFIG)
class GroupObs(_Observation):
    """One consumer group as described by the broker; state ``Dead`` means it is gone."""

    kind: Literal["group"] = "group"
    group: str
    state: str
    protocol: str = "classic"
    protocol_type: str = "consumer"
    assignor: str = ""
    members: tuple[Member, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True, config=_CONFIG)
class CommitsObs(_Observation):
    """Committed offsets of one group, per topic indexed by partition (``null``: nothing committed)."""

    kind: Literal["commits"] = "commits"
    group: str
    offsets: dict[str, tuple[Offset | None, ...]]


ProducerState = tuple[Int64, Int32, Int32, Int64]
"""One producer on one partition as DescribeProducers reports it: (producer id, epoch, last sequence,
last timestamp), -1 where unknown. An array in recordings: there can be thousands per refresh."""


@dataclass(frozen=True, slots=True, kw_only=True, config=_CONFIG)
class ProducersObs(_Observation):
    """Active idempotent or transactional producers per partition of one topic (DescribeProducers)."""

    kind: Literal["producers"] = "producers"
    topic: str
    partitions: dict[Partition, tuple[ProducerState, ...]]
    transactional_ids: dict[Partition, str] = Field(default_factory=dict)


SchemaFormat = Literal["avro", "protobuf", "json"]


@dataclass(frozen=True, slots=True, kw_only=True, config=_CONFIG)
class SchemaInfo:
    """What a schema registry told about a key or value in its wire format (magic byte 0, schema id).

    Recorded with the record, so a replay names record types without a registry. ``error`` says why the
    bytes were not decoded ("schema 42 not found", "registry unreachable", "does not match schema 42");
    the other fields hold what was learnt all the same.
    """

    id: Int32
    format: SchemaFormat | None = None
    record_type: str | None = None
    """The Avro full name, the Protobuf message name or the JSON Schema ``title``."""
    subject: str | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True, config=_CONFIG)
class RecordObs(_Observation):
    """One sampled record. ``value`` is absent when payloads were not kept; ``size`` is the full size.

    When the key or value was written in a schema registry's wire format, ``key`` / ``value`` hold the
    decoded record as JSON text and ``key_schema`` / ``value_schema`` what the registry said.
    """

    kind: Literal["record"] = "record"
    topic: str
    partition: Partition
    offset: Offset
    timestamp: Int64 | None = None
    key: Payload | None = None
    headers: tuple[tuple[str, Payload | None], ...] = ()
    size: Count = 0
    value: Payload | None = None
    producer_id: Int64 | None = None
    key_schema: SchemaInfo | None = None
    value_schema: SchemaInfo | None = None


SourceState = Literal["connected", "reconnecting", "lost"]


@dataclass(frozen=True, slots=True, kw_only=True, config=_CONFIG)
class StatusObs(_Observation):
    kind: Literal["status"] = "status"
    state: SourceState
    detail: str = ""
    attempt: Count = 0


@dataclass(frozen=True, slots=True, kw_only=True, config=_CONFIG)
class NoteObs(_Observation):
    """A caption for talks, shown while it is current (until the next note or ``duration_ms``)."""

    kind: Literal["note"] = "note"
    text: str
    duration_ms: Millis | None = None


Observation = Annotated[
    ClusterObs | TopicsObs | EndOffsetsObs | GroupObs | CommitsObs | ProducersObs | RecordObs | StatusObs | NoteObs,
    Field(discriminator="kind"),
]

OBSERVATION_KINDS: tuple[str, ...] = (
    "cluster",
    "topics",
    "end_offsets",
    "group",
    "commits",
    "producers",
    "record",
    "status",
    "note",
)


@dataclass(frozen=True, slots=True, kw_only=True, config=_CONFIG)
class RecordingHeader:
    format: Literal["flowscope-recording"]
    version: StrictInt
    created: str = ""
    source: dict[str, Any] = Field(default_factory=dict)
    app: str = ""


_observation_adapter: TypeAdapter[Observation] = TypeAdapter(Observation)
_header_adapter: TypeAdapter[RecordingHeader] = TypeAdapter(RecordingHeader)
# One encoder per kind: serialising through the union would first find the member that fits.
_ENCODERS: dict[type[Any], TypeAdapter[Any]] = {
    cls: TypeAdapter(cls)
    for cls in (ClusterObs, TopicsObs, EndOffsetsObs, GroupObs, CommitsObs, ProducersObs, RecordObs, StatusObs, NoteObs)
}


# The core validator itself, not TypeAdapter's Python wrapper around it: a frame less for every line
# of every recording.
validate_line = _observation_adapter.validator.validate_json
"""Validate one JSON line as an observation; raises pydantic's ValidationError (see parse_observation)."""


class FormatError(ValueError):
    """A line that is not a valid observation or header; the message says what is wrong in plain words."""


MAX_JSON_NESTING = 200
"""Deeper JSON is not read. Python's parser recurses once per level, so without a fixed bound whether a
line reads would depend on how deep the caller's stack happens to be (a replay in the app, or report)."""

_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_BRACKETS = re.compile(r"[\[\]{}]")


def load_json(text: str | bytes) -> Any:
    """``json.loads``, with JSON that Python's parser refuses for its own limits (nested more than
    MAX_JSON_NESTING levels, an integer of thousands of digits) reported as any other invalid JSON: a
    JSONDecodeError saying so, not a RecursionError or a bare ValueError from deep in the parser."""
    document = text if isinstance(text, str) else text.decode("utf-8", "replace")
    if _nesting(document) > MAX_JSON_NESTING:
        raise json.JSONDecodeError(f"nested more than {MAX_JSON_NESTING} levels deep", document, 0)
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise
    except (RecursionError, ValueError) as error:
        what = "nested too deeply to read" if isinstance(error, RecursionError) else "a number too long to read"
        raise json.JSONDecodeError(what, document, 0) from None


def _nesting(document: str) -> int:
    """How deep the arrays and objects of a JSON text nest (brackets inside strings do not count)."""
    if document.count("[") + document.count("{") <= MAX_JSON_NESTING:
        return 0  # cannot be deeper than it has brackets: the common case costs two counts
    depth = deepest = 0
    for bracket in _BRACKETS.findall(_JSON_STRING.sub("", document)):
        depth += 1 if bracket in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def parse_observation(line: bytes | str) -> Observation:
    """Validate one JSON line as an observation."""
    try:
        return validate_line(line)  # type: ignore[no-any-return]
    except ValidationError as error:
        raise FormatError(describe_validation_error(error)) from None


def encode_observation(obs: Observation) -> bytes:
    """One observation as a compact JSON line (no newline): ``t``, ``kind``, then the fields that differ
    from their defaults. Every recording line is written by this function.

    A lone surrogate is not text and JSON refuses it, so it becomes U+FFFD: the line stays readable.
    """
    kind = obs.kind
    try:
        body = _ENCODERS[type(obs)].dump_json(obs, exclude_defaults=True)
    except PydanticSerializationError:
        fields = _observation_adapter.dump_python(obs, mode="json", exclude_defaults=True)
        text = json.dumps({"t": obs.t, "kind": kind, **fields}, ensure_ascii=False, separators=(",", ":"))
        return _SURROGATE.sub("\ufffd", text).encode("utf-8")
    # ``kind`` has a default, so the encoder left it out; it goes back right after ``t``, an integer, which
    # the first comma ends (a line with no other field has none).
    comma = body.find(b",")
    head, tail = (body[:comma], body[comma:]) if comma > 0 else (body[:-1], b"}")
    return head + b',"kind":"' + kind.encode("ascii") + b'"' + tail


def encode_header(header: RecordingHeader) -> bytes:
    return _header_adapter.dump_json(header)


def parse_header(line: bytes | str) -> RecordingHeader:
    """Validate the first line of a recording, refusing format versions this build cannot read."""
    try:
        header = _header_adapter.validate_json(line)
    except ValidationError as error:
        raise FormatError(
            "not a flowscope recording: the first line must be a header like "
            '{"format": "flowscope-recording", "version": 1, ...} (' + describe_validation_error(error) + ")"
        ) from None
    if header.version not in SUPPORTED_VERSIONS:
        supported = ", ".join(str(v) for v in SUPPORTED_VERSIONS)
        advice = "; upgrade flowscope to replay it" if header.version > max(SUPPORTED_VERSIONS) else ""
        raise FormatError(
            f"recording format version {header.version} is not supported by this flowscope "
            f"(it reads version {supported}){advice}"
        )
    return header


def describe_validation_error(error: ValidationError) -> str:
    """Turn pydantic's error list into one sentence: where in the line, what is wrong, what was found."""
    parts: list[str] = []
    for item in error.errors(include_url=False)[:3]:
        kind = item["type"]
        loc = _format_location(item["loc"])
        if kind == "json_invalid":
            parts.append(f"not valid JSON ({item['ctx'].get('error', item['msg'])})")
        elif kind == "union_tag_invalid":
            found = item["ctx"].get("tag")
            parts.append(f"unknown observation kind {found!r} (known: {', '.join(OBSERVATION_KINDS)})")
        elif kind == "union_tag_not_found":
            parts.append('missing "kind" (one of: ' + ", ".join(OBSERVATION_KINDS) + ")")
        elif kind == "missing":
            parts.append(f"missing field {loc}")
        elif kind in ("model_type", "model_attributes_type", "dict_type") and not loc:
            parts.append(f"expected a JSON object{' at ' + loc if loc else ''}")
        elif kind in ("less_than_equal", "greater_than_equal"):
            bound = item["ctx"]["le" if kind == "less_than_equal" else "ge"]
            side = "above the most" if kind == "less_than_equal" else "below the least"
            parts.append(f"field {loc}: {_preview(item.get('input'))} is {side} it can be, {bound:,}")
        elif kind == "int_type":
            parts.append(f"field {loc}: expected a whole number (found {_preview(item.get('input'))})")
        else:
            found = _preview(item.get("input"))
            where = f"field {loc}: " if loc else ""
            parts.append(f"{where}{item['msg'].rstrip('.').lower()} (found {found})")
    more = len(error.errors()) - len(parts)
    if more > 0:
        parts.append(f"and {more} more")
    return "; ".join(parts)


def _format_location(loc: tuple[int | str, ...]) -> str:
    # The first element of a discriminated union error is the tag itself; it is noise to a reader.
    path = list(loc[1:]) if loc and loc[0] in OBSERVATION_KINDS else list(loc)
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _preview(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
