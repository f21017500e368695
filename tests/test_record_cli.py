"""`flowscope record` and `flowscope live --record` on the command line, where no cluster is needed."""

from __future__ import annotations

import argparse

import pytest

from tui import cli
from tui.commands import UsageError
from tui.commands.record import live_view_payloads

UNREACHABLE = "127.0.0.1:1"


@pytest.fixture(autouse=True)
def no_cluster_from_the_environment(monkeypatch):
    for variable in ("FLOWSCOPE_BOOTSTRAP", "FLOWSCOPE_PROFILE", "FLOWSCOPE_COMMAND_CONFIG"):
        monkeypatch.delenv(variable, raising=False)


def flowscope(capsys, *args: str) -> tuple[int, str]:
    try:
        code = cli.main(list(args))
    except SystemExit as exit_:  # argparse errors
        code = int(exit_.code or 0)
    return code, capsys.readouterr().err


def test_record_needs_an_output_file(capsys):
    code, err = flowscope(capsys, "record", "--bootstrap", UNREACHABLE)
    assert code == 2 and "the following arguments are required: -o/--output" in err


def test_an_existing_file_is_refused_before_connecting(capsys, tmp_path):
    path = tmp_path / "incident.jsonl"
    path.write_text("keep me\n")
    code, err = flowscope(capsys, "record", "--bootstrap", UNREACHABLE, "-o", str(path))
    assert code == 2
    assert err == f"flowscope: {path} already exists: choose another name, or give --force to overwrite it\n"
    assert path.read_text() == "keep me\n"
    code, err = flowscope(capsys, "record", "--bootstrap", UNREACHABLE, "-o", str(tmp_path))
    assert code == 2 and "it is a directory" in err


def test_an_unreachable_cluster_exits_2_and_leaves_no_file(capsys, tmp_path):
    path = tmp_path / "never.jsonl"
    code, err = flowscope(capsys, "record", "--bootstrap", UNREACHABLE, "-o", str(path), "--duration", "5")
    assert code == 2 and err.startswith("flowscope: ") and "Traceback" not in err
    assert not path.exists()


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (("--duration", "soon"), "is not a duration"),
        (("--interval", "0.01"), "--interval must be between"),
        (("--preview-bytes", "0"), "--preview-bytes must be at least 1"),
        (("--payloads", "some"), "invalid choice: 'some'"),
    ],
)
def test_bad_options_are_sentences(capsys, tmp_path, option, message):
    code, err = flowscope(capsys, "record", "--bootstrap", UNREACHABLE, "-o", str(tmp_path / "r.jsonl"), *option)
    assert code == 2 and message in err


def test_live_recording_options_go_with_record(capsys):
    code, err = flowscope(capsys, "live", "--bootstrap", UNREACHABLE, "--record-payloads", "full")
    assert code == 2 and "--record-payloads and --force go with --record FILE" in err


def test_live_refuses_a_recording_that_keeps_more_than_the_view_samples(capsys, tmp_path):
    code, err = flowscope(
        capsys,
        "live",
        "--bootstrap",
        UNREACHABLE,
        "--payloads",
        "preview",
        "--record",
        str(tmp_path / "r.jsonl"),
        "--record-payloads",
        "full",
    )
    assert code == 2
    assert "--record-payloads full keeps more than the view samples (payloads preview)" in err


def test_live_raises_the_views_payloads_to_the_recordings_when_not_chosen():
    args = argparse.Namespace(record="r.jsonl", record_payloads="full", force=False)
    assert live_view_payloads(args, "preview", explicit=False) == "full"
    assert live_view_payloads(args, "full", explicit=True) == "full"
    with pytest.raises(UsageError):
        live_view_payloads(args, "none", explicit=True)
    quiet = argparse.Namespace(record="r.jsonl", record_payloads=None, force=False)
    assert live_view_payloads(quiet, "preview", explicit=False) == "preview"


def test_live_refuses_an_existing_recording_before_connecting(capsys, tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_text("keep me\n")
    code, err = flowscope(capsys, "live", "--bootstrap", UNREACHABLE, "--record", str(path))
    assert code == 2 and "already exists" in err and path.read_text() == "keep me\n"


def test_record_help_says_what_stays_out_of_the_file(capsys):
    with pytest.raises(SystemExit):
        cli.main(["record", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "Connection credentials never enter the file" in text
    assert "none (default: no values, no keys;" in text
