"""The one place flowscope WRITES to a schema registry: simulate registering its scenario's schemas.

Kept apart from ``adapters.schemas.registry`` on purpose: that client (used by live, record and report) can
only GET, and stays so. This helper POSTs ``/subjects/{subject}/versions`` and nothing else; only simulate,
the command that writes to a cluster, uses it. Errors are sentences without credentials.
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.parse
import urllib.request

from adapters.schemas.registry import MAX_RESPONSE_BYTES, RegistrySettings, basic_authorization, ssl_context

USER_AGENT = "flowscope simulate (registers schemas)"
REGISTER_TIMEOUT = 10.0


class RegistrationError(Exception):
    """The registry refused a schema or could not be reached; the message is one sentence."""


class SchemaRegistrar:
    """Registers schemas under subjects of a Confluent-compatible registry (POST only)."""

    def __init__(self, settings: RegistrySettings) -> None:
        parts = urllib.parse.urlsplit(settings.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise RegistrationError("the schema registry URL must be http:// or https:// with a host")
        self.label = settings.label.rstrip("/")
        self._headers = {
            "Content-Type": "application/vnd.schemaregistry.v1+json",
            "Accept": "application/vnd.schemaregistry.v1+json, application/json",
            "User-Agent": USER_AGENT,
        }
        authorization = basic_authorization(settings)
        if authorization is not None:
            self._headers["Authorization"] = authorization
        self._context = ssl_context(settings)
        self._timeout = max(settings.timeout, REGISTER_TIMEOUT)

    async def register(self, subject: str, schema: str, schema_type: str) -> int:
        """Register ``schema`` (``AVRO``, ``PROTOBUF`` or ``JSON``) under ``subject``; its id. A schema the
        subject already holds gets its existing id back, so simulating twice is fine."""
        body = json.dumps({"schema": schema, "schemaType": schema_type}).encode()
        path = f"/subjects/{urllib.parse.quote(subject, safe='')}/versions"
        request = urllib.request.Request(self.label + path, data=body, headers=self._headers, method="POST")
        return await asyncio.to_thread(self._send, request, subject)

    def _send(self, request: urllib.request.Request, subject: str) -> int:
        try:
            with urllib.request.urlopen(request, timeout=self._timeout, context=self._context) as answer:
                data = answer.read(MAX_RESPONSE_BYTES + 1)
        except urllib.error.HTTPError as error:
            detail = _message(error.read(4096))
            if error.code in (401, 403):
                raise RegistrationError(f"the schema registry at {self.label} refused access ({error.code})") from None
            raise RegistrationError(
                f"the schema registry at {self.label} refused the schema for subject {subject!r} "
                f"(HTTP {error.code}{': ' + detail if detail else ''})"
            ) from None
        except (OSError, ValueError):
            raise RegistrationError(f"cannot reach the schema registry at {self.label}") from None
        try:
            return int(json.loads(data)["id"])
        except (ValueError, TypeError, KeyError, RecursionError):
            raise RegistrationError(f"the schema registry at {self.label} answered without a schema id") from None


def _message(data: bytes) -> str:
    """The registry's own error message, if it gave one (short; it names no secret of ours)."""
    try:
        text = json.loads(data).get("message")
    except (ValueError, AttributeError, RecursionError):
        return ""
    return str(text)[:200] if text else ""
