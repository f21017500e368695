"""The live source: a real Kafka cluster, observed strictly read-only with batched requests.

Public API (what the CLI, the TUI and other commands use):

- :class:`ConnectionSettings`, :func:`resolve_connection`, :class:`ResolvedConnection`, :class:`ConfigError`
  (``config``): typed connection settings with precedence CLI > environment > profile > defaults.
- :class:`LiveSource` (``source``): the Source; ``set_interval``, ``shorter_interval``, ``longer_interval``.
- :func:`check_connection`, :func:`observe` (``headless``): fail fast before the UI; observe into a snapshot.
- :class:`ConnectionFailed` (``wire``): a connection problem, ``str()`` is a sentence without secrets.
"""

from adapters.kafka.config import (
    ConfigError,
    ConnectionSettings,
    ResolvedConnection,
    Secret,
    resolve_connection,
)
from adapters.kafka.headless import ClusterSummary, check_connection, observe, observe_async, probe
from adapters.kafka.protocol import READ_ONLY_API_KEYS
from adapters.kafka.sampler import PAYLOAD_CHOICES, Payloads, SamplerOptions
from adapters.kafka.source import DEFAULT_INTERVAL, INTERVALS, LiveSource
from adapters.kafka.wire import ConnectionFailed

__all__ = [
    "DEFAULT_INTERVAL",
    "INTERVALS",
    "PAYLOAD_CHOICES",
    "READ_ONLY_API_KEYS",
    "ClusterSummary",
    "ConfigError",
    "ConnectionFailed",
    "ConnectionSettings",
    "LiveSource",
    "Payloads",
    "ResolvedConnection",
    "SamplerOptions",
    "Secret",
    "check_connection",
    "observe",
    "observe_async",
    "probe",
    "resolve_connection",
]
