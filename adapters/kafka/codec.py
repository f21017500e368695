"""The encoding shared by every Kafka request flowscope sends, from Kafka's published message schemas.

aiokafka's connection does the framing, the ApiVersions exchange and SASL; each request picks the newest
version it implements that the broker supports (``prepare``), which is how aiokafka's own request classes
work. The requests themselves, all read-only, are in :mod:`adapters.kafka.requests` and
:mod:`adapters.kafka.group_requests`.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from io import BytesIO
from typing import Any, ClassVar, Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

_I8 = struct.Struct(">b")
_I16 = struct.Struct(">h")
_I32 = struct.Struct(">i")
_I64 = struct.Struct(">q")


class ProtocolError(ValueError):
    """A response that does not parse as the schema says: a bug here or a broker we do not understand."""


DECODE_ERRORS = (ProtocolError, struct.error, IndexError, ValueError)
"""What reading a malformed or truncated body raises (the Reader does not check bounds twice)."""


class UnsupportedVersion(Exception):
    """The broker does not offer any version of an API that flowscope implements."""

    def __init__(self, api: str, api_key: int, offered: tuple[int, int] | None, wanted: Sequence[int]) -> None:
        self.api = api
        self.api_key = api_key
        self.offered = offered
        span = "does not offer it" if offered is None else f"offers v{offered[0]}-v{offered[1]}"
        super().__init__(
            f"the broker {span} of {api} (API key {api_key}); flowscope speaks " + ", ".join(f"v{v}" for v in wanted)
        )


# -- encoding --------------------------------------------------------------------------------------------


class Reader:
    """Reads one response body; ``flexible`` switches to compact strings/arrays and tagged fields.

    Hot path: a large cluster's responses hold tens of thousands of fields, so every read is a single
    ``unpack_from`` at a position; reading past the end raises ``struct.error`` (or IndexError), which the
    decoder turns into a ProtocolError.
    """

    __slots__ = ("_data", "_pos", "flexible")

    def __init__(self, data: bytes, flexible: bool) -> None:
        self._data = data
        self._pos = 0
        self.flexible = flexible

    def int8(self) -> int:
        pos = self._pos
        self._pos = pos + 1
        value: int = _I8.unpack_from(self._data, pos)[0]
        return value

    def bool(self) -> bool:
        return self.int8() != 0

    def int16(self) -> int:
        pos = self._pos
        self._pos = pos + 2
        value: int = _I16.unpack_from(self._data, pos)[0]
        return value

    def int32(self) -> int:
        pos = self._pos
        self._pos = pos + 4
        value: int = _I32.unpack_from(self._data, pos)[0]
        return value

    def int64(self) -> int:
        pos = self._pos
        self._pos = pos + 8
        value: int = _I64.unpack_from(self._data, pos)[0]
        return value

    def uvarint(self) -> int:
        data, pos = self._data, self._pos
        byte = data[pos]
        if byte < 0x80:  # nearly every length and count fits in one byte
            self._pos = pos + 1
            return byte
        value = byte & 0x7F
        shift = 7
        while True:
            pos += 1
            byte = data[pos]
            value |= (byte & 0x7F) << shift
            if not byte & 0x80:
                self._pos = pos + 1
                return value
            shift += 7
            if shift > 28:
                raise ProtocolError("unsigned varint longer than 5 bytes")

    def _span(self, size: int) -> int:
        pos = self._pos
        end = pos + size
        if end > len(self._data):
            raise ProtocolError(f"response ends early: needed {size} bytes at {pos} of {len(self._data)}")
        self._pos = end
        return pos

    def nullable_string(self) -> str | None:
        size = self.uvarint() - 1 if self.flexible else self.int16()
        if size < 0:
            return None
        pos = self._span(size)
        return self._data[pos : pos + size].decode("utf-8", errors="replace")

    def string(self) -> str:
        return self.nullable_string() or ""

    def nullable_bytes(self) -> bytes | None:
        size = self.uvarint() - 1 if self.flexible else self.int32()
        if size < 0:
            return None
        pos = self._span(size)
        return self._data[pos : pos + size]

    def blob(self) -> bytes:
        return self.nullable_bytes() or b""

    def uuid(self) -> bytes:
        pos = self._span(16)
        return self._data[pos : pos + 16]

    def _count(self) -> int:
        return max(self.uvarint() - 1 if self.flexible else self.int32(), 0)

    def array(self, item: Callable[[Reader], T]) -> list[T]:
        """An array of items; a null array reads as empty."""
        return [item(self) for _ in range(self._count())]

    def int32_array(self) -> list[int]:
        count = self._count()
        pos = self._span(4 * count)
        return list(struct.unpack_from(f">{count}i", self._data, pos))

    def skip_int32_array(self) -> None:
        self._span(4 * self._count())

    def string_array(self) -> list[str]:
        return self.array(Reader.string)

    def topics(self, partition: Callable[[Reader, str], object]) -> None:
        """The array of topics most responses hold: each a name and an array of its partitions, which
        ``partition(reader, topic)`` reads one by one."""

        def topic(r: Reader) -> None:
            name = r.string()
            r.array(lambda r: partition(r, name))
            r.tags()

        self.array(topic)

    def tags(self) -> None:
        """Skip a struct's tagged fields (flexible versions only); flowscope reads none of them."""
        if not self.flexible:
            return
        data, pos = self._data, self._pos
        if pos < len(data) and data[pos] == 0:  # no tagged fields: the usual case
            self._pos = pos + 1
            return
        for _ in range(self.uvarint()):
            self.uvarint()
            self._span(self.uvarint())

    def done(self) -> None:
        if self._pos != len(self._data):
            raise ProtocolError(f"{len(self._data) - self._pos} unread bytes at the end of the response")


class Writer:
    """Builds one request body; ``flexible`` as for :class:`Reader`."""

    __slots__ = ("_out", "flexible")

    def __init__(self, flexible: bool) -> None:
        self._out = bytearray()
        self.flexible = flexible

    def int8(self, value: int) -> None:
        self._out += _I8.pack(value)

    def bool(self, value: bool) -> None:
        self.int8(1 if value else 0)

    def int16(self, value: int) -> None:
        self._out += _I16.pack(value)

    def int32(self, value: int) -> None:
        self._out += _I32.pack(value)

    def int64(self, value: int) -> None:
        self._out += _I64.pack(value)

    def uvarint(self, value: int) -> None:
        while value > 0x7F:
            self._out.append((value & 0x7F) | 0x80)
            value >>= 7
        self._out.append(value)

    def nullable_string(self, value: str | None) -> None:
        if value is None:
            if self.flexible:
                self.uvarint(0)
            else:
                self.int16(-1)
            return
        data = value.encode("utf-8")
        if self.flexible:
            self.uvarint(len(data) + 1)
        else:
            self.int16(len(data))
        self._out += data

    def string(self, value: str) -> None:
        self.nullable_string(value)

    def array(self, items: Sequence[T] | None, item: Callable[[Writer, T], None]) -> None:
        if items is None:
            if self.flexible:
                self.uvarint(0)
            else:
                self.int32(-1)
            return
        if self.flexible:
            self.uvarint(len(items) + 1)
        else:
            self.int32(len(items))
        for value in items:
            item(self, value)

    def tags(self) -> None:
        if self.flexible:
            self.uvarint(0)

    def getvalue(self) -> bytes:
        return bytes(self._out)


# -- the request protocol aiokafka's connection expects ----------------------------------------------------


class _Encoded:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def encode(self) -> bytes:
        return self._data


@dataclass(frozen=True, slots=True)
class _ResponseHeader:
    correlation_id: int


class _Decoder(Generic[R]):
    """What aiokafka's connection calls ``RESPONSE_TYPE``: it decodes the body after the header.

    It never raises: an exception here would escape into aiokafka's reader task, which then closes the
    connection and reports only "connection closed". A response that does not parse is returned as a
    :class:`ProtocolError` value instead, and :func:`unwrap` raises it where the request was sent.
    """

    def __init__(self, request: KafkaRequest[R], version: int) -> None:
        self._request = request
        self._version = version

    def decode(self, data: BytesIO) -> R | ProtocolError:
        reader = Reader(data.read(), self._request.flexible(self._version))
        try:
            response = self._request.decode(reader, self._version)
            reader.done()
        except DECODE_ERRORS as error:
            return ProtocolError(f"{self._request.NAME} v{self._version}: {error}")
        return response


def unwrap(response: R | ProtocolError) -> R:
    """The decoded response, or raise the ProtocolError that stood in for it."""
    if isinstance(response, ProtocolError):
        raise response
    return response


def _read_uvarint(data: BytesIO) -> int:
    value = shift = 0
    while True:
        raw = data.read(1)
        if not raw:
            raise ProtocolError("response header ends early")
        value |= (raw[0] & 0x7F) << shift
        if not raw[0] & 0x80:
            return value
        shift += 7


class Prepared(Generic[R]):
    """One request at one version, in the shape aiokafka's ``AIOKafkaConnection.send`` drives."""

    def __init__(self, request: KafkaRequest[R], version: int) -> None:
        self.request = request
        self.API_KEY = request.API_KEY
        self.API_VERSION = version
        self.FLEXIBLE_VERSION = request.flexible(version)
        self.RESPONSE_TYPE = _Decoder(request, version)

    def build_request_header(self, correlation_id: int, client_id: str) -> _Encoded:
        header = Writer(flexible=False)
        header.int16(self.API_KEY)
        header.int16(self.API_VERSION)
        header.int32(correlation_id)
        header.nullable_string(client_id)  # the client id stays a classic string in header v2 too
        if self.FLEXIBLE_VERSION:
            header.uvarint(0)
        return _Encoded(header.getvalue())

    def encode(self) -> bytes:
        body = Writer(self.FLEXIBLE_VERSION)
        self.request.encode(body, self.API_VERSION)
        return body.getvalue()

    def parse_response_header(self, data: BytesIO) -> _ResponseHeader:
        raw = data.read(4)
        if len(raw) != 4:
            raise ProtocolError("response shorter than its header")
        correlation_id: int = _I32.unpack(raw)[0]
        if self.FLEXIBLE_VERSION:
            for _ in range(_read_uvarint(data)):  # response header v1: skip its tagged fields
                _read_uvarint(data)
                data.seek(_read_uvarint(data), 1)
        return _ResponseHeader(correlation_id)

    def __repr__(self) -> str:
        # aiokafka logs requests at debug level; the name and version say enough and carry no data.
        return f"{self.request.NAME} v{self.API_VERSION}"


class KafkaRequest(Generic[R]):
    """A read-only request; subclasses encode their fields and decode their response."""

    NAME: ClassVar[str]
    API_KEY: ClassVar[int]
    VERSIONS: ClassVar[tuple[int, ...]]
    FLEXIBLE_FROM: ClassVar[int]

    def flexible(self, version: int) -> bool:
        return version >= self.FLEXIBLE_FROM

    def version_for(self, versions: dict[int, tuple[int, int]]) -> int:
        offered = versions.get(self.API_KEY)
        if offered is not None:
            low, high = offered
            usable = [v for v in self.VERSIONS if low <= v <= high]
            if usable:
                return max(usable)
        raise UnsupportedVersion(self.NAME, self.API_KEY, offered, self.VERSIONS)

    def prepare(self, versions: dict[int, tuple[int, int]]) -> Prepared[R]:
        return Prepared(self, self.version_for(versions))

    def encode(self, w: Writer, version: int) -> None:
        raise NotImplementedError

    def decode(self, r: Reader, version: int) -> R:
        raise NotImplementedError


def supports(versions: dict[int, tuple[int, int]], request: type[KafkaRequest[Any]]) -> bool:
    """Whether a broker offers some version of ``request`` that flowscope implements."""
    offered = versions.get(request.API_KEY)
    return offered is not None and any(offered[0] <= v <= offered[1] for v in request.VERSIONS)


READ_ONLY_API_KEYS: dict[int, str] = {
    1: "Fetch",
    2: "ListOffsets",
    3: "Metadata",
    9: "OffsetFetch",
    15: "DescribeGroups",
    16: "ListGroups",
    17: "SaslHandshake",
    18: "ApiVersions",
    36: "SaslAuthenticate",
    61: "DescribeProducers",
    66: "ListTransactions",
    69: "ConsumerGroupDescribe",
    89: "StreamsGroupDescribe",
}
"""Every API key flowscope may send: the requests of :mod:`adapters.kafka.requests` and
:mod:`adapters.kafka.group_requests` plus aiokafka's connection handshake."""
