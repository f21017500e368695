"""Reading recordings: streaming, gzip, and a clear FILE:LINE message for every kind of bad input."""

from __future__ import annotations

import gc
import gzip
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.files.recording import RecordingError, RecordingReader, RecordingWriter
from adapters.headless import fold, fold_file
from adapters.runtime import collector_paused
from flow.observations import NoteObs, Observation
from tests.conftest import SAMPLES
from tests.helpers import ends, topics

HEADER = b'{"format":"flowscope-recording","version":1}\n'
GOOD = b'{"t":1,"kind":"note","text":"one"}\n'
GOOD2 = b'{"t":2,"kind":"note","text":"two"}\n'


def write(path: Path, *lines: bytes) -> Path:
    path.write_bytes(b"".join(lines))
    return path


def test_a_recording_streams_its_observations(tmp_path):
    path = write(tmp_path / "r.jsonl", HEADER, GOOD, b"\n", GOOD2)
    reader = RecordingReader(path)
    assert [obs.text for obs in reader] == ["one", "two"]  # type: ignore[union-attr]
    assert reader.skipped == 0
    assert reader.summary() is None


def test_reading_is_lazy(tmp_path):
    path = write(tmp_path / "r.jsonl", HEADER, GOOD, b"not json\n")
    iterator = iter(RecordingReader(path, strict=True))
    assert next(iterator).t == 1  # the bad line after it has not been read yet


def test_gzip_is_recognised_by_content_not_name(tmp_path):
    path = tmp_path / "no-suffix"
    path.write_bytes(gzip.compress(HEADER + GOOD + GOOD2))
    assert [obs.t for obs in RecordingReader(path)] == [1, 2]


@pytest.mark.parametrize(
    ("bad_line", "what"),
    [
        (b'{"t":3,"kind":"note","text":\n', "not valid JSON"),
        (b'{"t":3,"kind":"end_offsets","offsets":{"orders":["x"]}}\n', "field offsets.orders[0]"),
        (b'{"t":"soon","kind":"note","text":"x"}\n', "field t"),
        (b'{"t":3,"kind":"teleport"}\n', "unknown observation kind 'teleport'"),
        (b'{"t":3,"kind":"note","text":"\xff\xfe"}\n', "not valid JSON"),
    ],
)
def test_a_bad_line_is_named_by_file_and_line(tmp_path, bad_line, what):
    path = write(tmp_path / "bad.jsonl", HEADER, GOOD, bad_line, GOOD2)
    with pytest.raises(RecordingError) as error:
        list(RecordingReader(path, strict=True))
    assert str(error.value).startswith(f"{path}:3: ")
    assert what in str(error.value)

    lenient = RecordingReader(path)
    assert [obs.t for obs in lenient] == [1, 2]
    assert lenient.skipped == 1
    assert f"skipped 1 bad line (first: {path}:3: " in (lenient.summary() or "")


def test_lenient_mode_counts_every_bad_line_but_keeps_a_bounded_list(tmp_path):
    path = write(tmp_path / "bad.jsonl", HEADER, *[b"garbage\n"] * 500, GOOD)
    reader = RecordingReader(path)
    assert [obs.t for obs in reader] == [1]
    assert reader.skipped == 500
    assert len(reader.problems) <= 20


def test_a_future_version_is_refused_on_line_one(tmp_path):
    path = write(tmp_path / "future.jsonl", b'{"format":"flowscope-recording","version":2}\n', GOOD)
    with pytest.raises(RecordingError, match=r"future.jsonl:1: recording format version 2 is not supported"):
        RecordingReader(path)


def test_missing_empty_and_foreign_files_say_so(tmp_path):
    with pytest.raises(RecordingError, match="no such file"):
        RecordingReader(tmp_path / "nope.jsonl")
    with pytest.raises(RecordingError, match="empty file"):
        RecordingReader(write(tmp_path / "empty.jsonl"))
    with pytest.raises(RecordingError, match="is a directory"):
        RecordingReader(tmp_path)
    with pytest.raises(RecordingError, match=r":1: not a flowscope recording"):
        RecordingReader(write(tmp_path / "csv.jsonl", b"a,b,c\n1,2,3\n"))


def test_a_truncated_gzip_file_keeps_what_was_readable(tmp_path):
    body = HEADER + b"".join(b'{"t":%d,"kind":"note","text":"%s"}\n' % (i, b"x" * 50) for i in range(2000))
    whole = gzip.compress(body)
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(whole[: len(whole) // 2])
    reader = RecordingReader(path)
    seen = [obs.t for obs in reader]
    assert 0 < len(seen) < 2000
    assert seen == list(range(len(seen)))
    assert reader.skipped >= 1
    assert "truncated" in (reader.summary() or "")
    with pytest.raises(RecordingError, match=r"cut.jsonl.gz:\d+: .*truncated"):
        list(RecordingReader(path, strict=True))


def test_a_partial_last_line_from_a_killed_writer_is_skipped_and_counted(tmp_path):
    path = write(tmp_path / "killed.jsonl", HEADER, GOOD, GOOD2, b'{"t":3,"kind":"no')
    reader = RecordingReader(path)
    assert [obs.t for obs in reader] == [1, 2]
    assert reader.skipped == 1
    assert "killed.jsonl:4: incomplete last line" in (reader.summary() or "")


def test_a_complete_last_line_without_newline_is_kept(tmp_path):
    path = write(tmp_path / "hand.jsonl", HEADER, GOOD, GOOD2.rstrip(b"\n"))
    assert [obs.t for obs in RecordingReader(path)] == [1, 2]


@pytest.mark.parametrize("name", ["out.jsonl", "out.jsonl.gz"])
def test_the_writer_round_trips_and_creates_owner_only_files(tmp_path, name):
    path = tmp_path / name
    with RecordingWriter(path, {"kind": "test"}) as writer:
        writer.write(topics(1, "orders"))
        writer.write(ends(2, {"orders": (5,)}))
        writer.write(NoteObs(t=3, text="done"))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    reader = RecordingReader(path, strict=True)
    assert reader.header.source == {"kind": "test"}
    assert reader.header.app.startswith("flowscope")
    assert [obs.kind for obs in reader] == ["topics", "end_offsets", "note"]
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == name.endswith(".gz")


def test_a_whole_file_fold_pauses_the_collector_and_resumes_it_even_when_it_stops(tmp_path):
    # An interactive session after a fold, or a strict read that stopped at a bad line, must find the
    # cyclic garbage collector running again.
    collecting_during: list[bool] = []

    def observing() -> Iterator[Observation]:
        collecting_during.append(gc.isenabled())
        yield ends(1_000, {"orders": (5,)})

    assert gc.isenabled()
    fold(observing())
    assert collecting_during == [False]
    assert gc.isenabled()
    path = write(tmp_path / "bad.jsonl", HEADER, GOOD, b"{oops\n", GOOD2)
    with pytest.raises(RecordingError, match=r"bad\.jsonl:3:"):
        fold_file(path, strict=True)
    assert gc.isenabled()


def test_folding_makes_no_cyclic_garbage(tmp_path):
    # Why a fold may pause the collector: everything it allocates, the model included, is freed by
    # reference counting alone. Every kind of observation, hostile payloads and skipped bad lines.
    bad_lines = write(
        tmp_path / "bad.jsonl",
        HEADER,
        GOOD,
        b'{"t":3,"kind":"note","text":\n',
        b'{"t":3,"kind":"end_offsets","offsets":{"orders":["x"]}}\n',
        b'{"t":3,"kind":"teleport"}\n',
        GOOD2,
        b'{"t":4,"kind":"note","te',
    )
    recordings = [*sorted(SAMPLES.glob("*.jsonl")), bad_lines]
    gc.collect()
    with collector_paused():
        for path in recordings:
            snapshot, reader = fold_file(path)
            assert snapshot.observations > 0
            del snapshot, reader
        cyclic_garbage = gc.collect()
    assert cyclic_garbage == 0
