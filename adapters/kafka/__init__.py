"""The live source: a real Kafka cluster, observed strictly read-only with batched requests.

Import what you need from the modules; this package imports nothing itself, so that reading
connection settings does not load the Kafka client. Public API (what the CLI, the TUI and other
commands use):

- :class:`ConnectionSettings`, :func:`resolve_connection`, :class:`ResolvedConnection` (``config``): typed
  connection settings with precedence CLI > environment > profile > defaults.
- :class:`ConfigError` (``properties``): connection settings that cannot work, whatever level they came from.
- :class:`LiveSource` (``source``): the Source, with its live controls (refresh interval, recording).
- :func:`check_connection`, :func:`observe` (``headless``): fail fast before the UI; observe into a snapshot.
- :class:`ConnectionFailed` (``wire``): a connection problem, ``str()`` is a sentence without secrets.
"""
