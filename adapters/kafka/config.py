"""Connection settings: the Java client properties ops already keep, from profiles, environment and overrides.

Precedence, highest first: the command line (``--bootstrap``, ``-X key=value``, ``--command-config FILE``),
then the environment (``FLOWSCOPE_BOOTSTRAP``, ``FLOWSCOPE_COMMAND_CONFIG``, ``FLOWSCOPE_SASL_USERNAME``, ...),
then the chosen profile of the TOML config file, then the defaults. Within one level a command-config file is
read first and the level's explicit keys override it. Every level is reduced to Java client property names
(``bootstrap.servers``, ``security.protocol``, ``sasl.jaas.config``, ``ssl.truststore.location``, ...), so one
parser turns the merged result into typed :class:`ConnectionSettings`.

Secrets (passwords, private keys) are held in :class:`Secret`, whose repr and str are masked, and every
message built here names the key that is wrong, never its value.
"""

from __future__ import annotations

import os
import re
import ssl
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from adapters.kafka.properties import ConfigError, parse_jaas, read_properties_file
from adapters.schemas.config import SECRET_KEYS as REGISTRY_SECRET_KEYS
from adapters.schemas.config import registry_from_properties
from adapters.schemas.registry import RegistrySettings
from adapters.settings import ENV_PROFILE, Profile, config_path, load_profile

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SECURITY_PROTOCOLS: tuple[SecurityProtocol, ...] = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER", "AWS_MSK_IAM")
MSK_IAM_HANDLERS = frozenset(
    {
        "software.amazon.msk.auth.iam.IAMOAuthBearerLoginCallbackHandler",
        "software.amazon.msk.auth.iam.IAMClientCallbackHandler",
    }
)
"""The Java MSK IAM library's callback handlers: with them, a token is an AWS SigV4-signed request."""
OAUTH_LOGIN_HANDLER = "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler"
DEFAULT_PORT = 9092
DEFAULT_CLIENT_ID = "flowscope"
DEFAULT_REQUEST_TIMEOUT_MS = 10_000

ENV_BOOTSTRAP = "FLOWSCOPE_BOOTSTRAP"
ENV_COMMAND_CONFIG = "FLOWSCOPE_COMMAND_CONFIG"
ENV_PROPERTIES: dict[str, str] = {
    ENV_BOOTSTRAP: "bootstrap.servers",
    "FLOWSCOPE_SECURITY_PROTOCOL": "security.protocol",
    "FLOWSCOPE_SASL_MECHANISM": "sasl.mechanism",
    "FLOWSCOPE_SASL_USERNAME": "sasl.username",
    "FLOWSCOPE_SASL_PASSWORD": "sasl.password",
    "AWS_DEFAULT_REGION": "aws.region",
    "AWS_REGION": "aws.region",
    "FLOWSCOPE_SCHEMA_REGISTRY": "schema.registry.url",
    "FLOWSCOPE_SCHEMA_REGISTRY_USER_INFO": "basic.auth.user.info",
}
"""Environment variables that stand for one client property each."""

SECRET_KEYS = frozenset(
    {
        "sasl.jaas.config",
        "sasl.password",
        "ssl.key.password",
        "ssl.keystore.password",
        "ssl.truststore.password",
        "ssl.keystore.key",
        "sasl.oauthbearer.client.credentials.client.secret",
        *REGISTRY_SECRET_KEYS,
    }
)

# Other names for the same settings: librdkafka's (what kcat's -X takes) and a few short forms.
_ALIASES = {
    "metadata.broker.list": "bootstrap.servers",
    "bootstrap": "bootstrap.servers",
    "sasl.mechanisms": "sasl.mechanism",
    "ssl.ca.location": "ssl.truststore.location",
    "ssl.certificate.location": "ssl.keystore.certificate.location",
    "ssl.key.location": "ssl.keystore.key.location",
}

_USED_KEYS = frozenset(
    {
        "bootstrap.servers",
        "security.protocol",
        "sasl.mechanism",
        "sasl.jaas.config",
        "sasl.username",
        "sasl.password",
        "ssl.truststore.type",
        "ssl.truststore.location",
        "ssl.truststore.certificates",
        "ssl.truststore.password",
        "ssl.keystore.type",
        "ssl.keystore.location",
        "ssl.keystore.certificate.chain",
        "ssl.keystore.certificate.location",
        "ssl.keystore.key",
        "ssl.keystore.key.location",
        "ssl.keystore.password",
        "ssl.key.password",
        "ssl.endpoint.identification.algorithm",
        "sasl.oauthbearer.token.endpoint.url",
        "sasl.oauthbearer.scope",
        "sasl.oauthbearer.client.credentials.client.id",
        "sasl.oauthbearer.client.credentials.client.secret",
        "client.id",
        "request.timeout.ms",
    }
)

PEM_ADVICE = (
    "flowscope reads PEM files only: export the CA certificate with "
    "`keytool -exportcert -rfc -keystore TRUSTSTORE -alias ALIAS -file ca.pem` "
    "(or `openssl pkcs12 -in TRUSTSTORE.p12 -nokeys -out ca.pem` for PKCS12), "
    "then set ssl.truststore.type=PEM and ssl.truststore.location=ca.pem"
)
KEYSTORE_ADVICE = (
    "flowscope reads PEM files only: convert the keystore with "
    "`keytool -importkeystore -srckeystore KEYSTORE.jks -destkeystore keystore.p12 -deststoretype PKCS12` and "
    "`openssl pkcs12 -in keystore.p12 -out keystore.pem` (key and certificate chain in one file), then set "
    "ssl.keystore.type=PEM and ssl.keystore.location=keystore.pem"
)


class Secret:
    """A password or private key: revealed only to the code that needs it, masked everywhere else."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('******')"

    def __str__(self) -> str:
        return "******"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> Any:
        raise TypeError("a Secret is not serialised")


# -- typed settings ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OAuthClient:
    """OAuth 2 client credentials (RFC 6749 section 4.4), as Kafka's OAuthBearerLoginCallbackHandler takes them."""

    token_endpoint: str
    client_id: str
    client_secret: Secret
    scope: str | None = None


@dataclass(frozen=True)
class ConnectionSettings:
    """Everything needed to open connections to one cluster. Secrets are :class:`Secret` values."""

    bootstrap: tuple[str, ...]
    security_protocol: SecurityProtocol = "PLAINTEXT"
    sasl_mechanism: str | None = None
    sasl_username: str | None = None
    sasl_password: Secret | None = None
    ssl_cafile: str | None = None
    ssl_cadata: str | None = field(default=None, repr=False)
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None
    ssl_cert_pem: str | None = field(default=None, repr=False)
    ssl_key_pem: Secret | None = None
    ssl_key_password: Secret | None = None
    ssl_check_hostname: bool = True
    oauth: OAuthClient | None = None
    """OAUTHBEARER: the token endpoint and client credentials tokens are asked for with."""
    msk_region: str | None = None
    """AWS MSK IAM: tokens are SigV4-signed for this region with the standard AWS credential chain."""
    client_id: str = DEFAULT_CLIENT_ID
    request_timeout_ms: int = DEFAULT_REQUEST_TIMEOUT_MS
    ignored: tuple[str, ...] = field(default=(), compare=False)
    """Security-related keys that were given but that flowscope does not use (to warn about)."""
    registry: RegistrySettings | None = None
    """The schema registry records are decoded through (schema.registry.url ...), if any."""

    @property
    def label(self) -> str:
        """The bootstrap address as shown on screen and in recordings (never credentials)."""
        return ",".join(self.bootstrap)

    @property
    def uses_sasl(self) -> bool:
        return self.security_protocol.startswith("SASL_")

    @property
    def uses_tls(self) -> bool:
        return self.security_protocol in ("SSL", "SASL_SSL")

    def describe(self) -> str:
        """One line on how flowscope connects, without secrets: for the status bar and recordings."""
        text: str = self.security_protocol
        if self.uses_sasl:
            text += f" {self.sasl_mechanism}"
            if self.msk_region is not None:
                text += f" (AWS MSK IAM, {self.msk_region})"
            elif self.oauth is not None:
                text += f" as client {self.oauth.client_id} of {self.oauth.token_endpoint}"
            elif self.sasl_username:
                text += f" as {self.sasl_username}"
        if self.registry is not None:
            text += f", schemas from {self.registry.label}"
        return text

    def secrets(self) -> tuple[str, ...]:
        values = (
            self.sasl_password,
            self.ssl_key_pem,
            self.ssl_key_password,
            self.oauth.client_secret if self.oauth else None,
        )
        found = [secret.reveal() for secret in values if secret is not None and secret.reveal()]
        registry = self.registry
        if registry is not None:
            found += [s for s in (registry.password, registry.key_password) if s]
        return tuple(found)

    def redact(self, text: str) -> str:
        """``text`` with every secret of these settings masked (for messages built from broker errors)."""
        for secret in sorted(self.secrets(), key=len, reverse=True):
            if len(secret) >= 3:
                text = text.replace(secret, "******")
        return text

    def ssl_context(self) -> ssl.SSLContext | None:
        """The TLS context for SSL / SASL_SSL, from PEM files or inline PEM; None for plaintext."""
        if not self.uses_tls:
            return None
        try:
            context = ssl.create_default_context(cafile=self.ssl_cafile, cadata=self.ssl_cadata)
        except FileNotFoundError:
            raise ConfigError(f"ssl.truststore.location {self.ssl_cafile} does not exist") from None
        except ssl.SSLError:
            raise ConfigError("the CA certificates (ssl.truststore.*) are not valid PEM") from None
        context.check_hostname = self.ssl_check_hostname
        password = self.ssl_key_password.reveal() if self.ssl_key_password else None
        if self.ssl_cert_pem is not None or self.ssl_key_pem is not None:
            _load_inline_chain(context, self.ssl_cert_pem or "", self.ssl_key_pem, password)
        elif self.ssl_certfile is not None:
            try:
                context.load_cert_chain(self.ssl_certfile, self.ssl_keyfile, password)
            except FileNotFoundError:
                raise ConfigError(f"the client certificate or key file ({self.ssl_certfile}) does not exist") from None
            except ssl.SSLError:
                raise ConfigError(
                    f"the client certificate and key in {self.ssl_certfile} cannot be loaded: "
                    "not PEM, key and certificate do not match, or wrong ssl.key.password"
                ) from None
        return context


def _load_inline_chain(context: ssl.SSLContext, chain: str, key: Secret | None, password: str | None) -> None:
    """Python loads client certificates from files only: write inline PEM to a private temporary file."""
    descriptor, name = tempfile.mkstemp(prefix="flowscope-", suffix=".pem")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write((key.reveal() if key else "") + "\n" + chain + "\n")
        context.load_cert_chain(name, None, password)
    except ssl.SSLError:
        raise ConfigError(
            "ssl.keystore.key / ssl.keystore.certificate.chain cannot be loaded: "
            "not PEM, not matching, or wrong ssl.key.password"
        ) from None
    finally:
        os.unlink(name)


def settings_from_properties(properties: Mapping[str, str], origin: str = "the settings") -> ConnectionSettings:
    """Typed settings from Java client properties (already merged by precedence)."""
    props = {_ALIASES.get(key.strip(), key.strip()): value for key, value in properties.items()}

    bootstrap = tuple(_parse_bootstrap(props.get("bootstrap.servers", "")))
    if not bootstrap:
        raise ConfigError(
            "no bootstrap servers: give --bootstrap HOST:PORT, set FLOWSCOPE_BOOTSTRAP, "
            "put bootstrap.servers in a --command-config file, or choose a --profile"
        )

    protocol_text = props.get("security.protocol", "PLAINTEXT").strip().upper()
    if protocol_text not in SECURITY_PROTOCOLS:
        raise ConfigError(f"security.protocol {protocol_text!r} is not one of {', '.join(SECURITY_PROTOCOLS)}")
    protocol: SecurityProtocol = protocol_text

    mechanism: str | None = None
    username: str | None = props.get("sasl.username") or None
    password_text: str | None = props.get("sasl.password") or None
    oauth: OAuthClient | None = None
    msk_region: str | None = None
    if protocol.startswith("SASL_"):
        module = ""
        options: dict[str, str] = {}
        jaas = props.get("sasl.jaas.config")
        if jaas:
            module, options = parse_jaas(jaas)
            username = options.get("username", username)
            password_text = options.get("password", password_text)
        mechanism = props.get("sasl.mechanism", "").strip().upper() or None
        if mechanism is None:
            if module.endswith("PlainLoginModule"):
                mechanism = "PLAIN"
            else:
                raise ConfigError(
                    f"security.protocol is {protocol} but sasl.mechanism is not set "
                    f"(use one of {', '.join(SASL_MECHANISMS)})"
                )
        if mechanism not in SASL_MECHANISMS:
            raise ConfigError(
                f"sasl.mechanism {mechanism} is not supported by flowscope (use one of "
                f"{', '.join(SASL_MECHANISMS)}; GSSAPI is not available)"
            )
        handler = props.get("sasl.client.callback.handler.class") or props.get("sasl.login.callback.handler.class")
        if mechanism == "AWS_MSK_IAM" or (mechanism == "OAUTHBEARER" and (handler or "").strip() in MSK_IAM_HANDLERS):
            mechanism, msk_region = "OAUTHBEARER", _msk_region(props)  # MSK takes IAM tokens over OAUTHBEARER
        elif mechanism == "OAUTHBEARER":
            oauth = _oauth_client(props, options)
        elif not username or password_text is None:
            raise ConfigError(
                f"{mechanism} needs a username and a password: set sasl.jaas.config "
                f'(ScramLoginModule or PlainLoginModule required username="..." password="...";) or '
                "sasl.username and sasl.password (FLOWSCOPE_SASL_USERNAME / FLOWSCOPE_SASL_PASSWORD)"
            )

    ca_file = ca_data = cert_file = key_file = cert_pem = None
    key_pem: Secret | None = None
    key_password: Secret | None = None
    check_hostname = True
    if protocol in ("SSL", "SASL_SSL"):
        ca_file, ca_data = _truststore(props)
        cert_file, key_file, cert_pem, key_pem = _keystore(props)
        password = props.get("ssl.key.password") or props.get("ssl.keystore.password")
        key_password = Secret(password) if password else None
        check_hostname = props.get("ssl.endpoint.identification.algorithm", "https").strip().lower() == "https"

    timeout = props.get("request.timeout.ms", str(DEFAULT_REQUEST_TIMEOUT_MS)).strip()
    if not timeout.isdigit() or int(timeout) < 100:
        raise ConfigError("request.timeout.ms must be a whole number of milliseconds (100 or more)")

    used = _USED_KEYS
    for key in ("sasl.login.callback.handler.class", "sasl.client.callback.handler.class"):
        if props.get(key, "").strip() in MSK_IAM_HANDLERS | {OAUTH_LOGIN_HANDLER}:
            used = used | {key}  # what flowscope does itself: client credentials, or MSK IAM signing
    ignored = tuple(sorted(key for key in props if key.startswith(("sasl.", "ssl.")) and key not in used))
    return ConnectionSettings(
        bootstrap=bootstrap,
        security_protocol=protocol,
        sasl_mechanism=mechanism,
        sasl_username=username if mechanism and not oauth and not msk_region else None,
        sasl_password=(
            Secret(password_text) if mechanism and not (oauth or msk_region) and password_text is not None else None
        ),
        ssl_cafile=ca_file,
        ssl_cadata=ca_data,
        ssl_certfile=cert_file,
        ssl_keyfile=key_file,
        ssl_cert_pem=cert_pem,
        ssl_key_pem=key_pem,
        ssl_key_password=key_password,
        ssl_check_hostname=check_hostname,
        oauth=oauth,
        msk_region=msk_region,
        client_id=props.get("client.id", DEFAULT_CLIENT_ID).strip() or DEFAULT_CLIENT_ID,
        request_timeout_ms=int(timeout),
        ignored=ignored,
        registry=registry_from_properties(props),
    )


def _oauth_client(props: Mapping[str, str], jaas: Mapping[str, str]) -> OAuthClient:
    """Client credentials for OAUTHBEARER from the Java client's keys: the token endpoint in
    ``sasl.oauthbearer.token.endpoint.url``, clientId / clientSecret / scope in the JAAS options (or the
    ``sasl.oauthbearer.client.credentials.*`` and ``sasl.oauthbearer.scope`` keys of newer clients)."""
    endpoint = props.get("sasl.oauthbearer.token.endpoint.url", "").strip()
    client_id = jaas.get("clientId") or props.get("sasl.oauthbearer.client.credentials.client.id", "")
    secret = jaas.get("clientSecret") or props.get("sasl.oauthbearer.client.credentials.client.secret", "")
    scope = jaas.get("scope") or props.get("sasl.oauthbearer.scope") or None
    if not endpoint.startswith(("https://", "http://")):
        raise ConfigError(
            "OAUTHBEARER needs sasl.oauthbearer.token.endpoint.url, the https:// URL of the token endpoint "
            "(flowscope asks it for a token with client credentials)"
        )
    if not client_id or not secret:
        raise ConfigError(
            "OAUTHBEARER needs client credentials: sasl.jaas.config=org.apache.kafka.common.security."
            'oauthbearer.OAuthBearerLoginModule required clientId="..." clientSecret="..." scope="...";'
        )
    return OAuthClient(endpoint, client_id.strip(), Secret(secret), scope)


def _msk_region(props: Mapping[str, str]) -> str:
    region = props.get("aws.region", "").strip()
    if not re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d", region):
        raise ConfigError(
            "AWS MSK IAM needs the cluster's AWS region: --aws-region REGION, AWS_REGION or -X aws.region=REGION "
            + (f"({region!r} is not a region like eu-west-1)" if region else "(none given)")
        )
    return region


def _parse_bootstrap(text: str) -> Iterable[str]:
    for part in text.split(","):
        address = part.strip()
        if not address:
            continue
        address = re.sub(r"^[A-Za-z_]+://", "", address)  # PLAINTEXT://host:port as in listener lists
        host, port = split_address(address)
        yield f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def split_address(address: str) -> tuple[str, int]:
    """``host:port``, ``[v6]:port`` or ``host`` (port 9092) -> (host, port); ConfigError if malformed."""
    match = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\](?::(\d{1,5}))?|([^:\[\]\s]+)(?::(\d{1,5}))?", address)
    if match is None:
        raise ConfigError(f"bootstrap address {_shown(address)} is not HOST:PORT")
    host = match.group(1) or match.group(3)
    if match.group(3):
        _check_host_name(host)
    port = int(match.group(2) or match.group(4) or DEFAULT_PORT)
    if not 0 < port < 65536:
        raise ConfigError(f"bootstrap address {address!r} has an invalid port")
    return host, port


def _check_host_name(host: str) -> None:
    """ConfigError for a name DNS cannot carry (the resolver would fail with a UnicodeError): over 253
    characters, a part between dots empty or over 63, or a non-ASCII name IDNA cannot encode."""
    shape = "a name has at most 253 characters, and 1 to 63 between dots"
    try:
        encoded = host.encode("ascii") if host.isascii() else host.encode("idna")
    except UnicodeError:
        raise ConfigError(f"bootstrap host {_shown(host)} is not a valid host name ({shape})") from None
    if len(encoded) > 253 or any(not 0 < len(label) <= 63 for label in encoded.removesuffix(b".").split(b".")):
        raise ConfigError(f"bootstrap host {_shown(host)} is not a valid host name ({shape})")


def _shown(text: str) -> str:
    return repr(text) if len(text) <= 60 else repr(text[:57] + "...")


def _store_type(props: Mapping[str, str], key: str, location: str | None) -> str:
    declared = props.get(key, "").strip().upper()
    if declared:
        return declared
    if location and location.lower().endswith((".jks", ".p12", ".pfx", ".keystore", ".truststore")):
        return "JKS" if location.lower().endswith((".jks", ".keystore", ".truststore")) else "PKCS12"
    return "PEM"


def _truststore(props: Mapping[str, str]) -> tuple[str | None, str | None]:
    location = props.get("ssl.truststore.location", "").strip() or None
    inline = props.get("ssl.truststore.certificates", "").strip() or None
    kind = _store_type(props, "ssl.truststore.type", location)
    if kind != "PEM":
        raise ConfigError(f"ssl.truststore.type {kind} is not supported: {PEM_ADVICE}")
    if location is not None:
        location = str(Path(location).expanduser())
    return location, inline


def _keystore(props: Mapping[str, str]) -> tuple[str | None, str | None, str | None, Secret | None]:
    location = props.get("ssl.keystore.location", "").strip() or None
    kind = _store_type(props, "ssl.keystore.type", location)
    if kind != "PEM" and (location or props.get("ssl.keystore.key")):
        raise ConfigError(f"ssl.keystore.type {kind} is not supported: {KEYSTORE_ADVICE}")
    cert_file = props.get("ssl.keystore.certificate.location", "").strip() or location
    key_file = props.get("ssl.keystore.key.location", "").strip() or None
    chain = props.get("ssl.keystore.certificate.chain", "").strip() or None
    key = props.get("ssl.keystore.key", "").strip() or None
    if (chain is None) != (key is None):
        raise ConfigError("ssl.keystore.key and ssl.keystore.certificate.chain go together: set both or neither")
    return (
        str(Path(cert_file).expanduser()) if cert_file else None,
        str(Path(key_file).expanduser()) if key_file else None,
        chain,
        Secret(key) if key else None,
    )


# -- precedence ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResolvedConnection:
    """The settings after precedence, plus the profile's live-view options when it has them."""

    settings: ConnectionSettings
    profile: Profile | None = None

    @property
    def interval(self) -> float | None:
        return self.profile.interval if self.profile else None

    @property
    def payloads(self) -> str | None:
        return self.profile.payloads if self.profile else None


def parse_override(text: str) -> tuple[str, str]:
    """``key=value`` from ``-X``; the message never repeats the argument (it may hold a password)."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError("-X expects key=value (an argument had no '=' or no key)")
    return key.strip(), value


def resolve_connection(
    *,
    bootstrap: str | None = None,
    command_config: str | None = None,
    overrides: Sequence[str] = (),
    profile: str | None = None,
    config_file: str | None = None,
    environ: Mapping[str, str] | None = None,
    schema_registry: str | None = None,
) -> ResolvedConnection:
    """Merge defaults < profile < environment < command line into typed settings.

    ``bootstrap``, ``command_config``, ``overrides`` (``-X key=value``), ``profile`` and ``config_file``
    come from the command line (None when not given); ``environ`` defaults to ``os.environ``.
    """
    env = os.environ if environ is None else environ
    merged: dict[str, str] = {}

    chosen = profile or env.get(ENV_PROFILE) or None
    loaded: Profile | None = None
    if chosen:
        path = Path(config_file).expanduser() if config_file else config_path(env)
        loaded = load_profile(path, chosen)
        if loaded.command_config is not None:
            _merge(merged, read_properties_file(loaded.command_config, f"profile {chosen!r}"))
        _merge(merged, loaded.properties)
        if loaded.bootstrap:
            merged["bootstrap.servers"] = loaded.bootstrap

    env_file = env.get(ENV_COMMAND_CONFIG)
    if env_file:
        _merge(merged, read_properties_file(env_file, ENV_COMMAND_CONFIG))
    _merge(merged, {key: env[variable] for variable, key in ENV_PROPERTIES.items() if env.get(variable)})

    if command_config:
        _merge(merged, read_properties_file(command_config, "--command-config"))
    _merge(merged, dict(parse_override(override) for override in overrides))
    if bootstrap:
        merged["bootstrap.servers"] = bootstrap
    if schema_registry:
        merged["schema.registry.url"] = schema_registry

    return ResolvedConnection(settings_from_properties(merged), loaded)


def _merge(into: dict[str, str], props: Mapping[str, str]) -> None:
    """Later levels win key by key; aliases are folded first so -X ssl.ca.location overrides a file's
    ssl.truststore.location."""
    for key, value in props.items():
        into[_ALIASES.get(key.strip(), key.strip())] = value
