"""Shared fixtures: the bundled recordings, and a real Kafka broker for tests marked `kafka`.

The broker comes from FLOWSCOPE_TEST_BOOTSTRAP (an existing cluster; each other line scripts/local-kafka
prints, KEY=VALUE, as FLOWSCOPE_TEST_KEY) or from scripts/local-kafka, started once per session in its own
state dir and stopped at the end. With FLOWSCOPE_REQUIRE_KAFKA=1
(as in CI) a Kafka test that skips fails the run: a green run without Kafka is not green.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_data"
LOCAL_KAFKA = ROOT / "scripts" / "local-kafka"
LOCAL_SCHEMA_REGISTRY = ROOT / "scripts" / "local-schema-registry"
TEST_STATE = Path(os.environ.get("FLOWSCOPE_TEST_KAFKA_STATE", ROOT / ".cache" / "local-kafka-tests"))
REGISTRY_TEST_STATE = ROOT / ".cache" / "schema-registry-tests"


@pytest.fixture
def shop_commands() -> Path:
    return SAMPLES / "shop-commands.jsonl"


@pytest.fixture
def shop_events() -> Path:
    return SAMPLES / "shop-events.jsonl"


@dataclass(frozen=True)
class Broker:
    """Where the test broker listens; the SASL listeners take SCRAM-SHA-512 with the test user, the TLS
    ones present a certificate signed by ``tls_ca`` (``mtls_bootstrap`` also asks for the client's)."""

    bootstrap: str
    sasl_bootstrap: str | None
    sasl_mechanism: str
    sasl_username: str
    sasl_password: str
    started_here: bool
    info: dict[str, str]
    """Every line scripts/local-kafka printed: ssl_bootstrap, mtls_bootstrap, sasl_ssl_bootstrap, tls_ca,
    tls_client_cert, tls_client_key, tls_stranger_cert, tls_stranger_key, ..."""

    def tls(self, key: str) -> str:
        """One TLS line of the broker's; the test skips (fails in CI) when the broker has no TLS listeners."""
        value = self.info.get(key)
        if not value:
            message = f"the test broker has no {key} (scripts/local-kafka prints it)"
            if _require_kafka():
                pytest.fail(message)
            pytest.skip(message)
        return value


def _require_kafka() -> bool:
    return os.environ.get("FLOWSCOPE_REQUIRE_KAFKA") == "1"


def local_kafka(command: str, state: Path, *args: str, timeout: float = 600) -> dict[str, str]:
    """Run scripts/local-kafka with a state dir; returns the key=value lines it printed."""
    env = {**os.environ, "FLOWSCOPE_KAFKA_STATE": str(state)}
    done = subprocess.run(
        [str(LOCAL_KAFKA), command, *args], capture_output=True, text=True, timeout=timeout, env=env, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"scripts/local-kafka {command} failed ({done.returncode}): {done.stderr.strip()}")
    return dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)


def start_local_kafka(state: Path, what: str, *args: str) -> dict[str, str]:
    """``local_kafka("up", state, *args)`` for a fixture: without it the test skips (fails with
    FLOWSCOPE_REQUIRE_KAFKA=1), saying it has no ``what``."""
    try:
        return local_kafka("up", state, *args)
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as error:
        message = f"no {what}: {error}"
        if _require_kafka():
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="session")
def kafka() -> Iterator[Broker]:
    existing = os.environ.get("FLOWSCOPE_TEST_BOOTSTRAP")
    if existing:
        prefix = "FLOWSCOPE_TEST_"
        given = {name[len(prefix) :].lower(): value for name, value in os.environ.items() if name.startswith(prefix)}
        yield Broker(
            bootstrap=existing,
            sasl_bootstrap=given.get("sasl_bootstrap"),
            sasl_mechanism="SCRAM-SHA-512",
            sasl_username=given.get("sasl_username", "flowscope"),
            sasl_password=given.get("sasl_password", "flowscope-secret"),
            started_here=False,
            info=given,
        )
        return
    info = start_local_kafka(TEST_STATE, "Kafka broker for the tests")
    try:
        yield Broker(
            bootstrap=info["bootstrap"],
            sasl_bootstrap=info.get("sasl_bootstrap"),
            sasl_mechanism=info.get("sasl_mechanism", "SCRAM-SHA-512"),
            sasl_username=info.get("sasl_username", "flowscope"),
            sasl_password=info.get("sasl_password", "flowscope-secret"),
            started_here=True,
            info=info,
        )
    finally:
        local_kafka("down", TEST_STATE)


def _local_schema_registry(command: str) -> str:
    env = {**os.environ, "FLOWSCOPE_SCHEMA_REGISTRY_STATE": str(REGISTRY_TEST_STATE)}
    done = subprocess.run(
        [str(LOCAL_SCHEMA_REGISTRY), command], capture_output=True, text=True, timeout=600, env=env, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"scripts/local-schema-registry {command} failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout.partition("schema_registry=")[2].strip()


@pytest.fixture(scope="session")
def schema_registry() -> Iterator[str]:
    """The Confluent-compatible API of a real schema registry: FLOWSCOPE_TEST_SCHEMA_REGISTRY, or one that
    scripts/local-schema-registry starts for the session (mark such tests `kafka`: without it they skip,
    and fail with FLOWSCOPE_REQUIRE_KAFKA=1)."""
    existing = os.environ.get("FLOWSCOPE_TEST_SCHEMA_REGISTRY")
    if existing:
        yield existing.rstrip("/")
        return
    try:
        url = _local_schema_registry("up")
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as error:
        message = f"no schema registry: {error}"
        if _require_kafka():
            pytest.fail(message)
        pytest.skip(message)
    try:
        yield url
    finally:
        _local_schema_registry("down")


_skipped_kafka_tests: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and "kafka" in report.keywords:
        _skipped_kafka_tests.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _require_kafka() and _skipped_kafka_tests:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(
                f"FLOWSCOPE_REQUIRE_KAFKA=1 but {len(_skipped_kafka_tests)} Kafka test(s) skipped: "
                + ", ".join(_skipped_kafka_tests[:5]),
                red=True,
            )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
