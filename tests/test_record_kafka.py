"""Recording a real cluster: fidelity of the file to the live session, signals, SIGKILL, full disks, secrets.

One `flowscope simulate --scenario shop-commands` runs in the background for the whole module (real
producers and consumer groups); each test records it. Nothing here is mocked: the broker is the one from
scripts/local-kafka (or FLOWSCOPE_TEST_BOOTSTRAP), and `flowscope record` / `live` run as processes.
"""

from __future__ import annotations

import json
import resource
import signal
import stat
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from adapters.files.recorder import live_recorder
from adapters.files.recording import RecordingError, RecordingReader
from adapters.headless import fold_file
from adapters.kafka.source import LiveSource
from adapters.scenarios.specs import shop_commands
from adapters.session import Frame, Session
from flow.model import FlowModel
from flow.observations import Observation
from flow.snapshot import FlowSnapshot
from tests.conftest import ROOT
from tests.live_helpers import scenario_flowing, settings_for
from tests.terminal import FLOWSCOPE, Terminal
from tests.waiting import wait_until

pytestmark = pytest.mark.kafka

SHOP = shop_commands()
SHOP_TOPICS = tuple(topic.name for topic in SHOP.topics)


def flowscope(*args: str, timeout: float = 120, **options) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*FLOWSCOPE, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False, **options
    )


def start_flowscope(*args: str, **options) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*FLOWSCOPE, *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **options
    )


def finish(process: subprocess.Popen[str], timeout: float = 60) -> tuple[int, str]:
    try:
        _, err = process.communicate(timeout=timeout)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return process.returncode, err


class Stderr:
    """The lines a started flowscope writes to stderr, as they come (read on a thread)."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line)

    def wait_for(self, start: str, timeout: float = 60) -> None:
        """Return as soon as a line starting with ``start`` has been written."""
        wait_until(
            lambda: any(line.startswith(start) for line in self.lines),
            lambda: f"a line {start!r} on stderr: {self.lines}",
            timeout=timeout,
        )

    def finish(self, timeout: float = 60) -> tuple[int, str]:
        """The exit code once the process has ended, and everything it wrote to stderr."""
        try:
            self.process.wait(timeout)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
        self._reader.join(10)
        return self.process.returncode, "".join(self.lines)


@pytest.fixture(scope="module")
def shop(kafka) -> Iterator[str]:
    """shop-commands running against the broker until the module ends; yields the bootstrap address."""
    process = start_flowscope(
        "simulate", "--bootstrap", kafka.bootstrap, "--scenario", "shop-commands", "--rate", "2", "--quiet"
    )
    try:
        settings = settings_for(kafka.bootstrap)

        def going() -> bool:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            return scenario_flowing(settings, SHOP)

        wait_until(going, "the simulated shop to get going", timeout=90, interval=0)
        yield kafka.bootstrap
    finally:
        process.send_signal(signal.SIGINT)
        code, err = finish(process)
        assert code == 0, err


def recorded_span_s(path: Path) -> float:
    return span_s(list(RecordingReader(path)))


def span_s(observations: Sequence[Observation]) -> float:
    return (observations[-1].t - observations[0].t) / 1000 if observations else 0.0


def recorded_so_far(path: Path) -> list[Observation]:
    """What a recording that is still being written holds on disk (nothing before its header is there)."""
    try:
        return list(RecordingReader(path))
    except RecordingError:
        return []


def wait_until_recorded(path: Path, more_than: int) -> None:
    """Return as soon as the recording being written has more than ``more_than`` observations on disk."""
    wait_until(
        lambda: len(recorded_so_far(path)) > more_than,
        f"more than {more_than} observations to be flushed to {path}",
        interval=0.2,
    )


# -- fidelity ------------------------------------------------------------------------------------------------


def test_replaying_the_recording_gives_the_live_sessions_snapshots(shop, tmp_path):
    """Every frame the live session published equals the replay folded up to the same observation."""
    settings = settings_for(shop)
    full = live_recorder(tmp_path / "full.jsonl", settings, payloads="full", interval=1.0)
    private = live_recorder(tmp_path / "none.jsonl.gz", settings, payloads="none", interval=1.0)
    frames: list[Frame] = []
    session = Session(LiveSource(settings, interval=1.0, payloads="full"), frames.append, publish_interval=2.0)

    def tap(obs) -> None:
        full.write(obs)
        private.write(obs)

    session.set_tap(tap)
    session.start()
    wait_until(lambda: len(frames) >= 8, lambda: f"8 published frames (so far {len(frames)})", timeout=60)
    session.stop()
    full.close()
    private.close()
    assert session.model is not None and full.error is None and private.error is None
    live = session.model.snapshot()
    assert len(frames) >= 8 and live.observations == full.observations == private.observations

    # The whole file folds to the live model's final snapshot, exactly: rates and lag included.
    replayed, reader = fold_file(full.path)
    assert reader.skipped == 0
    assert replayed == live
    assert_same_flow(replayed, live)

    # And at every published frame along the way.
    by_count = {frame.snapshot.observations: frame.snapshot for frame in frames}
    model, matched = FlowModel(), 0
    for obs in RecordingReader(full.path):
        model.apply(obs)
        if model.observations in by_count:
            assert model.snapshot() == by_count[model.observations]
            matched += 1
    assert matched == len(by_count)

    # A private (payloads: none, gzip) recording gives the same flow; only the sampled records' values,
    # keys and unread headers stayed in the cluster.
    stripped, reader = fold_file(private.path)
    assert reader.skipped == 0
    assert without_samples(stripped) == without_samples(live)
    assert_same_flow(stripped, live)
    samples = [record for topic in stripped.topics for record in topic.records]
    assert samples and all(record.value is None and record.key is None for record in samples)


def without_samples(snapshot: FlowSnapshot) -> FlowSnapshot:
    return replace(snapshot, topics=tuple(replace(topic, records=()) for topic in snapshot.topics))


def assert_same_flow(replayed: FlowSnapshot, live: FlowSnapshot) -> None:
    """The brief's list, spelled out, so that a failure says which part differs."""
    assert [(t.name, t.kind, t.groups, t.producer_names) for t in replayed.topics] == [
        (t.name, t.kind, t.groups, t.producer_names) for t in live.topics
    ]
    for name in SHOP_TOPICS:
        topic, seen = replayed.topic(name), live.topic(name)
        assert topic is not None and seen is not None and topic.kind == "command"
        assert topic.rate is not None and topic.rate == pytest.approx(seen.rate)
    assert [(g.id, g.state, g.topics, g.status) for g in replayed.groups] == [
        (g.id, g.state, g.topics, g.status) for g in live.groups
    ]
    assert [g.partitions for g in replayed.groups] == [g.partitions for g in live.groups]  # lag per partition
    assert replayed.findings == live.findings


def test_recording_30s_with_sigint_reports_like_the_cluster(shop, tmp_path):
    """The issue's must-show: record 30 s, stop with SIGINT, report the file and the cluster: they agree."""
    path = tmp_path / "shop.jsonl"
    process = start_flowscope("record", "--bootstrap", shop, "-o", str(path), "--interval", "1")
    stderr = Stderr(process)
    # Time must pass: 30 s of recording is what the issue asks to see. The recorder's own progress line says
    # when they have, counted from the recording's start (the time it took to get there varies).
    stderr.wait_for("  30s: ", timeout=90)
    process.send_signal(signal.SIGINT)
    code, err = stderr.finish()
    assert code == 0, err
    assert "  5s: " in err and "  25s: " in err  # progress every few seconds
    assert "flowscope record: stopped by SIGINT: " in err and "(payloads: none)" in err
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    reader = RecordingReader(path)
    assert reader.header.source == {"kind": "live", "bootstrap": shop, "payloads": "none", "interval_s": 1.0}
    assert len(list(reader)) > 100 and reader.skipped == 0
    assert recorded_span_s(path) >= 27

    from_file = flowscope("report", str(path), "--format", "json")
    from_cluster = flowscope("report", "--bootstrap", shop, "--format", "json")
    assert from_file.returncode == 0 and from_cluster.returncode == 0, from_file.stderr + from_cluster.stderr
    assert from_file.stderr == ""  # no skipped lines
    file_report, cluster_report = json.loads(from_file.stdout), json.loads(from_cluster.stdout)
    assert kinds(file_report) == kinds(cluster_report)
    assert groups(file_report) == groups(cluster_report)
    assert producers(file_report) == producers(cluster_report)
    for name in SHOP_TOPICS:
        assert kinds(file_report)[name] == "command"
    # Earlier runs on a shared broker can leave idle producer ids ("producer-id 0"): both sides list those.
    assert "web-shop" in producers(file_report)["warehouse"]
    assert "warehouse" in producers(file_report)["send-email"]


def kinds(report: dict) -> dict[str, str]:
    return {topic["name"]: topic["kind"] for topic in report["topics"]}


def groups(report: dict) -> dict[str, tuple]:
    return {group["id"]: (group["service"], tuple(group["topics"])) for group in report["consumer_groups"]}


def producers(report: dict) -> dict[str, list[str]]:
    return {topic["name"]: topic["producers"] for topic in report["topics"]}


def test_sigterm_also_leaves_a_valid_gzip_file(shop, tmp_path):
    path = tmp_path / "shop.jsonl.gz"
    process = start_flowscope("record", "--bootstrap", shop, "-o", str(path), "--interval", "0.5", "--quiet")
    wait_until_recorded(path, more_than=10)
    process.send_signal(signal.SIGTERM)
    code, err = finish(process)
    assert code == 0 and "flowscope record: stopped by SIGTERM: " in err
    reader = RecordingReader(path)
    assert len(list(reader)) > 10 and reader.skipped == 0  # the gzip stream was finished


def test_duration_ends_the_recording_by_itself(shop, tmp_path):
    path = tmp_path / "short.jsonl"
    done = flowscope("record", "--bootstrap", shop, "-o", str(path), "--duration", "3s", "--interval", "0.5")
    assert done.returncode == 0, done.stderr
    assert "flowscope record: done: " in done.stderr
    assert 2 <= recorded_span_s(path) <= 4


# -- SIGKILL ------------------------------------------------------------------------------------------------


def kill_recording(shop: str, path: Path, seconds: float) -> None:
    process = start_flowscope(
        "record", "--bootstrap", shop, "-o", str(path), "--interval", "0.5", "--payloads", "full", "--quiet"
    )
    # Time must pass: the test is about how much of it a recording killed at any moment has on disk.
    time.sleep(seconds)
    process.send_signal(signal.SIGKILL)
    finish(process)


def test_a_killed_plain_recording_replays_to_its_last_complete_line(shop, tmp_path):
    """What this can promise: every complete line replays, and a partial last line is counted.

    Here lines are small: the writer hands the OS whole buffered lines, so a SIGKILL from outside almost
    never lands inside one; the partial line itself is made certain in test_recorder (a 64 MB write).
    """
    path = tmp_path / "killed.jsonl"
    kill_recording(shop, path, 5)
    data = path.read_bytes()
    reader = RecordingReader(path)
    observations = list(reader)
    assert len(observations) == data.count(b"\n") - 1 > 10
    partial = not data.endswith(b"\n")
    assert reader.skipped == int(partial)
    assert recorded_span_s(path) >= 5 - 2.5  # flushed at least every second
    report = flowscope("report", str(path))
    assert report.returncode == 0
    assert ("skipped 1 bad line" in report.stderr) == partial


def test_a_killed_gzip_recording_replays_to_its_last_flush_and_says_it_is_truncated(shop, tmp_path):
    path = tmp_path / "killed.jsonl.gz"
    kill_recording(shop, path, 5)
    reader = RecordingReader(path)
    observations = list(reader)
    assert len(observations) > 10
    assert reader.skipped == 1 and "the compressed file is truncated here" in reader.problems[0]
    assert recorded_span_s(path) >= 5 - 2.5
    report = flowscope("report", str(path))
    assert report.returncode == 0 and "skipped 1 bad line" in report.stderr
    assert "the compressed file is truncated here: the lines before it were read" in report.stderr


# -- files that cannot be written ---------------------------------------------------------------------------


def test_dev_full_is_refused_then_fails_with_a_sentence(shop):
    refused = flowscope("record", "--bootstrap", shop, "-o", "/dev/full", "--duration", "2")
    assert refused.returncode == 2 and "/dev/full already exists" in refused.stderr
    full = flowscope("record", "--bootstrap", shop, "-o", "/dev/full", "--duration", "2", "--force")
    assert full.returncode == 2
    assert full.stderr == "flowscope: cannot record to /dev/full: the disk is full\n"


def limit_file_size(limit: int):
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit then fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def test_a_disk_that_fills_while_recording_ends_it_with_a_sentence_and_exit_2(shop, tmp_path):
    path = tmp_path / "limited.jsonl"
    process = start_flowscope(
        "record", "--bootstrap", shop, "-o", str(path), "--interval", "0.5", "--payloads", "full",
        preexec_fn=limit_file_size(40_000),
    )  # fmt: skip
    code, err = finish(process, timeout=60)
    assert code == 2
    assert f"flowscope record: recording to {path} stopped: the file is larger than the file system" in err
    assert "Traceback" not in err
    # What was written before replays (a big cluster's first refresh may fill the limit on its own).
    assert len(list(RecordingReader(path))) > 0


# -- secrets ----------------------------------------------------------------------------------------------


def test_sasl_credentials_never_enter_the_recording(kafka, shop, tmp_path):
    if kafka.sasl_bootstrap is None:
        pytest.skip("this broker has no SASL listener configured for the tests")
    config = tmp_path / "client.properties"
    jaas = 'org.apache.kafka.common.security.scram.ScramLoginModule required username="{}" password="{}";'
    config.write_text(
        f"bootstrap.servers={kafka.sasl_bootstrap}\nsecurity.protocol=SASL_PLAINTEXT\n"
        f"sasl.mechanism={kafka.sasl_mechanism}\n"
        f"sasl.jaas.config={jaas.format(kafka.sasl_username, kafka.sasl_password)}\n"
    )
    path = tmp_path / "sasl.jsonl"
    done = flowscope(
        "record", "--command-config", str(config), "-o", str(path), "--duration", "3", "--payloads", "full"
    )
    assert done.returncode == 0, done.stderr
    data = path.read_bytes()
    assert kafka.sasl_password.encode() not in data and b"jaas" not in data
    reader = RecordingReader(path)
    assert reader.header.source == {
        "kind": "live",
        "bootstrap": kafka.sasl_bootstrap,
        "payloads": "full",
        "interval_s": 2.0,
    }
    assert any(obs.kind == "record" for obs in reader)
    assert kafka.sasl_password not in done.stderr

    wrong = tmp_path / "wrong.properties"
    wrong.write_text(config.read_text().replace(kafka.sasl_password, "not-the-password"))
    refused = flowscope("record", "--command-config", str(wrong), "-o", str(tmp_path / "no.jsonl"))
    assert refused.returncode == 2 and "not-the-password" not in refused.stderr
    assert not (tmp_path / "no.jsonl").exists()


# -- `flowscope live --record` -------------------------------------------------------------------------------


def test_live_starts_with_recording_on_and_finishes_the_file_on_quit(shop, tmp_path):
    path = tmp_path / "live.jsonl.gz"
    terminal = Terminal("live", "--bootstrap", shop, "--interval", "0.5", "--record", str(path))
    terminal.wait_for(b"CONNECTED")
    wait_until_recorded(path, more_than=10)
    assert terminal.quit() == 0
    assert b"flowscope: recorded " in terminal.output
    reader = RecordingReader(path)
    observations = list(reader)
    assert reader.skipped == 0 and len(observations) > 10  # a finished gzip stream
    assert reader.header.source["payloads"] == "none"
    assert all(obs.value is None and obs.key is None for obs in observations if obs.kind == "record")


def test_the_record_key_starts_and_finishes_a_recording_in_the_current_directory(shop, tmp_path):
    terminal = Terminal("live", "--bootstrap", shop, "--interval", "0.5", cwd=tmp_path)
    terminal.wait_for(b"CONNECTED")
    assert not list(tmp_path.glob("flowscope-*.jsonl.gz"))
    terminal.press(b"r")
    terminal.wait_for(b"REC")

    def holds_the_shop() -> bool:
        paths = list(tmp_path.glob("flowscope-*.jsonl.gz"))
        observations = recorded_so_far(paths[0]) if paths else []
        topics = {obs.topic for obs in observations if obs.kind == "record"}
        return span_s(observations) >= 2 and topics >= set(SHOP_TOPICS)

    wait_until(holds_the_shop, "2 s of the shop's records to be flushed to the recording", interval=0.2)
    terminal.press(b"r")
    terminal.wait_for(b"Recording finished")
    assert terminal.quit() == 0
    [path] = tmp_path.glob("flowscope-*.jsonl.gz")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    reader = RecordingReader(path)
    observations = list(reader)
    assert reader.skipped == 0 and observations[0].kind == "status"  # it starts with the view's state
    assert recorded_span_s(path) >= 2
    assert {obs.topic for obs in observations if obs.kind == "record"} >= set(SHOP_TOPICS)
    assert b"flowscope: recorded " in terminal.output


def test_a_full_disk_stops_the_recording_but_not_the_live_view(shop, tmp_path):
    path = tmp_path / "live.jsonl"
    terminal = Terminal(
        "live", "--bootstrap", shop, "--interval", "0.5", "--record", str(path), before_exec=limit_file_size(30_000)
    )
    terminal.wait_for(b"CONNECTED")
    terminal.wait_for(b"live.jsonl stopped")  # the REC badge: the recorder has hit the limit
    terminal.drawing()  # the view is still drawing
    assert terminal.quit() == 0
    shown = bytes(terminal.output)
    assert f"flowscope: recording to {path} stopped: the file is larger than".encode() in shown
    assert b"Traceback" not in shown
    # What was written before replays (a big cluster's first refresh may fill the limit on its own).
    assert len(list(RecordingReader(path))) > 0
