"""Schema registries: the small interface decoding needs, and the Confluent-compatible REST flavour of it.

Read-only by construction: the only request this module can make is a GET (``_get``), so flowscope never
registers, deletes or changes a schema. Errors are sentences that never hold the credentials (the URL is
shown without its user info; the Authorization header is never part of a message).
"""

from __future__ import annotations

import asyncio
import base64
import json
import ssl
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Protocol

from flow.observations import SchemaFormat

DEFAULT_TIMEOUT = 2.0
MAX_RESPONSE_BYTES = 1024 * 1024
USER_AGENT = "flowscope (read-only)"


class SchemaNotFound(Exception):
    """The registry answered: it has no schema with this id."""


class RegistryUnreachable(Exception):
    """The registry did not answer in time, refused us, or answered nonsense."""


@dataclass(frozen=True, slots=True)
class SchemaReference:
    name: str
    subject: str
    version: int


@dataclass(frozen=True, slots=True)
class RegisteredSchema:
    """A schema as a registry returns it by id."""

    id: int
    format: SchemaFormat
    text: str
    references: tuple[SchemaReference, ...] = ()
    subjects: tuple[str, ...] = ()
    """Every subject the schema is registered under (registries share one id between identical schemas)."""


class SchemaRegistry(Protocol):
    """What decoding needs from a registry; another flavour (e.g. Apicurio's native API, AWS Glue) only
    has to answer these."""

    @property
    def label(self) -> str:
        """Where the registry is, for messages (never with credentials)."""
        ...

    async def schema(self, schema_id: int) -> RegisteredSchema:
        """The schema with this id; SchemaNotFound or RegistryUnreachable."""
        ...

    async def referenced(self, reference: SchemaReference) -> str:
        """The text of a schema another one references (a Protobuf import)."""
        ...


@dataclass(frozen=True, slots=True)
class RegistrySettings:
    """How to reach a Confluent-compatible registry (Confluent, Apicurio's ``/apis/ccompat/v7``, Karapace,
    Redpanda)."""

    url: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    key_password: str | None = field(default=None, repr=False)
    verify_hostname: bool = True
    timeout: float = DEFAULT_TIMEOUT

    @property
    def label(self) -> str:
        parts = urllib.parse.urlsplit(self.url)
        host = parts.hostname or ""
        netloc = f"{host}:{parts.port}" if parts.port else host
        return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def basic_authorization(settings: RegistrySettings) -> str | None:
    """The Authorization header for the settings' credentials (explicit ones, else those in the URL), if any."""
    username, password = settings.username, settings.password
    parts = urllib.parse.urlsplit(settings.url)
    if parts.username is not None and username is None:
        username = urllib.parse.unquote(parts.username)
        password = urllib.parse.unquote(parts.password or "")
    if username is None:
        return None
    token = base64.b64encode(f"{username}:{password or ''}".encode()).decode("ascii")
    return f"Basic {token}"


def ssl_context(settings: RegistrySettings) -> ssl.SSLContext | None:
    """TLS to an https:// registry from the settings' PEM files; None for http://."""
    if urllib.parse.urlsplit(settings.url).scheme != "https":
        return None
    context = ssl.create_default_context(cafile=settings.ca_file)
    context.check_hostname = settings.verify_hostname
    if settings.cert_file:
        context.load_cert_chain(settings.cert_file, settings.key_file, settings.key_password)
    return context


_FORMATS: dict[str, SchemaFormat] = {"AVRO": "avro", "PROTOBUF": "protobuf", "JSON": "json"}


class ConfluentRegistry:
    """The Confluent Schema Registry REST API, GET only: ``/schemas/ids/{id}``, its ``/versions`` (for the
    subject) and ``/subjects/{subject}/versions/{version}`` (for references)."""

    def __init__(self, settings: RegistrySettings) -> None:
        self.settings = settings
        parts = urllib.parse.urlsplit(settings.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("the schema registry URL must be http:// or https:// with a host")
        self._base = settings.label.rstrip("/")
        self._headers = {"Accept": "application/vnd.schemaregistry.v1+json, application/json", "User-Agent": USER_AGENT}
        authorization = basic_authorization(settings)
        if authorization is not None:
            self._headers["Authorization"] = authorization
        self._context = ssl_context(settings)
        self.requests: list[tuple[str, str]] = []
        """(method, path) of every request sent, for audits; always GET."""

    @property
    def label(self) -> str:
        return self._base

    async def schema(self, schema_id: int) -> RegisteredSchema:
        body = await self._get(f"/schemas/ids/{schema_id}", schema_id)
        if not isinstance(body, dict) or not isinstance(body.get("schema"), str):
            raise RegistryUnreachable("the registry answered without a schema")
        kind = _FORMATS.get(str(body.get("schemaType") or "AVRO").upper())
        if kind is None:
            raise RegistryUnreachable("the registry answered with an unknown schema type")
        references = tuple(
            SchemaReference(str(r["name"]), str(r["subject"]), int(r["version"]))
            for r in body.get("references") or ()
            if isinstance(r, dict) and {"name", "subject", "version"} <= r.keys()
        )
        subjects: tuple[str, ...] = ()
        try:
            versions = await self._get(f"/schemas/ids/{schema_id}/versions", schema_id)
            if isinstance(versions, list):
                found = (str(v.get("subject") or "") for v in versions[:64] if isinstance(v, dict))
                subjects = tuple(dict.fromkeys(name for name in found if name))
        except (SchemaNotFound, RegistryUnreachable):
            pass  # the subjects are a detail; the schema itself is what decoding needs
        return RegisteredSchema(schema_id, kind, body["schema"], references, subjects)

    async def referenced(self, reference: SchemaReference) -> str:
        subject = urllib.parse.quote(reference.subject, safe="")
        body = await self._get(f"/subjects/{subject}/versions/{reference.version}", None)
        if not isinstance(body, dict) or not isinstance(body.get("schema"), str):
            raise RegistryUnreachable("the registry answered without a schema")
        return str(body["schema"])

    async def _get(self, path: str, schema_id: int | None) -> Any:
        self.requests.append(("GET", path))
        request = urllib.request.Request(self._base + path, headers=self._headers, method="GET")
        return await asyncio.to_thread(self._send, request, schema_id)

    def _send(self, request: urllib.request.Request, schema_id: int | None) -> Any:
        try:
            with urllib.request.urlopen(request, timeout=self.settings.timeout, context=self._context) as answer:
                data = answer.read(MAX_RESPONSE_BYTES + 1)
        except urllib.error.HTTPError as error:
            if error.code == 404:
                raise SchemaNotFound(f"schema {schema_id} not found") from None
            if error.code in (401, 403):
                raise RegistryUnreachable(f"registry refused access ({error.code})") from None
            raise RegistryUnreachable(f"registry unreachable (HTTP {error.code})") from None
        except (OSError, ValueError):
            raise RegistryUnreachable("registry unreachable") from None
        if len(data) > MAX_RESPONSE_BYTES:
            raise RegistryUnreachable("registry answer too large")
        try:
            return json.loads(data)
        except (ValueError, RecursionError):
            raise RegistryUnreachable("registry answered with something that is not JSON") from None
