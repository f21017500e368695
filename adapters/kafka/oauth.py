"""OAUTHBEARER tokens: by OAuth 2 client credentials from a token endpoint, or signed for AWS MSK IAM.

The request is the one Kafka's own OAuthBearerLoginCallbackHandler makes: a form POST with
``grant_type=client_credentials`` (and ``scope``), the client id and secret in HTTP Basic auth. A token
is reused until 80% of its lifetime has passed (Kafka's sasl.login.refresh.window.factor), so every
connection presents one that is still valid, and a refresh costs no extra round trip while it is fresh.

An MSK IAM token is made locally instead, by AWS's own signer (aws-msk-iam-sasl-signer-python, an optional
dependency) with the standard credential chain; it is reused the same way.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable

from aiokafka.abc import AbstractTokenProvider
from aiokafka.conn import AIOKafkaConnection

from adapters.kafka.config import OAuthClient
from adapters.kafka.wire import ConnectionFailed

REFRESH_AT = 0.8
"""Share of a token's lifetime after which a new one is asked for."""
DEFAULT_LIFETIME_S = 300.0
"""For an answer without ``expires_in``: assume five minutes rather than forever."""


class _ReusedTokens(AbstractTokenProvider):  # type: ignore[misc]
    """The token provider aiokafka calls on every SASL handshake: a token made by :meth:`_fetch` (token,
    lifetime in seconds), reused until REFRESH_AT of its lifetime has passed."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.requests = 0
        self._clock = clock
        self._token: str | None = None
        self._due = 0.0
        self._lock = asyncio.Lock()

    async def token(self) -> str:
        async with self._lock:  # connections opened at once share one request for a token
            if self._token is None or self._clock() >= self._due:
                token, lifetime = await asyncio.to_thread(self._fetch)
                self._token, self._due = token, self._clock() + REFRESH_AT * max(lifetime, 1.0)
            return self._token

    def _fetch(self) -> tuple[str, float]:
        raise NotImplementedError


class ClientCredentialsTokens(_ReusedTokens):
    """Tokens from an OAuth 2 token endpoint, by client credentials."""

    def __init__(self, client: OAuthClient, timeout: float, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(clock)
        self.client = client
        self.timeout = timeout

    def _fetch(self) -> tuple[str, float]:
        client = self.client
        endpoint = client.token_endpoint
        form = {"grant_type": "client_credentials"}
        if client.scope:
            form["scope"] = client.scope
        credentials = f"{_quote(client.client_id)}:{_quote(client.client_secret.reveal())}".encode()
        request = urllib.request.Request(
            endpoint,
            data=urllib.parse.urlencode(form).encode(),
            headers={
                "Authorization": "Basic " + base64.b64encode(credentials).decode("ascii"),
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
            },
        )
        self.requests += 1
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                body = response.read(1 << 20)
        except urllib.error.HTTPError as error:
            refused = error.code in (400, 401, 403)
            why = "refused the client credentials" if refused else "answered with an error"
            raise ConnectionFailed(
                f"the OAuth token endpoint {endpoint} {why} for client {client.client_id!r} (HTTP {error.code})",
                "auth",
                retryable=not refused,
            ) from None
        except (OSError, ValueError) as error:
            reason = getattr(error, "reason", None) or error
            what = f"cannot reach the OAuth token endpoint {endpoint} ({reason})"
            raise ConnectionFailed(what, "unreachable") from None
        try:
            answer = json.loads(body)
            token = answer["access_token"]
            lifetime = float(answer.get("expires_in", DEFAULT_LIFETIME_S))
        except (ValueError, KeyError, TypeError):
            raise ConnectionFailed(
                f"the OAuth token endpoint {endpoint} answered without an access_token", "auth", retryable=False
            ) from None
        if not isinstance(token, str) or not token:
            raise ConnectionFailed(f"the OAuth token endpoint {endpoint} answered with an empty token", "auth")
        if lifetime <= 0:
            # A broker refuses such a token with no more than {"status":"invalid_token"}, as for any other.
            raise ConnectionFailed(
                f"the OAuth token endpoint {endpoint} gave client {client.client_id!r} a token that had already "
                f"expired (expires_in {lifetime:.0f} s); check the token endpoint's clock and token lifetime",
                "auth",
                retryable=False,
            )
        return token, lifetime


class MskIamTokens(_ReusedTokens):
    """AWS MSK IAM tokens for one region, signed with the standard AWS credential chain (environment,
    AWS_PROFILE and ~/.aws, web identity, the instance's or task's role)."""

    def __init__(self, region: str, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(clock)
        self.region = region

    def _fetch(self) -> tuple[str, float]:
        try:
            import botocore.session
            from aws_msk_iam_sasl_signer import MSKAuthTokenProvider
            from botocore.exceptions import BotoCoreError
        except ImportError:
            raise ConnectionFailed(
                "AWS MSK IAM needs the aws-msk-iam-sasl-signer-python package beside flowscope: "
                "pipx inject flowscope aws-msk-iam-sasl-signer-python (or pip install 'flowscope[msk]')",
                "auth",
                retryable=False,
            ) from None
        self.requests += 1
        try:
            # Asked first: the signer, given no credentials, fails with an AttributeError of its own.
            if botocore.session.Session().get_credentials() is None:
                raise ConnectionFailed(
                    "AWS MSK IAM: no AWS credentials found (flowscope uses the standard chain: AWS_ACCESS_KEY_ID "
                    "and AWS_SECRET_ACCESS_KEY, AWS_PROFILE and ~/.aws, web identity, the instance's or task's "
                    "role)",
                    "auth",
                    retryable=False,
                )
            token, expires_ms = MSKAuthTokenProvider.generate_auth_token(self.region)
        except BotoCoreError as error:
            raise ConnectionFailed(f"AWS MSK IAM: signing a token failed ({type(error).__name__})", "auth") from None
        return str(token), int(expires_ms) / 1000 - time.time()  # the signer says when, as wall-clock time


def _quote(text: str) -> str:
    # RFC 6749 section 2.3.1: client id and secret are form-encoded before they are joined for Basic auth.
    return urllib.parse.quote_plus(text)


class _OAuthBearerExchange:
    """The OAUTHBEARER exchange of RFC 7628, including its failure path: a broker that refuses the token
    answers with an error challenge and reports the failure only once the client acknowledges it with a
    single 0x01 byte. aiokafka's own exchange stops after the token and takes that challenge for success,
    so its next request is read by the broker as the acknowledgement and the refusal is never seen."""

    def __init__(self, tokens: AbstractTokenProvider) -> None:
        self._tokens = tokens
        self._sent = self._acknowledged = False

    async def step(self, payload: bytes | None) -> tuple[bytes, bool] | None:
        if not self._sent:
            self._sent = True
            token = await self._tokens.token()
            return f"n,,\x01auth=Bearer {token}\x01\x01".encode(), True
        if payload and not self._acknowledged:
            self._acknowledged = True
            return b"\x01", True
        return None


def connection_type(tokens: AbstractTokenProvider) -> type[AIOKafkaConnection]:
    """A connection class whose OAUTHBEARER exchange takes a refusal as one (see _OAuthBearerExchange)."""

    class OAuthConnection(AIOKafkaConnection):  # type: ignore[misc]
        def authenticator_oauth(self) -> _OAuthBearerExchange:
            return _OAuthBearerExchange(tokens)

    return OAuthConnection
