"""Faults with real brokers: unreachable at start, wrong SCRAM password, secrets kept out of every output,
and a broker that goes away mid-session and comes back (a dedicated broker, stopped and started)."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from pathlib import Path

import pytest

from adapters.files.recording import RecordingWriter
from adapters.kafka.config import resolve_connection
from adapters.kafka.headless import probe
from adapters.kafka.source import LiveSource
from adapters.kafka.wire import ConnectionFailed
from flow.observations import StatusObs
from tests.conftest import local_kafka, start_local_kafka
from tests.live_helpers import (
    Collector,
    consume_and_commit,
    create_topics,
    flowscope,
    produce,
    refreshes,
    run_until,
    settings_for,
    stop,
    unique,
)
from tests.waiting import wait_until_async

pytestmark = pytest.mark.kafka

WRONG_PASSWORD = "not-the-Secret-42"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def sasl(kafka) -> str:
    if not kafka.sasl_bootstrap:
        pytest.fail("the test broker has no SASL listener (set FLOWSCOPE_TEST_SASL_BOOTSTRAP)")
    return str(kafka.sasl_bootstrap)


@pytest.mark.parametrize("command", ["live", "report"])
def test_an_unreachable_bootstrap_exits_2_with_a_sentence_within_15_seconds(command):
    code, out, err, seconds = flowscope(command, "--bootstrap", f"127.0.0.1:{closed_port()}", timeout=30)
    assert code == 2
    assert seconds < 15
    assert "cannot reach Kafka at 127.0.0.1:" in err
    assert "Traceback" not in out + err


def test_a_wrong_scram_password_exits_2_saying_authentication_failed(kafka, tmp_path):
    config = tmp_path / "client.properties"
    config.write_text(
        f"bootstrap.servers={sasl(kafka)}\n"
        "security.protocol=SASL_PLAINTEXT\n"
        "sasl.mechanism=SCRAM-SHA-512\n"
        "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required \\\n"
        f'    username="{kafka.sasl_username}" password="{WRONG_PASSWORD}";\n'
    )
    runs = [
        flowscope("live", "--command-config", str(config)),
        flowscope(
            "report",
            "-b",
            sasl(kafka),
            "-X",
            "security.protocol=SASL_PLAINTEXT",
            "-X",
            "sasl.mechanism=SCRAM-SHA-512",
            "-X",
            f"sasl.username={kafka.sasl_username}",
            env={"FLOWSCOPE_SASL_PASSWORD": WRONG_PASSWORD},
        ),
    ]
    for code, out, err, seconds in runs:
        assert code == 2, err
        assert "authentication failed" in err
        assert seconds < 15
        assert WRONG_PASSWORD not in out + err
        assert kafka.sasl_password not in out + err
        assert "Traceback" not in out + err


async def test_secrets_stay_out_of_logs_recordings_reprs_and_errors(kafka, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)  # even at debug level, aiokafka's SASL frames are not logged
    properties = [
        "security.protocol=SASL_PLAINTEXT",
        "sasl.mechanism=SCRAM-SHA-512",
        f"sasl.username={kafka.sasl_username}",
        f"sasl.password={kafka.sasl_password}",
    ]
    settings = resolve_connection(bootstrap=sasl(kafka), overrides=properties, environ={}).settings
    topic = unique("secret-sauce")
    await create_topics(kafka.bootstrap, {topic: 1})
    await produce(kafka.bootstrap, topic, 5, source="kitchen")

    source = LiveSource(settings, interval=0.5)
    sink = await refreshes(source, 2)
    recording = tmp_path / "session.jsonl"
    with RecordingWriter(
        recording, {"kind": source.info.kind, "label": source.info.label, "detail": source.info.detail}
    ) as writer:
        for obs in sink.observations:
            writer.write(obs)
    assert any(obs.kind == "record" and obs.topic == topic for obs in sink.observations)

    wrong = resolve_connection(
        bootstrap=sasl(kafka), overrides=[*properties[:3], f"sasl.password={WRONG_PASSWORD}"], environ={}
    ).settings
    with pytest.raises(ConnectionFailed) as failure:
        await probe(wrong)
    assert failure.value.reason == "auth" and not failure.value.retryable

    texts = {
        "logs": caplog.text + "".join(str(record.args) for record in caplog.records),
        "recording": recording.read_text(),
        "reprs": repr(settings) + repr(source.info) + str(settings.describe()) + repr(wrong),
        "error": str(failure.value) + repr(failure.value),
    }
    for where, text in texts.items():
        assert kafka.sasl_password not in text, where
        assert WRONG_PASSWORD not in text, where
    assert source.info.label == sasl(kafka)


@pytest.fixture
def own_broker(tmp_path_factory):
    """A broker of this test's own, which it may stop and start (never the shared session broker)."""
    # A state dir per test run, so two runs on one machine never stop each other's broker.
    state = Path(os.environ.get("FLOWSCOPE_TEST_RECONNECT_STATE") or tmp_path_factory.mktemp("kafka-reconnect"))
    info = start_local_kafka(state, "dedicated broker for the reconnect test")
    try:
        yield state, info["bootstrap"]
    finally:
        local_kafka("down", state)


async def test_a_broker_lost_mid_session_shows_reconnecting_and_recovers(own_broker, capfd, caplog):
    state, bootstrap = own_broker
    topic, group = unique("reconnect-orders"), unique("reconnect-billing")
    await create_topics(bootstrap, {topic: 2})
    await produce(bootstrap, topic, 40, source="shop")
    # On this fresh broker the group coordinator may still be starting: this waits until the group has read
    # (and so commits) its 20 records, and the live source until it shows the group, before the broker goes.
    await consume_and_commit(bootstrap, group, [topic], 20)

    source = LiveSource(settings_for(bootstrap), interval=0.5, backoff_cap=4.0)
    sink = Collector()

    def shows_the_flow() -> bool:
        snapshot = sink.model.snapshot()
        return source.refreshes >= 2 and snapshot.topic(topic) is not None and snapshot.group(group) is not None

    task = await run_until(source, sink, shows_the_flow, what=f"the live source to show {topic} and {group}")
    try:
        await asyncio.to_thread(local_kafka, "stop", state)
        await wait_until_async(
            lambda: source.state == "reconnecting" and source.attempt >= 3, "a third reconnection attempt"
        )

        during = sink.model.snapshot()
        assert during.stale
        assert during.topic(topic) is not None and during.group(group) is not None  # the last known flow stays

        await asyncio.to_thread(local_kafka, "start", state)
        back = time.monotonic()
        await wait_until_async(lambda: source.state == "connected", "the live source to connect again")
        recovered = time.monotonic() - back
        assert recovered <= 10, f"recovered {recovered:.1f} s after the broker answered again"
        await wait_until_async(
            lambda: sink.model.snapshot().group(group) is not None, f"{group} to be shown again", timeout=10
        )
    finally:
        await stop(task)

    statuses: list[StatusObs] = sink.statuses()
    states = [status.state for status in statuses]
    assert states[0] == "connected" and states[-1] == "connected"
    gap = [status for status in statuses if status.state == "reconnecting"]
    assert [status.attempt for status in gap[:3]] == [1, 2, 3]
    assert all(f"attempt {status.attempt}," in status.detail for status in gap)
    # While the broker is down its port refuses connections (the first attempt may still see it closing).
    assert any("cannot reach Kafka" in status.detail for status in gap)
    assert "again" in statuses[-1].detail
    after = sink.model.snapshot()
    assert not after.stale and after.topic(topic) is not None

    out, err = capfd.readouterr()
    assert "Traceback" not in out + err
    assert not [record for record in caplog.records if record.exc_info]
