"""Decode sampled keys and values written in a schema registry's wire format, with a bounded schema cache.

Two steps, so decoding never waits on the network record by record: ``await prefetch(ids)`` fetches the
schemas a refresh's records name (concurrently, each bounded by the registry's timeout), then
``decode(data, limit)`` works from the cache alone. The cache is an LRU of ``capacity`` schemas; a failure is
cached too, briefly (``retry_unreachable`` seconds when the registry did not answer, ``retry_missing`` when it
said "not found"), so a registry that is down is asked once per interval, not once per record.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from adapters.schemas.codecs import (
    SCHEMA_CHARS,
    MismatchError,
    Parsed,
    SchemaError,
    parse_avro,
    parse_json_schema,
    parse_protobuf,
    short_name,
    split_wire,
    to_json_text,
)
from adapters.schemas.registry import RegisteredSchema, RegistryUnreachable, SchemaNotFound, SchemaRegistry
from flow.observations import Payload, SchemaInfo

MAX_REFERENCES = 16
MAX_FETCH_PER_ROUND = 32
"""Schemas fetched per prefetch at most; the rest wait for the next refresh."""


@dataclass(frozen=True, slots=True)
class _Known:
    parsed: Parsed
    subjects: tuple[str, ...]

    def subject(self, topic: str | None, role: str, record_type: str | None) -> str | None:
        """The subject this record's schema was most likely registered under: TopicNameStrategy
        (``topic-value``), TopicRecordNameStrategy, RecordNameStrategy, else the first one listed."""
        wanted = [f"{topic}-{role}", f"{topic}-{record_type}", record_type] if topic else [record_type]
        for name in wanted:
            if name and name in self.subjects:
                return short_name(name)
        return short_name(self.subjects[0]) if self.subjects else None


@dataclass(frozen=True, slots=True)
class _Failed:
    error: str
    until: float


@dataclass(frozen=True, slots=True)
class Decoded:
    """A key or value in the wire format: its text (decoded JSON, or None when payloads are not kept or it
    could not be decoded) and what the registry said about it."""

    text: Payload | None
    schema: SchemaInfo


class SchemaDecoder:
    """Turns wire-format bytes into JSON text and a :class:`SchemaInfo`, using one registry."""

    def __init__(
        self,
        registry: SchemaRegistry,
        *,
        capacity: int = 256,
        retry_unreachable: float = 15.0,
        retry_missing: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.registry = registry
        self._cache: OrderedDict[int, _Known | _Failed] = OrderedDict()
        self._capacity = capacity
        self._retry_unreachable = retry_unreachable
        self._retry_missing = retry_missing
        self._clock = clock
        self.decode_seconds = 0.0
        """Time spent decoding payloads (not fetching schemas), for the refresh budget."""

    @staticmethod
    def schema_id(data: bytes | None) -> int | None:
        wire = split_wire(data)
        return wire[0] if wire is not None else None

    def wanted(self, ids: Iterable[int]) -> list[int]:
        """The ids among these that are not cached, or whose failure is old enough to ask again."""
        now = self._clock()
        out = []
        for schema_id in dict.fromkeys(ids):
            entry = self._cache.get(schema_id)
            if entry is None or (isinstance(entry, _Failed) and entry.until <= now):
                out.append(schema_id)
        return out[:MAX_FETCH_PER_ROUND]

    async def prefetch(self, ids: Iterable[int]) -> None:
        """Fetch and parse the schemas these ids name that are not cached yet."""
        wanted = self.wanted(ids)
        if wanted:
            results = await asyncio.gather(*(self._load(i) for i in wanted))
            for schema_id, entry in zip(wanted, results, strict=True):
                self._put(schema_id, entry)

    async def _load(self, schema_id: int) -> _Known | _Failed:
        try:
            registered = await self.registry.schema(schema_id)
            return _Known(await self._parse(registered), registered.subjects)
        except SchemaNotFound:
            return _Failed(f"schema {schema_id} not found", self._clock() + self._retry_missing)
        except RegistryUnreachable as error:
            return _Failed(str(error) or "registry unreachable", self._clock() + self._retry_unreachable)
        except SchemaError as error:
            return _Failed(f"schema {schema_id}: {error}", self._clock() + self._retry_missing)

    async def _parse(self, registered: RegisteredSchema) -> Parsed:
        if len(registered.text) > SCHEMA_CHARS:
            raise SchemaError("too large")
        if registered.format == "avro":
            if registered.references:
                raise SchemaError("Avro references are not supported yet")
            return parse_avro(registered.text)
        if registered.format == "json":
            return parse_json_schema(registered.text)
        if len(registered.references) > MAX_REFERENCES:
            raise SchemaError("too many references")
        texts = {}
        for reference in registered.references:
            text = await self.registry.referenced(reference)
            if len(text) > SCHEMA_CHARS:
                raise SchemaError("a reference is too large")
            texts[reference.name] = text
        return await parse_protobuf(registered.text, texts)

    def _put(self, schema_id: int, entry: _Known | _Failed) -> None:
        self._cache[schema_id] = entry
        self._cache.move_to_end(schema_id)
        while len(self._cache) > self._capacity:
            self._cache.popitem(last=False)

    def decode(
        self, data: bytes | None, limit: int | None, *, topic: str | None = None, role: str = "value"
    ) -> Decoded | None:
        """None when ``data`` is not in the wire format; otherwise the decoded text (``limit`` characters at
        most; None: do not decode, just name the type) and the schema info, with an error when it failed."""
        wire = split_wire(data)
        if wire is None:
            return None
        schema_id, payload = wire
        entry = self._cache.get(schema_id)
        if entry is None:
            return Decoded(None, SchemaInfo(id=schema_id, error="schema not fetched yet"))
        self._cache.move_to_end(schema_id)
        if isinstance(entry, _Failed):
            return Decoded(None, SchemaInfo(id=schema_id, error=entry.error))
        parsed = entry.parsed
        # A Protobuf record's type comes from its own message indexes: unknown until they are read.
        known_type = parsed.record_type if parsed.format != "protobuf" else None
        info = SchemaInfo(
            id=schema_id, format=parsed.format, record_type=known_type, subject=entry.subject(topic, role, known_type)
        )
        started = time.perf_counter()
        try:
            record_type = parsed.type_for(payload)
            subject = entry.subject(topic, role, record_type)
            info = SchemaInfo(id=schema_id, format=parsed.format, record_type=record_type, subject=subject)
            if limit is None:
                return Decoded(None, info)
            return Decoded(to_json_text(parsed.decode(payload), limit), info)
        except MismatchError:
            return Decoded(None, _with_error(info, f"does not match schema {schema_id}"))
        finally:
            self.decode_seconds += time.perf_counter() - started


def _with_error(info: SchemaInfo, error: str) -> SchemaInfo:
    return SchemaInfo(id=info.id, format=info.format, record_type=info.record_type, subject=info.subject, error=error)
