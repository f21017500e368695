"""Live attach over TLS on the real broker: SSL, mutual TLS and SASL_SSL with SCRAM, configured the way ops
keep it (a client properties file, or -X keys), with PEM files made by scripts/local-kafka. A wrong client
certificate, an untrusted server and a wrong password each end in one sentence, exit 2, nothing secret
printed or recorded; and over TLS too, every request flowscope sends is read-only."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest

from adapters.kafka.codec import READ_ONLY_API_KEYS
from adapters.kafka.config import resolve_connection
from adapters.kafka.source import LiveSource
from tests.live_helpers import cluster_state, create_topics, flowscope, produce, recorded_api_keys, refreshes, unique

pytestmark = pytest.mark.kafka

ROOT = Path(__file__).resolve().parent.parent
WRONG_PASSWORD = "not-the-Secret-77"


def trust(kafka) -> list[str]:
    return ["ssl.truststore.type=PEM", f"ssl.truststore.location={kafka.tls('tls_ca')}"]


def client_certificate(kafka, who: str = "client") -> list[str]:
    return [
        "ssl.keystore.type=PEM",
        f"ssl.keystore.certificate.location={kafka.tls(f'tls_{who}_cert')}",
        f"ssl.keystore.key.location={kafka.tls(f'tls_{who}_key')}",
    ]


def scram(kafka, password: str | None = None) -> list[str]:
    return [
        "sasl.mechanism=SCRAM-SHA-512",
        f"sasl.username={kafka.sasl_username}",
        f"sasl.password={password or kafka.sasl_password}",
    ]


def listener(kafka, name: str) -> tuple[str, list[str]]:
    """The bootstrap address of a TLS listener and the client properties that fit it."""
    if name == "ssl":
        return kafka.tls("ssl_bootstrap"), ["security.protocol=SSL", *trust(kafka)]
    if name == "mtls":
        return kafka.tls("mtls_bootstrap"), ["security.protocol=SSL", *trust(kafka), *client_certificate(kafka)]
    return kafka.tls("sasl_ssl_bootstrap"), ["security.protocol=SASL_SSL", *trust(kafka), *scram(kafka)]


def overrides(properties: list[str]) -> list[str]:
    return [argument for item in properties for argument in ("-X", item)]


@pytest.fixture(scope="module")
def topic(kafka) -> str:
    name = unique("tls-orders")

    async def fill() -> None:
        await create_topics(kafka.bootstrap, {name: 2})
        await produce(kafka.bootstrap, name, 20, source="shop", type_="OrderPlaced")

    asyncio.run(fill())
    return name


@pytest.mark.parametrize("name", ["ssl", "mtls", "sasl_ssl"])
async def test_report_attaches_over_a_tls_listener(kafka, topic, name, tmp_path):
    bootstrap, properties = listener(kafka, name)
    # The Java client properties file Kafka's own tools read, as ops keep it.
    config = tmp_path / "client.properties"
    config.write_text("".join(line + "\n" for line in properties))
    code, out, err, _ = await asyncio.to_thread(
        flowscope,
        "report",
        "--format",
        "json",
        "--duration",
        "3",
        "--bootstrap",
        bootstrap,
        "--command-config",
        str(config),
    )
    assert code == 0, err
    report = json.loads(out)
    assert topic in {row["name"] for row in report["topics"]}
    assert report["source"] == bootstrap


def secrets_of(kafka) -> list[str]:
    key_body = "".join(Path(kafka.tls("tls_client_key")).read_text().splitlines()[1:3])
    stranger_body = "".join(Path(kafka.tls("tls_stranger_key")).read_text().splitlines()[1:3])
    return [WRONG_PASSWORD, kafka.sasl_password, key_body, stranger_body]


FAILURES = {
    "no client certificate": ("mtls_bootstrap", lambda k: ["security.protocol=SSL", *trust(k)], "client certificate"),
    "a client certificate from an unknown CA": (
        "mtls_bootstrap",
        lambda k: ["security.protocol=SSL", *trust(k), *client_certificate(k, "stranger")],
        "may not trust this one",
    ),
    "an untrusted server": (
        "ssl_bootstrap",
        lambda k: [
            "security.protocol=SSL",
            "ssl.truststore.type=PEM",
            f"ssl.truststore.location={k.tls('tls_stranger_cert')}",
        ],
        "is not trusted",
    ),
    "a wrong password": (
        "sasl_ssl_bootstrap",
        lambda k: ["security.protocol=SASL_SSL", *trust(k), *scram(k, WRONG_PASSWORD)],
        "authentication failed",
    ),
    "TLS to a plaintext port": ("bootstrap", lambda k: ["security.protocol=SSL", *trust(k)], "TLS listener"),
}


@pytest.mark.parametrize("case", list(FAILURES))
async def test_a_tls_failure_is_one_sentence_exit_2_and_nothing_secret(kafka, case, tmp_path):
    key, properties, words = FAILURES[case]
    bootstrap = kafka.bootstrap if key == "bootstrap" else kafka.tls(key)
    recording = tmp_path / "flow.jsonl"
    started = time.monotonic()
    code, out, err, _ = await asyncio.to_thread(
        flowscope,
        "record",
        "--bootstrap",
        bootstrap,
        *overrides(properties(kafka)),
        "-o",
        str(recording),
        "--duration",
        "20",
    )
    assert code == 2, (out, err)
    assert time.monotonic() - started < 20, "a failure that cannot pass is reported at once"
    assert words in err and err.count("\n") == 1 and "Traceback" not in err, err
    written = recording.read_text() if recording.exists() else ""
    for secret in secrets_of(kafka):
        assert secret not in out + err + written


async def test_over_tls_a_live_session_sends_only_read_only_requests_and_changes_nothing(kafka, topic):
    bootstrap, properties = listener(kafka, "mtls")
    settings = resolve_connection(bootstrap=bootstrap, overrides=properties, environ={}).settings
    before = await asyncio.to_thread(cluster_state, kafka.bootstrap)
    with recorded_api_keys() as sent:
        sink = await refreshes(LiveSource(settings, interval=0.5, payloads="full"), 3)
    after = await asyncio.to_thread(cluster_state, kafka.bootstrap)
    keys = {key for _, key in sent}
    assert keys <= set(READ_ONLY_API_KEYS), sorted(keys - set(READ_ONLY_API_KEYS))
    assert {address for address, _ in sent} == {bootstrap}, "every request went over the TLS listener"
    assert {1, 2, 3} <= keys and sink.of_kind("record")
    assert after == before
