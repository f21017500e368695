"""`flowscope live` and `flowscope report --bootstrap` on the command line, against the real broker."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from adapters.kafka.source import LiveSource
from tests.conftest import ROOT
from tests.live_helpers import consume_and_commit, create_topics, produce, unique
from tui import cli


def run_cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui.cli", *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT, check=False
    )


@pytest.mark.kafka
async def test_report_bootstrap_folds_a_live_cluster_like_a_file(kafka):
    topic, group = unique("report-SendParcel"), unique("report-courier")
    await create_topics(kafka.bootstrap, {topic: 2})
    await produce(kafka.bootstrap, topic, 20, source="warehouse", type_="SendParcel")
    await consume_and_commit(kafka.bootstrap, group, [topic], 10)

    done = run_cli("report", "--bootstrap", kafka.bootstrap, "--duration", "2", "--format", "json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["source"] == kafka.bootstrap
    (row,) = [item for item in report["topics"] if item["name"] == topic]
    assert row["kind"] == "command" and row["consumer_groups"] == [group]
    assert any(item["id"] == group and item["lag"] == 10 for item in report["consumer_groups"])

    text = run_cli("report", "--bootstrap", kafka.bootstrap, "--duration", "1")
    assert text.returncode == 0 and f"flowscope report: {kafka.bootstrap}" in text.stdout


@pytest.mark.kafka
def test_live_checks_the_connection_then_opens_the_app_with_a_live_source(kafka, monkeypatch):
    opened: list[LiveSource] = []

    def run_app(source, *, config=None, recorder=None):
        assert recorder is None  # no --record: nothing is written
        opened.append(source)
        return 0

    import tui.app

    monkeypatch.setattr(tui.app, "run_app", run_app)
    code = cli.main(["live", "--bootstrap", kafka.bootstrap, "--interval", "1", "--payloads", "none"])
    assert code == 0
    (source,) = opened
    assert isinstance(source, LiveSource)
    assert source.info.kind == "live" and source.info.label == kafka.bootstrap
    assert source.interval == 1.0 and source.controls.playback is None and source.controls.live is source


def test_report_without_a_source_or_a_cluster_is_a_usage_error(monkeypatch):
    for variable in ("FLOWSCOPE_BOOTSTRAP", "FLOWSCOPE_PROFILE", "FLOWSCOPE_COMMAND_CONFIG"):
        monkeypatch.delenv(variable, raising=False)
    done = run_cli("report")
    assert done.returncode == 2
    assert "give a recording to report on, or --bootstrap" in done.stderr


def test_live_refuses_settings_that_cannot_work_before_connecting(tmp_path):
    config = tmp_path / "client.properties"
    config.write_text(
        "bootstrap.servers=127.0.0.1:1\nsecurity.protocol=SSL\nssl.truststore.location=/etc/kafka/truststore.jks\n"
        "ssl.truststore.password=changeit\n"
    )
    done = run_cli("live", "--command-config", str(config))
    assert done.returncode == 2
    assert "keytool -exportcert" in done.stderr and "changeit" not in done.stderr
    bad = run_cli("live", "--bootstrap", "127.0.0.1:1", "--interval", "0.01")
    assert bad.returncode == 2 and "--interval must be between" in bad.stderr


def test_live_help_states_the_precedence():
    done = run_cli("live", "--help")
    assert done.returncode == 0
    text = "".join(done.stdout.split())  # argparse wraps lines, even inside option names
    for part in ("command line (--bootstrap, -X, --command-config) > environment", "> profile", "> defaults"):
        assert "".join(part.split()) in text
