"""The recorder without a cluster: payload policies, private files, gzip, flushing, failures, secrets."""

from __future__ import annotations

import gzip
import os
import signal
import stat
import subprocess
import sys
import textwrap
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from adapters.files.recorder import (
    KEPT_HEADERS,
    Recorder,
    RecorderError,
    attach,
    cut_payload,
    detach,
    format_size,
)
from adapters.files.recording import RecordingReader
from adapters.files.replay import replay_file
from adapters.headless import fold_file
from adapters.session import Session
from flow.observations import Blob, NoteObs, RecordObs, StatusObs
from flow.snapshot import StatusView
from tests.conftest import ROOT, SAMPLES
from tests.waiting import wait_until

SECRET = "hunter2-not-for-files"


def sampled(t: int = 1_000, **fields) -> RecordObs:
    values = {
        "topic": "orders",
        "partition": 0,
        "offset": 7,
        "timestamp": 999,
        "key": "customer-42",
        "headers": (
            ("ce_source", "/web-shop"),
            ("ce_type", "OrderPlaced"),
            ("content-type", "application/json"),
            ("user-email", "ada@example.com"),
        ),
        "size": 300,
        "value": '{"email": "ada@example.com", "total": 12.5}' + " " * 200,
        "producer_id": 3,
    }
    values.update(fields)
    return RecordObs(t=t, **values)


def records_of(path: Path) -> list[RecordObs]:
    return [obs for obs in RecordingReader(path) if isinstance(obs, RecordObs)]


def record_to(path: Path, observations, **options) -> Recorder:
    recorder = Recorder(path, source={"kind": "test"}, **options)
    for obs in observations:
        recorder.write(obs)
    recorder.close()
    return recorder


# -- payload policies ---------------------------------------------------------------------------------------


def test_none_drops_values_and_keys_and_keeps_only_the_headers_the_model_reads(tmp_path):
    path = tmp_path / "none.jsonl"
    record_to(path, [sampled()])
    (obs,) = records_of(path)
    assert obs.value is None and obs.key is None
    headers = dict(obs.headers)
    assert headers == {
        "ce_source": "/web-shop",
        "ce_type": "OrderPlaced",
        "content-type": "application/json",
        "user-email": None,  # the name stays (exports list header names), the value does not
    }
    assert obs.size == 300 and obs.offset == 7 and obs.producer_id == 3
    assert b"ada@example.com" not in path.read_bytes() and b"customer-42" not in path.read_bytes()
    assert {"ce_source", "ce_type", "type", "content-type"} <= KEPT_HEADERS


def test_preview_cuts_values_and_keeps_keys_and_headers(tmp_path):
    path = tmp_path / "preview.jsonl"
    long_text = "é" * 600  # 1,200 bytes of two-byte characters: the cut must not split one
    binary = bytes(range(256)) * 8
    record_to(
        path,
        [sampled(value=long_text), sampled(offset=8, value=Blob.from_bytes(binary)), sampled(offset=9, value="short")],
        payloads="preview",
        preview_bytes=101,
    )
    text, blob, short = records_of(path)
    assert text.value == "é" * 50 and text.key == "customer-42"
    assert dict(text.headers)["user-email"] == "ada@example.com"
    assert isinstance(blob.value, Blob) and blob.value.to_bytes() == binary[:101]
    assert short.value == "short"


def test_full_keeps_what_the_source_had(tmp_path):
    path = tmp_path / "full.jsonl"
    original = sampled(value="x" * 5000)
    record_to(path, [original], payloads="full")
    assert records_of(path) == [original]


def test_cut_payload_returns_the_same_object_when_it_fits():
    text = "fits"
    assert cut_payload(text, 16) is text
    assert cut_payload(None, 16) is None
    assert cut_payload("ab€", 4) == "ab"  # the euro sign would be cut in half


# -- files -------------------------------------------------------------------------------------------------


def test_files_are_private_and_gzip_goes_by_name(tmp_path):
    plain, packed = tmp_path / "r.jsonl", tmp_path / "r.jsonl.gz"
    for path in (plain, packed):
        record_to(path, [StatusObs(t=1, state="connected"), sampled(t=2)])
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert packed.read_bytes()[:2] == b"\x1f\x8b" and plain.read_bytes()[:1] == b"{"
    assert gzip.decompress(packed.read_bytes()).split(b"\n")[1:] == plain.read_bytes().split(b"\n")[1:]
    assert [obs.kind for obs in RecordingReader(packed)] == ["status", "record"]


def test_an_existing_file_is_refused_unless_asked_and_then_replaced_privately(tmp_path):
    path = tmp_path / "old.jsonl"
    path.write_text("precious\n")
    path.chmod(0o644)
    with pytest.raises(RecorderError) as refused:
        Recorder(path, source={})
    assert refused.value.exists and "already exists" in str(refused.value)
    assert path.read_text() == "precious\n"
    record_to(path, [NoteObs(t=1, text="new")], overwrite=True)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # a new file, not the old one truncated
    assert [obs.kind for obs in RecordingReader(path)] == ["note"]


def test_paths_that_cannot_be_recordings_say_why(tmp_path):
    with pytest.raises(RecorderError, match="its directory does not exist"):
        Recorder(tmp_path / "gone" / "r.jsonl", source={})
    with pytest.raises(RecorderError, match="is a directory"):
        Recorder(tmp_path, source={}, overwrite=True)
    with pytest.raises(RecorderError, match="already exists"):
        Recorder("/dev/full", source={})


def test_a_full_disk_at_the_start_is_a_sentence(tmp_path):
    # /dev/full accepts the open and fails every write with ENOSPC: the header flush shows it at once.
    with pytest.raises(RecorderError) as full:
        Recorder("/dev/full", source={}, overwrite=True)
    assert str(full.value) == "cannot record to /dev/full: the disk is full"
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)  # --force never replaces a device


def test_the_header_names_the_source_and_secrets_never_reach_the_file(tmp_path):
    path = tmp_path / "secret.jsonl"
    recorder = Recorder(
        path,
        source={"kind": "live", "bootstrap": "broker:9092", "oops": f"password={SECRET}"},
        payloads="full",
        secrets=[SECRET, "js"],  # too short to mask: it would mask half the file
    )
    recorder.write(StatusObs(t=1, state="lost", detail=f"SASL authentication failed for {SECRET}"))
    recorder.write(sampled(t=2, value=f'{{"token": "{SECRET}"}}', key=SECRET))
    recorder.close()
    data = path.read_bytes()
    assert SECRET.encode() not in data
    assert data.count(b"******") == 4
    reader = RecordingReader(path)
    assert reader.header.source["bootstrap"] == "broker:9092"
    assert b"application/json" in data  # a two-letter secret is not masked everywhere


def test_format_size():
    assert [format_size(n) for n in (0, 999, 1000, 14_200, 3_100_000, 1_200_000_000)] == [
        "0 B",
        "999 B",
        "1.0 KB",
        "14.2 KB",
        "3.1 MB",
        "1.20 GB",
    ]


# -- flushing and dying -------------------------------------------------------------------------------------

_WRITER_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from adapters.files.recorder import Recorder
    from flow.observations import NoteObs
    path, count, size, flush = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    recorder = Recorder(path, source={"kind": "test"}, flush_interval=flush)
    for n in range(count):
        recorder.write(NoteObs(t=n + 1, text="x" * size))
    print("written", flush=True)
    time.sleep(600)
    """
)


def killed_writer(path: Path, count: int, size: int, flush: float, within: float) -> None:
    """A recorder in another process writes ``count`` notes and idles; it is SIGKILLed as soon as they are all
    in the file, which must be ``within`` seconds (no new write comes to make it flush)."""
    process = subprocess.Popen(
        [sys.executable, "-c", _WRITER_SCRIPT, str(path), str(count), str(size), str(flush)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None and process.stdout.readline() == "written\n"
        wait_until(
            lambda: len(list(RecordingReader(path))) == count,
            f"the {count} notes to be flushed to the file",
            timeout=within,
        )
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(10)


@pytest.mark.parametrize("name", ["killed.jsonl", "killed.jsonl.gz"])
def test_a_killed_recorder_has_flushed_everything_older_than_the_flush_interval(tmp_path, name):
    path = tmp_path / name
    killed_writer(path, count=50, size=100, flush=0.2, within=1.0)
    reader = RecordingReader(path)
    notes = list(reader)
    assert len(notes) == 50
    if name.endswith(".gz"):
        # Never closed, so the gzip stream has no end: everything up to the last flush reads, and it says so.
        assert reader.skipped == 1 and "compressed file is truncated" in reader.problems[0]
    else:
        assert reader.skipped == 0


_BIG_LINES_SCRIPT = textwrap.dedent(
    """
    import sys
    from adapters.files.recorder import Recorder
    from flow.observations import NoteObs
    recorder = Recorder(sys.argv[1], source={"kind": "test"})
    print(recorder.bytes_written, flush=True)
    text = "z" * 64_000_000
    for n in range(100):
        recorder.write(NoteObs(t=n + 1, text=text))
    """
)


def test_a_recorder_killed_during_a_large_write_leaves_a_partial_line_that_is_counted(tmp_path):
    # A line longer than the write buffer goes to the OS in one write of 64 MB; SIGKILL stops the kernel
    # copying it part way. The test kills as soon as the file grows past its header, i.e. mid-write.
    path = tmp_path / "partial.jsonl"
    process = subprocess.Popen(
        [sys.executable, "-c", _BIG_LINES_SCRIPT, str(path)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        header = int(process.stdout.readline())
        wait_until(
            lambda: path.stat().st_size > header, "the first 64 MB line to reach the file", timeout=60, interval=0
        )
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    data = path.read_bytes()
    assert header < len(data) and not data.endswith(b"\n")  # the kill landed inside a line
    reader = RecordingReader(path)
    notes = list(reader)
    assert len(notes) == data.count(b"\n") - 1  # every complete line but the header
    assert reader.skipped == 1 and "incomplete last line (the writer stopped mid-line)" in reader.problems[0]
    assert reader.summary() == f"{path}: skipped 1 bad line (first: {reader.problems[0]})"


def test_flush_interval_is_kept_without_new_writes(tmp_path):
    path = tmp_path / "idle.jsonl"
    recorder = Recorder(path, source={}, flush_interval=0.1)
    recorder.write(NoteObs(t=1, text="one"))
    wait_until(lambda: path.read_bytes().count(b"\n") >= 2, "the note to be flushed without another write", timeout=5)
    assert path.read_bytes().count(b"\n") == 2
    assert recorder.file_size == path.stat().st_size
    recorder.close()


# -- failures never reach the session ------------------------------------------------------------------------

_LIMITED_SCRIPT = textwrap.dedent(
    """
    import os, resource, signal, sys
    from adapters.files.recorder import Recorder
    from flow.observations import NoteObs
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit then fail with EFBIG
    resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))
    recorder = Recorder(sys.argv[1], source={"kind": "test"}, flush_interval=0.05)
    for n in range(2000):
        recorder.write(NoteObs(t=n + 1, text=os.urandom(50).hex()))  # random: gzip cannot shrink it; never raises
        if n % 50 == 0:
            recorder.flush()  # as every second in a live session
    recorder.close()
    recorder.close()
    print(recorder.observations)
    print(recorder.error)
    """
)


@pytest.mark.parametrize("name", ["limited.jsonl", "limited.jsonl.gz"])
def test_a_write_that_fails_mid_recording_stops_it_with_a_sentence_and_never_raises(tmp_path, name):
    # A file size limit (RLIMIT_FSIZE) fails writes the way a full disk does, for this process only.
    path = tmp_path / name
    done = subprocess.run(
        [sys.executable, "-c", _LIMITED_SCRIPT, str(path)], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    written, error = done.stdout.splitlines()
    assert 0 < int(written) < 2000
    assert error.startswith(f"recording to {path} stopped: the file is larger than the file system or a size limit")
    reader = RecordingReader(path)
    assert len(list(reader)) > 0  # what was written before the failure replays


def test_a_deleted_directory_stops_the_recording_with_a_sentence(tmp_path):
    folder = tmp_path / "incident"
    folder.mkdir()
    path = folder / "r.jsonl"
    recorder = Recorder(path, source={}, flush_interval=0.05)
    recorder.write(NoteObs(t=1, text="before"))
    path.unlink()
    folder.rmdir()
    recorder.write(NoteObs(t=2, text="after"))
    recorder.flush()
    assert recorder.error == (
        f"recording to {path} stopped: the file was deleted or replaced while recording; "
        "the file keeps every complete line"
    )
    assert not recorder.recording
    count = recorder.observations
    recorder.write(NoteObs(t=3, text="ignored"))
    recorder.close()
    assert recorder.observations == count and recorder.badge() == "r.jsonl stopped"


def test_write_after_close_is_ignored(tmp_path):
    recorder = record_to(tmp_path / "r.jsonl", [NoteObs(t=1, text="a")])
    recorder.write(NoteObs(t=2, text="late"))
    assert recorder.observations == 1 and recorder.closed
    assert recorder.bytes_written == (tmp_path / "r.jsonl").stat().st_size == recorder.size
    assert recorder.badge().startswith("r.jsonl ") and recorder.badge().endswith(" B")


# -- with a session ---------------------------------------------------------------------------------------------


def test_a_recording_attached_mid_session_starts_with_the_state_and_follows_the_fold(tmp_path):
    first = threading.Event()
    source = replay_file(SAMPLES / "shop-commands.jsonl", speed=16.0)
    session = Session(source, lambda frame: first.set(), publish_interval=0.05)
    session.start()
    path = tmp_path / "mid.jsonl"
    try:
        assert first.wait(10)
        recorder = Recorder(path, source={"kind": "replay"}, payloads="full", flush_interval=0.05)
        attach(session, recorder, StatusView("connected", "from the view", 0, 0))
        wait_until(lambda: recorder.observations > 20, "more than 20 observations to be recorded")
        detach(session, recorder)
    finally:
        session.stop()
    assert recorder.closed and recorder.error is None
    recorded = list(RecordingReader(path))
    assert recorded[0] == StatusObs(t=recorded[0].t, state="connected", detail="from the view")
    assert recorded[0].t <= recorded[1].t
    # The rest is a contiguous run of what the session folded: nothing lost or repeated at either end.
    original = list(RecordingReader(SAMPLES / "shop-commands.jsonl"))
    start = original.index(recorded[1])
    assert start > 0 and len(recorded) > 20
    assert recorded[1:] == original[start : start + len(recorded) - 1]


def test_a_session_tap_records_exactly_what_the_session_folds(tmp_path):
    path = tmp_path / "tee.jsonl"
    recorder = Recorder(path, source={"kind": "replay"})
    inner = replay_file(SAMPLES / "shop-commands.jsonl", speed=float("inf"))
    session = Session(inner, lambda frame: None)
    session.set_tap(recorder.write)
    session.start()
    wait_until(lambda: inner.playback().finished, "the replay to finish")
    folded = session.call_wait(session.model.snapshot)
    session.stop()
    recorder.close()
    replayed, reader = fold_file(path)
    assert reader.skipped == 0
    # Everything but the sampled records' values, keys and private headers (payloads: none).
    assert replace(replayed, topics=()) == replace(folded, topics=())
    assert [replace(t, records=()) for t in replayed.topics] == [replace(t, records=()) for t in folded.topics]
    for mine, theirs in zip(replayed.topics, folded.topics, strict=True):
        assert [(r.topic, r.partition, r.offset, r.size) for r in mine.records] == [
            (r.topic, r.partition, r.offset, r.size) for r in theirs.records
        ]
        assert all(r.value is None and r.key is None for r in mine.records)
