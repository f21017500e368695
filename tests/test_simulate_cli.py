"""`flowscope simulate` arguments, and an unreachable cluster: a sentence and exit 2, no broker needed."""

from __future__ import annotations

import socket
import time

import pytest

from adapters.scenarios.specs import shop_commands
from tui.cli import main
from tui.commands import UsageError
from tui.commands.simulate import parse_duration, parse_rate


@pytest.mark.parametrize(
    ("text", "seconds"), [("30", 30), ("30s", 30), ("5m", 300), ("1h30m", 5400), ("1m30s", 90), ("0.5", 0.5)]
)
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "-3", "0", "5x"])
def test_bad_durations_say_what_is_expected(text):
    with pytest.raises(UsageError, match="--duration"):
        parse_duration(text)


def test_rates_are_multipliers_or_records_per_second():
    spec = shop_commands()  # one emitter at 4 records/s
    assert parse_rate("2", spec) == 2
    assert parse_rate("0.5x", spec) == 0.5
    assert parse_rate("20/s", spec) == 5
    for bad in ("fast", "0", "-1", "0/s"):
        with pytest.raises(UsageError, match="--rate"):
            parse_rate(bad, spec)


def test_simulate_needs_a_cluster(capsys, monkeypatch):
    monkeypatch.delenv("FLOWSCOPE_BOOTSTRAP", raising=False)
    monkeypatch.delenv("FLOWSCOPE_PROFILE", raising=False)
    monkeypatch.delenv("FLOWSCOPE_COMMAND_CONFIG", raising=False)
    assert main(["simulate", "--duration", "1"]) == 2
    assert "give the cluster to write to: --bootstrap" in capsys.readouterr().err


def test_an_unreachable_cluster_exits_2_with_a_sentence(capsys):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.monotonic()
    code = main(["simulate", "--bootstrap", f"127.0.0.1:{port}", "--duration", "5"])
    _, err = capsys.readouterr()
    assert code == 2
    assert time.monotonic() - started < 15
    assert f"flowscope: cannot connect to a Kafka cluster at 127.0.0.1:{port}: check the address" in err
    assert "Traceback" not in err


def test_a_schema_format_needs_a_registry(capsys, monkeypatch):
    monkeypatch.delenv("FLOWSCOPE_SCHEMA_REGISTRY", raising=False)
    monkeypatch.delenv("FLOWSCOPE_PROFILE", raising=False)
    monkeypatch.delenv("FLOWSCOPE_COMMAND_CONFIG", raising=False)
    assert main(["simulate", "--bootstrap", "127.0.0.1:9", "--format", "avro", "--duration", "1"]) == 2
    err = capsys.readouterr().err
    assert "--format avro registers its schemas in a schema registry: give one with --schema-registry URL" in err
    assert err.count("\n") == 1 and "Traceback" not in err
