"""Schema registry settings from the properties ops already keep for Confluent's serialisers.

Keys: ``schema.registry.url``; ``basic.auth.credentials.source`` (``USER_INFO``, or ``URL`` for credentials
in the URL) with ``basic.auth.user.info=user:secret`` (also under the ``schema.registry.`` prefix); TLS to the
registry from PEM files: ``schema.registry.ssl.truststore.location`` (the CA), ``schema.registry.ssl.keystore.
location`` (key and certificate chain, for mutual TLS), ``schema.registry.ssl.key.password`` and
``schema.registry.ssl.endpoint.identification.algorithm`` (empty: no host name check). Messages name the key
that is wrong, never its value.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping

from adapters.schemas.registry import RegistrySettings
from adapters.settings import SettingsError

SECRET_KEYS = frozenset(
    {"basic.auth.user.info", "schema.registry.basic.auth.user.info", "schema.registry.ssl.key.password"}
)


def _get(props: Mapping[str, str], key: str) -> str | None:
    value = props.get(key)
    if value is None and not key.startswith("schema.registry."):
        value = props.get("schema.registry." + key)
    return value.strip() if value is not None else None


def registry_from_properties(props: Mapping[str, str]) -> RegistrySettings | None:
    """The registry the properties name, or None when ``schema.registry.url`` is not set."""
    url = _get(props, "schema.registry.url")
    if not url:
        return None
    url = url.split(",")[0].strip()  # Confluent allows several; the first is enough to read schemas
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError("schema.registry.url must be an http:// or https:// URL with a host")
    source = (_get(props, "basic.auth.credentials.source") or "URL").upper()
    username = password = None
    if source == "USER_INFO":
        info = _get(props, "basic.auth.user.info")
        if not info or ":" not in info:
            raise SettingsError("basic.auth.credentials.source=USER_INFO needs basic.auth.user.info=USER:SECRET")
        username, _, password = info.partition(":")
    elif source != "URL":
        raise SettingsError("basic.auth.credentials.source must be USER_INFO or URL (SASL_INHERIT is not supported)")
    for kind in ("truststore", "keystore"):
        store_type = _get(props, f"schema.registry.ssl.{kind}.type")
        if store_type and store_type.upper() != "PEM":
            raise SettingsError(f"schema.registry.ssl.{kind}.type: flowscope reads PEM files only")
    keystore = _get(props, "schema.registry.ssl.keystore.location")
    return RegistrySettings(
        url=url,
        username=username,
        password=password,
        ca_file=_get(props, "schema.registry.ssl.truststore.location") or None,
        cert_file=keystore or None,
        key_file=keystore or None,
        key_password=_get(props, "schema.registry.ssl.key.password") or None,
        verify_hostname=_get(props, "schema.registry.ssl.endpoint.identification.algorithm") != "",
    )
