"""`report --fail-on command [--baseline report.json]`: the CI gate's exit codes and what it says."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flow.gate import BaselineError, baseline_commands, evaluate, gate_text
from flow.model import FlowModel
from tests.helpers import T0, commits, ends, group, topics
from tui.cli import main


def report(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["report", *args])
    out, err = capsys.readouterr()
    return code, out, err


def baseline_of(capsys, source: Path, tmp_path: Path) -> Path:
    code, out, _ = report(capsys, str(source), "--format", "json")
    assert code == 0
    path = tmp_path / f"{source.stem}.report.json"
    path.write_text(out)
    return path


def test_command_topics_fail_the_gate_and_the_text_says_which_and_why(capsys, shop_commands):
    code, out, _ = report(capsys, str(shop_commands), "--fail-on", "command")
    assert code == 1
    verdict = out[out.index("GATE") :]
    assert verdict.startswith("GATE --fail-on command: FAILED, 3 command topics\n")
    for name, group_id in (("send-email", "email-service"), ("send-text", "sms-service"), ("warehouse", "warehouse")):
        assert f"\n  {name}\n    - exactly one consumer group reads it: `{group_id}`, an audience of one\n" in verdict


def test_no_command_topics_pass(capsys, shop_events):
    code, out, _ = report(capsys, str(shop_events), "--fail-on", "command")
    assert code == 0
    assert "GATE --fail-on command: passed, no command topics" in out


def test_without_fail_on_command_topics_are_reported_but_exit_0(capsys, shop_commands):
    code, out, _ = report(capsys, str(shop_commands))
    assert code == 0 and "GATE" not in out


def test_a_baseline_that_has_them_accepts_them(capsys, shop_commands, tmp_path):
    baseline = baseline_of(capsys, shop_commands, tmp_path)
    code, out, _ = report(capsys, str(shop_commands), "--fail-on", "command", "--baseline", str(baseline))
    assert code == 0
    assert f"GATE --fail-on command (baseline {baseline}): passed, no new command topics" in out
    assert "accepted by the baseline: send-email, send-text, warehouse" in out


def test_only_command_topics_new_since_the_baseline_fail(capsys, shop_commands, shop_events, tmp_path):
    baseline = baseline_of(capsys, shop_events, tmp_path)  # the events design has no command topics
    code, out, _ = report(capsys, str(shop_commands), "--fail-on", "command", "--baseline", str(baseline))
    assert code == 1
    assert "FAILED, 3 new command topics" in out
    # A baseline that accepts one of the three leaves two.
    data = json.loads(baseline.read_text())
    data["topics"].append({"name": "warehouse", "kind": "command"})
    baseline.write_text(json.dumps(data))
    code, out, _ = report(capsys, str(shop_commands), "--fail-on", "command", "--baseline", str(baseline))
    assert code == 1
    assert "FAILED, 2 new command topics" in out and "accepted by the baseline: warehouse" in out


def test_a_topic_that_lost_audiences_since_the_baseline_is_a_new_command():
    def snapshot(readers: tuple[str, ...]):
        model = FlowModel()
        model.apply(topics(T0, "orders"))
        model.apply(ends(T0, {"orders": (5,)}))
        for reader in readers:
            model.apply(group(T0, reader, "orders"))
            model.apply(commits(T0, reader, {"orders": (5,)}))
        return model.snapshot()

    before = snapshot(("billing", "shipping"))
    accepted = baseline_commands({"topics": [{"name": t.name, "kind": t.kind} for t in before.topics]})
    assert accepted == frozenset()
    result = evaluate(snapshot(("billing",)), "command", accepted, "before.json")
    assert result.failed and [t.name for t in result.failing] == ["orders"]
    assert "FAILED, 1 new command topic\n  orders\n" in gate_text(result)
    gone = evaluate(before, "command", frozenset({"orders", "old"}), "b.json")
    assert not gone.failed and gone.gone == ("old", "orders")


def test_json_output_carries_the_gate(capsys, shop_commands, shop_events, tmp_path):
    baseline = baseline_of(capsys, shop_events, tmp_path)
    code, out, _ = report(
        capsys, str(shop_commands), "--format", "json", "--fail-on", "command", "--baseline", str(baseline)
    )
    assert code == 1
    gate = json.loads(out)["gate"]
    assert gate["failed"] is True and gate["baseline"] == str(baseline)
    assert sorted(t["name"] for t in gate["failing"]) == ["send-email", "send-text", "warehouse"]
    assert all(t["reasons"] for t in gate["failing"])


def test_exports_put_the_verdict_on_stderr(capsys, shop_commands):
    code, out, err = report(capsys, str(shop_commands), "--format", "mermaid", "--fail-on", "command")
    assert code == 1
    assert out.startswith("flowchart LR") and "GATE" not in out
    assert err.startswith("GATE --fail-on command: FAILED, 3 command topics")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        ("{not json", "not JSON"),
        ('{"topics": 3}', 'not a flowscope JSON report: expected an object with a "topics" list'),
        ('{"topics": [{"name": 1}]}', 'topics[0] is not a topic: expected "name" and "kind" strings'),
    ],
)
def test_an_unusable_baseline_exits_2_with_a_sentence(capsys, shop_commands, tmp_path, content, message):
    baseline = tmp_path / "baseline.json"
    if content is not None:
        baseline.write_text(content)
    code, out, err = report(capsys, str(shop_commands), "--fail-on", "command", "--baseline", str(baseline))
    assert code == 2 and out == ""
    assert err.startswith(f"flowscope: baseline {baseline}: ") and message in err


def test_unreadable_input_stays_exit_2_under_the_gate(capsys, tmp_path):
    code, _, err = report(capsys, str(tmp_path / "missing.jsonl"), "--fail-on", "command")
    assert code == 2 and "no such file" in err


def test_baseline_needs_fail_on(capsys, shop_commands, tmp_path):
    code, _, err = report(capsys, str(shop_commands), "--baseline", str(tmp_path / "b.json"))
    assert code == 2 and "--baseline needs --fail-on" in err


def test_baseline_commands_rejects_what_is_not_a_report():
    with pytest.raises(BaselineError):
        baseline_commands([1, 2])
    assert baseline_commands({"topics": []}) == frozenset()
