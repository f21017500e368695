"""Connections to the brokers of one cluster, on aiokafka's connection class, and every request's one path.

aiokafka's ``AIOKafkaClient`` is not used: it sends Metadata requests of its own in the background (with
auto topic creation allowed) and its consumer asks for metadata of the topics it reads, which would
re-create a topic deleted while flowscope watches. Here every request goes through :meth:`Wire.send`, which
only accepts read-only requests (:data:`adapters.kafka.codec.READ_ONLY_API_KEYS`: the classes of
requests.py and group_requests.py), counts requests per broker and reports each API key to an optional
hook (the read-only audit and the benchmark use it).

Every failure becomes a :class:`ConnectionFailed` with a sentence for people, already stripped of secrets.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
from collections import Counter
from collections.abc import Callable
from typing import Any, Literal, TypeVar

from aiokafka.conn import AIOKafkaConnection, CloseReason
from aiokafka.errors import (
    IllegalSaslStateError,
    KafkaConnectionError,
    KafkaError,
    SaslAuthenticationFailed,
    UnsupportedSaslMechanismError,
)

from adapters.kafka.codec import KafkaRequest, ProtocolError, UnsupportedVersion, unwrap
from adapters.kafka.config import ConnectionSettings, split_address
from adapters.kafka.requests import BrokerMeta, MetadataRequest, MetadataResponse

R = TypeVar("R")

Reason = Literal["unreachable", "timeout", "auth", "tls", "protocol", "unsupported", "closed"]
RequestHook = Callable[[int | str, int], None]
"""Called with (node id or bootstrap address, API key) for every request flowscope sends."""

_log = logging.getLogger("aiokafka")
_log.addHandler(logging.NullHandler())  # aiokafka's own messages never reach the terminal by default


class _NoSecrets(logging.Filter):
    """Drops aiokafka's debug lines about SASL frames: with PLAIN they would carry the password."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = str(record.msg)
        args = record.args if isinstance(record.args, tuple) else ()
        return not any("SaslAuthenticate" in str(part) or "sasl_auth_bytes" in str(part) for part in (text, *args))


logging.getLogger("aiokafka.conn").addFilter(_NoSecrets())


def _refused(settings: ConnectionSettings, detail: str) -> str:
    """What the broker refused, by mechanism; for a token, with the broker's own words on why (without
    the token or the exception's class name)."""
    reason = (detail.split(": ", 1)[-1] if detail.startswith("[Error") else detail)[:200] or "no reason given"
    if settings.msk_region is not None:
        return (
            f"the AWS MSK IAM token signed for {settings.msk_region} ({reason}); check the IAM policy allows "
            "kafka-cluster:Connect"
        )
    if settings.oauth is not None:
        oauth = settings.oauth
        return f"the OAUTHBEARER token of client {oauth.client_id!r} from {oauth.token_endpoint} ({reason})"
    return f"{settings.sasl_mechanism} credentials for user {settings.sasl_username!r}"


class ConnectionFailed(Exception):
    """The cluster (or one broker) cannot be used now; ``str()`` is a sentence with no secret in it."""

    def __init__(self, sentence: str, reason: Reason, *, retryable: bool = True) -> None:
        super().__init__(sentence)
        self.reason = reason
        self.retryable = retryable


class NodeFailed(ConnectionFailed):
    """One broker failed a request; the others may still answer."""

    def __init__(self, node: int, failure: ConnectionFailed) -> None:
        super().__init__(str(failure), failure.reason, retryable=failure.retryable)
        self.node = node


def _conn_send(conn: Any, request: KafkaRequest[Any]) -> Any:
    """aiokafka's connection send; the test of the read-only rule wraps this very method."""
    return conn.send(request)


class Wire:
    """Connections to one cluster: bootstrap, metadata, and requests to a given broker."""

    def __init__(self, settings: ConnectionSettings, *, on_request: RequestHook | None = None) -> None:
        self.settings = settings
        self.on_request = on_request
        self.sent: Counter[int | str] = Counter()
        """Requests sent per broker since the last :meth:`reset_counts` (handshakes not included)."""
        self.connections_opened = 0
        self.brokers: dict[int, BrokerMeta] = {}
        self._conns: dict[int, Any] = {}
        self._opening: dict[int, asyncio.Lock] = {}
        self._preferred: int | None = None
        self._ssl: ssl.SSLContext | None = None
        self._ssl_ready = False
        self.tokens: Any = None
        """OAUTHBEARER: the provider of tokens from the token endpoint, shared by every connection."""
        self._connection_type: type[AIOKafkaConnection] = AIOKafkaConnection
        if settings.oauth is not None or settings.msk_region is not None:
            from adapters.kafka.oauth import ClientCredentialsTokens, MskIamTokens, connection_type  # built on this

            if settings.msk_region is not None:
                self.tokens = MskIamTokens(settings.msk_region)
            elif settings.oauth is not None:
                self.tokens = ClientCredentialsTokens(settings.oauth, timeout=self.timeout)
            self._connection_type = connection_type(self.tokens)

    @property
    def timeout(self) -> float:
        return self.settings.request_timeout_ms / 1000

    def reset_counts(self) -> Counter[int | str]:
        counts, self.sent = self.sent, Counter()
        return counts

    # -- connections ---------------------------------------------------------------------------------------

    def _ssl_context(self) -> ssl.SSLContext | None:
        if not self._ssl_ready:
            self._ssl = self.settings.ssl_context()
            self._ssl_ready = True
        return self._ssl

    async def _open(self, host: str, port: int) -> Any:
        settings = self.settings
        password = settings.sasl_password.reveal() if settings.sasl_password is not None else None
        context = self._ssl_context()  # a ConfigError here is about settings, not about the broker
        try:
            async with asyncio.timeout(self.timeout):
                conn = self._connection_type(
                    host,
                    port,
                    client_id=settings.client_id,
                    request_timeout_ms=settings.request_timeout_ms,
                    ssl_context=context,
                    security_protocol=settings.security_protocol,
                    max_idle_ms=None,
                    sasl_mechanism=settings.sasl_mechanism if settings.uses_sasl else None,
                    sasl_plain_username=settings.sasl_username,
                    sasl_plain_password=password,
                    sasl_oauth_token_provider=self.tokens,
                )
                await conn.connect()
        except BaseException as error:
            if isinstance(error, asyncio.CancelledError | KeyboardInterrupt | SystemExit):
                raise
            raise self._explain(error, f"{host}:{port}", connecting=True) from None
        self.connections_opened += 1
        return conn

    async def _conn(self, node: int) -> Any:
        conn = self._conns.get(node)
        if conn is not None and conn.connected():
            return conn
        # A refresh sends to a broker from several tasks at once: one opens its connection, the others
        # wait for it, rather than each opening one and all but the last being left open and unclosed.
        async with self._opening.setdefault(node, asyncio.Lock()):
            conn = self._conns.get(node)
            if conn is not None and conn.connected():
                return conn
            self._drop(node)
            broker = self.brokers.get(node)
            if broker is None:
                raise ConnectionFailed(f"broker {node} is not in the cluster's metadata", "closed")
            conn = await self._open(broker.host, broker.port)
            self._conns[node] = conn
            return conn

    def _drop(self, node: int) -> None:
        conn = self._conns.pop(node, None)
        if conn is not None:
            conn.close(reason=CloseReason.CONNECTION_BROKEN)

    async def close(self) -> None:
        conns, self._conns = list(self._conns.values()), {}
        waits = [conn.close(reason=CloseReason.SHUTDOWN) for conn in conns]
        for waiter in waits:
            if waiter is not None:
                with contextlib.suppress(TimeoutError, asyncio.CancelledError, OSError):
                    async with asyncio.timeout(1.0):
                        await waiter

    # -- requests --------------------------------------------------------------------------------------------

    async def send(self, node: int, request: KafkaRequest[R]) -> R:
        """Send one request to one broker; NodeFailed (with a sentence) when that broker cannot answer.

        UnsupportedVersion passes through unchanged: it means "this broker has no such API", not a fault.
        """
        if not isinstance(request, KafkaRequest):
            raise TypeError("flowscope only sends its own read-only requests")
        try:
            conn = await self._conn(node)
        except ConnectionFailed as failure:
            raise NodeFailed(node, failure) from None
        return await self._send_on(conn, node, request)

    async def _send_on(self, conn: Any, key: int | str, request: KafkaRequest[R]) -> R:
        try:
            # aiokafka picks the version and writes the frame synchronously; only then is it "sent".
            waiter = _conn_send(conn, request)
            self.sent[key] += 1
            if self.on_request is not None:
                self.on_request(key, request.API_KEY)
            response: R = unwrap(await waiter)
        except UnsupportedVersion:
            raise
        except ProtocolError as error:
            # The frame was read whole, so the connection is still in step; only this answer is lost.
            failure = ConnectionFailed(
                f"a {request.NAME} response from {conn.host}:{conn.port} could not be read: {error}", "protocol"
            )
            if isinstance(key, int):
                raise NodeFailed(key, failure) from None
            raise failure from None
        except BaseException as error:
            if isinstance(error, asyncio.CancelledError | KeyboardInterrupt | SystemExit):
                raise
            address = f"{conn.host}:{conn.port}"
            if isinstance(key, int):
                self._drop(key)
            else:
                conn.close(reason=CloseReason.CONNECTION_BROKEN)
            # A broker closes a connection whose first request does not fit the listener (PLAINTEXT
            # on a SASL or TLS port): on the bootstrap connection, say which setting to check.
            failure = self._explain(error, address, connecting=isinstance(key, str), what=request.NAME)
            if isinstance(key, int):
                raise NodeFailed(key, failure) from None
            raise failure from None
        return response

    async def metadata(self) -> MetadataResponse:
        """Cluster metadata from any broker that answers, falling back to the bootstrap addresses."""
        failure: ConnectionFailed | None = None
        order = sorted(self.brokers, key=lambda node: (node != self._preferred, node not in self._conns, node))
        for node in order:
            try:
                response = await self.send(node, MetadataRequest(None))
            except NodeFailed as error:
                failure = error
                continue
            self._preferred = node
            self._learn(response)
            return response
        try:
            return await self._bootstrap()
        except ConnectionFailed:
            if failure is not None and not failure.retryable:
                raise failure from None  # e.g. credentials rejected: say that, not the bootstrap's state
            raise

    async def _bootstrap(self) -> MetadataResponse:
        failure: ConnectionFailed | None = None
        for address in self.settings.bootstrap:
            host, port = split_address(address)
            try:
                conn = await self._open(host, port)
            except ConnectionFailed as error:
                failure = error
                if not error.retryable:
                    raise
                continue
            try:
                response = await self._send_on(conn, address, MetadataRequest(None))
            except ConnectionFailed as error:
                failure = error
                conn.close(reason=CloseReason.CONNECTION_BROKEN)
                continue
            except UnsupportedVersion as error:
                conn.close(reason=CloseReason.SHUTDOWN)
                raise ConnectionFailed(
                    f"Kafka at {address} is too old for flowscope ({error}); flowscope needs Kafka 3.0 or newer",
                    "unsupported",
                    retryable=False,
                ) from None
            self._learn(response)
            node = next((b.node_id for b in response.brokers if (b.host, b.port) == (host, port)), None)
            if node is not None and node not in self._conns:
                self._conns[node] = conn  # the bootstrap connection is that broker's connection
                self._preferred = node
            else:
                conn.close(reason=CloseReason.SHUTDOWN)
            return response
        assert failure is not None
        raise failure

    def _learn(self, response: MetadataResponse) -> None:
        brokers = {broker.node_id: broker for broker in response.brokers}
        for node, old in list(self.brokers.items()):
            new = brokers.get(node)
            if new is None or (new.host, new.port) != (old.host, old.port):
                self._drop(node)
        self.brokers = brokers

    # -- failures as sentences -----------------------------------------------------------------------------

    def _explain(self, error: BaseException, address: str, *, connecting: bool, what: str = "") -> ConnectionFailed:
        settings = self.settings
        detail = settings.redact(str(error).strip())
        if isinstance(error, ConnectionFailed):  # already a sentence (the OAuth token endpoint's)
            return error
        if isinstance(error, SaslAuthenticationFailed | IllegalSaslStateError):
            return ConnectionFailed(
                f"authentication failed at {address}: the broker rejected {_refused(settings, detail)}",
                "auth",
                retryable=False,
            )
        if isinstance(error, UnsupportedSaslMechanismError):
            return ConnectionFailed(
                f"authentication failed at {address}: the broker does not accept SASL mechanism "
                f"{settings.sasl_mechanism} ({detail})",
                "auth",
                retryable=False,
            )
        if isinstance(error, ssl.SSLCertVerificationError):
            return ConnectionFailed(
                f"TLS: the certificate of {address} is not trusted ({error.verify_message}); set "
                "ssl.truststore.location to the PEM file of the CA that signed it",
                "tls",
                retryable=False,
            )
        if isinstance(error, ssl.SSLError):
            return ConnectionFailed(
                f"TLS handshake with {address} failed ({error.reason or detail}); check security.protocol "
                "and that this port is a TLS listener",
                "tls",
                retryable=False,
            )
        if isinstance(error, socket.gaierror):
            return ConnectionFailed(f"cannot resolve the host of {address} ({error.strerror})", "unreachable")
        if isinstance(error, ConnectionRefusedError):
            return ConnectionFailed(f"cannot reach Kafka at {address}: connection refused", "unreachable")
        if isinstance(error, TimeoutError):
            doing = "connecting" if connecting else f"waiting for {what or 'an answer'}"
            return ConnectionFailed(f"no answer from Kafka at {address} within {self.timeout:g} s ({doing})", "timeout")
        if isinstance(error, ProtocolError):
            return ConnectionFailed(f"a {what or 'response'} from {address} could not be read: {detail}", "protocol")
        if isinstance(error, KafkaConnectionError):
            hint = ""
            if connecting:
                hint = (
                    f"; check that security.protocol ({settings.security_protocol}) and the SASL/TLS settings "
                    "match this listener"
                )
                if settings.uses_tls:
                    # TLS 1.3 refuses a client certificate after the handshake: a close is all the client sees.
                    hint += (
                        "; if it requires a client certificate (mutual TLS), set ssl.keystore.location to a PEM "
                        "file of one signed by a CA the broker trusts"
                        if settings.ssl_certfile is None and settings.ssl_cert_pem is None
                        else "; if it requires a client certificate, the broker may not trust this one (ssl.keystore.*)"
                    )
            return ConnectionFailed(f"the connection to {address} was closed by the broker{hint}", "closed")
        if isinstance(error, ConnectionResetError) and connecting and settings.uses_tls:
            return ConnectionFailed(
                f"TLS handshake with {address} failed (the broker reset the connection); check security.protocol "
                f"({settings.security_protocol}) and that this port is a TLS listener",
                "tls",
            )
        if isinstance(error, OSError):
            reason = error.strerror or type(error).__name__
            return ConnectionFailed(f"cannot reach Kafka at {address}: {reason}", "unreachable")
        if isinstance(error, KafkaError):
            return ConnectionFailed(f"Kafka at {address} answered with an error: {detail}", "protocol")
        return ConnectionFailed(
            f"unexpected failure talking to {address}: {type(error).__name__}: {detail}", "protocol"
        )
