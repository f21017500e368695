"""`flowscope report`: what the issue asks of the bundled recordings, exit codes and bad input."""

from __future__ import annotations

import gc
import gzip
import json
import shutil
import subprocess
import sys

import pytest

import tui.commands.report as command
from flow.report import report_json
from tui.cli import main


def report(capsys, *args):
    code = main(["report", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_shop_commands_flags_three_command_topics_and_the_chain(capsys, shop_commands):
    code, out, _ = report(capsys, str(shop_commands), "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["source"] == str(shop_commands)
    topics = {t["name"]: t for t in data["topics"]}
    for name, group in (
        ("warehouse", "warehouse"),
        ("send-email", "email-service"),
        ("send-text", "sms-service"),
    ):
        assert topics[name]["kind"] == "command"
        assert topics[name]["consumer_groups"] == [group]
        assert topics[name]["reasons"]
    assert topics["warehouse"]["producers"] == ["web-shop"]
    chains = [f for f in data["findings"] if f["kind"] == "command_chain"]
    assert len(chains) == 1
    assert "warehouse" in chains[0]["services"]
    assert {"send-email", "send-text"} <= set(chains[0]["topics"])
    assert chains[0]["advice"]
    assert set(data["topics"][0]) >= {"name", "kind", "consumer_groups", "producers", "reasons"}
    assert set(data["findings"][0]) >= {"kind", "topics", "services", "advice"}


def test_a_file_report_writes_with_the_collector_paused_and_leaves_it_running(capsys, monkeypatch, shop_events):
    collecting_while_writing: list[bool] = []

    def writing(*args):
        collecting_while_writing.append(gc.isenabled())
        return report_json(*args)

    monkeypatch.setattr(command, "report_json", writing)
    assert gc.isenabled()
    code, out, _ = report(capsys, str(shop_events), "--format", "json")
    assert code == 0
    assert json.loads(out)["topics"]
    assert collecting_while_writing == [False]
    assert gc.isenabled()


def test_the_json_report_lists_the_changes_seen_on_the_way(capsys, shop_commands):
    _, out, _ = report(capsys, str(shop_commands), "--format", "json")
    changes = json.loads(out)["changes"]
    assert [(c["time"], c["kind"], c["text"]) for c in changes] == [
        ("2026-01-15T09:00:10Z", "start", "watching 3 topics (3 command topics), 3 groups, 1 finding"),
        ("2026-01-15T09:01:40Z", "group_status", "group `sms-service` went WARN: lag growing"),
        ("2026-01-15T09:02:30Z", "group_recovered", "group `sms-service` recovered: OK for 20 s"),
    ]
    assert changes[1]["t"] == 1_768_467_700_000
    assert changes[1]["subject"] == "sms-service"


def test_shop_events_has_one_event_with_three_audiences_and_no_commands(capsys, shop_events):
    code, out, _ = report(capsys, str(shop_events), "--format", "json")
    assert code == 0
    data = json.loads(out)
    orders = next(t for t in data["topics"] if t["name"] == "orders")
    assert orders["kind"] == "event"
    assert sorted(orders["consumer_groups"]) == ["notifications", "sales", "warehouse"]
    assert [t["name"] for t in data["topics"] if t["kind"] == "command"] == []
    assert data["findings"] == []


def test_the_text_report_lists_commands_with_their_reasons(capsys, shop_commands):
    code, out, _ = report(capsys, str(shop_commands))
    assert code == 0
    assert "3 command topics" in out
    assert "why (medium confidence):" in out
    assert "- exactly one consumer group reads it: `warehouse`, an audience of one" in out
    assert "command_chain: `warehouse` receives commands" in out


def test_a_missing_file_exits_2_with_a_sentence(capsys, tmp_path):
    code, out, err = report(capsys, str(tmp_path / "nope.jsonl"))
    assert code == 2
    assert out == ""
    assert err.strip() == f"flowscope: {tmp_path / 'nope.jsonl'}: no such file"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d, "is a directory, not a recording"),
        (
            lambda d: (d / "notes.txt").write_text("hello\n") and d / "notes.txt",
            ":1: not a flowscope recording",
        ),
        (lambda d: (d / "empty.jsonl").write_text("") is not None and d / "empty.jsonl", ":1: empty file"),
    ],
)
def test_an_unreadable_source_exits_2_with_a_sentence(capsys, tmp_path, make, message):
    code, out, err = report(capsys, str(make(tmp_path)))
    assert code == 2
    assert out == ""
    assert message in err
    assert err.count("\n") == 1


def corrupt_copy(source, tmp_path):
    lines = source.read_bytes().splitlines(keepends=True)
    lines[10] = b'{"t": 1768467620000, "kind": "commits", "group": "sales", "offsets": {"orders": ["x"]}}\n'
    lines[20] = b"{ this is not json\n"
    path = tmp_path / "corrupt.jsonl"
    path.write_bytes(b"".join(lines))
    return path


def test_strict_mode_stops_at_the_first_bad_line_with_exit_2(capsys, tmp_path, shop_commands):
    path = corrupt_copy(shop_commands, tmp_path)
    code, out, err = report(capsys, str(path), "--strict")
    assert code == 2
    assert out == ""
    assert err.startswith(f"flowscope: {path}:11: field offsets.orders[0]")


def test_lenient_mode_finishes_and_counts_what_it_skipped(capsys, tmp_path, shop_commands):
    path = corrupt_copy(shop_commands, tmp_path)
    code, out, err = report(capsys, str(path), "--format", "json")
    assert code == 0
    assert json.loads(out)["topics"]
    assert f"skipped 2 bad lines (first: {path}:11:" in err


def test_a_truncated_gzip_recording_reports_what_it_could_read(capsys, tmp_path, shop_commands):
    whole = gzip.compress(shop_commands.read_bytes())
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(whole[: len(whole) * 2 // 3])
    code, out, err = report(capsys, str(path), "--format", "json")
    assert code == 0
    assert any(t["kind"] == "command" for t in json.loads(out)["topics"])
    assert "truncated" in err
    code, _, err = report(capsys, str(path), "--strict")
    assert code == 2
    assert "truncated" in err


def test_a_future_version_is_refused_in_both_modes(capsys, tmp_path):
    path = tmp_path / "future.jsonl"
    path.write_text('{"format":"flowscope-recording","version":3}\n{"t":1,"kind":"note","text":"x"}\n')
    for args in ((), ("--strict",)):
        code, _, err = report(capsys, str(path), *args)
        assert code == 2
        assert "version 3 is not supported" in err and "reads version 1" in err


def test_the_installed_command_works_end_to_end(shop_events):
    flowscope = shutil.which("flowscope") or sys.prefix + "/bin/flowscope"
    done = subprocess.run([flowscope, "report", str(shop_events)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "orders" in done.stdout
    usage = subprocess.run([flowscope, "report"], capture_output=True, text=True, timeout=60)
    assert usage.returncode == 2
    assert "Traceback" not in usage.stderr


DEEP = "[" * 10_000 + "]" * 10_000


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (DEEP + "\n", "d.jsonl:1: not a flowscope recording"),
        ('{"format": "flowscope-recording", "version": 1, "source": ' + DEEP + "}\n", "d.jsonl:1: not a flowscope"),
    ],
    ids=["line", "header"],
)
def test_json_nested_too_deeply_exits_2_with_a_sentence(capsys, tmp_path, content, message):
    path = tmp_path / "d.jsonl"
    path.write_text(content)
    code, out, err = report(capsys, str(path))
    assert (code, out) == (2, "")
    assert message in err and "Traceback" not in err and err.count("\n") == 1


def test_a_deep_kcat_payload_is_a_bad_line_and_the_rest_is_read(capsys, tmp_path):
    good = '{"topic": "t", "partition": 0, "offset": 1, "ts": 1768467618000, "key": null, "payload": "x"}'
    deep = '{"topic": "t", "partition": 0, "offset": 2, "ts": 1768467618001, "payload": ' + DEEP + "}"
    path = tmp_path / "dump.json"
    path.write_text(f"{good}\n{deep}\n")
    code, out, err = report(capsys, str(path))
    assert code == 0 and "t " in out
    assert f"{path}:2: not valid JSON (nested more than 200 levels deep)" in err


def test_a_deep_baseline_exits_2_with_a_sentence(capsys, tmp_path, shop_commands):
    baseline = tmp_path / "baseline.json"
    baseline.write_text(DEEP)
    code, _, err = report(capsys, str(shop_commands), "--fail-on", "command", "--baseline", str(baseline))
    assert code == 2
    assert err.strip() == f"flowscope: baseline {baseline}: not JSON (nested more than 200 levels deep at line 1)"


def test_the_json_report_lists_one_proposal_for_the_shop_and_none_for_the_second_design(
    capsys, shop_commands, shop_events
):
    code, out, _ = report(capsys, str(shop_commands), "--format", "json")
    assert code == 0
    data = json.loads(out)
    commands = [t for t in data["topics"] if t["kind"] == "command"]
    [proposal] = data["proposals"]
    assert proposal["writer"] == data["findings"][0]["summary"].split("(from `")[1].split("`")[0]
    assert sorted(proposal["removed_topics"]) == sorted(t["name"] for t in commands)
    assert sorted(proposal["subscribers"]) == sorted(g for t in commands for g in t["consumer_groups"])
    assert proposal["fact_topic"] in proposal["explanation"]
    assert set(proposal) >= {"writer", "fact_topic", "subscribers", "removed_topics", "explanation"}
    code, out, _ = report(capsys, str(shop_events), "--format", "json")
    assert json.loads(out)["proposals"] == []
