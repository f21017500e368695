"""kcat `-C -J` dumps: sniffing, the observation stream they become, and `report`/`replay` on them.

These tests write dumps in kcat's exact line format by hand, to pin down edge cases (several topics
out of time order, raw invalid UTF-8, missing timestamps, headers as a map, bad lines);
tests/test_kcat_kafka.py checks the same against real kcat output from the real broker.
"""

from __future__ import annotations

import asyncio
import gzip
import json
from itertools import pairwise
from pathlib import Path

import pytest

from adapters.files.kcat import IDLE_REFRESHES, KCAT_DETAIL, KcatReader
from adapters.files.open import open_file, sniff
from adapters.files.recording import RecordingError, RecordingReader
from adapters.files.replay import replay_file
from adapters.headless import fold
from flow.model import FlowModel
from flow.observations import Blob, EndOffsetsObs, RecordObs, StatusObs, TopicsObs
from tui.cli import main

T0 = 1_768_467_600_000  # a multiple of the 2 s refresh interval


def line(topic: str, partition: int, offset: int, ts: int | None, source: str | None, type_: str | None,
         key: str | None = "k", payload: str | None = "{}") -> bytes:  # fmt: skip
    record: dict[str, object] = {"topic": topic, "partition": partition, "offset": offset}
    if ts is not None:
        record |= {"tstype": "create", "ts": ts}
    record["broker"] = 1
    headers: list[str] = []
    if source is not None:
        headers += ["ce_source", source]
    if type_ is not None:
        headers += ["ce_type", type_]
    if headers:
        record["headers"] = headers
    record |= {"key": key, "payload": payload}
    return json.dumps(record, separators=(",", ":")).encode()


def shop_dump(path: Path) -> Path:
    """Two topics dumped one after the other, as `kcat -t a; kcat -t b` writes them: not in time order."""
    lines = [
        line("warehouse", p, o, T0 + 500 * (3 * o + p), "/web-shop", "DispatchProduct")
        for o in range(10)
        for p in range(3)
    ]
    lines += [line("send-email", 0, o, T0 + 300 + 1000 * o, "/warehouse", "SendEmail") for o in range(10)]
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def test_sniff_tells_recordings_kcat_dumps_and_other_files_apart(tmp_path, shop_commands):
    dump = shop_dump(tmp_path / "dump.jsonl")
    gz = tmp_path / "dump.jsonl.gz"
    gz.write_bytes(gzip.compress(dump.read_bytes()))
    remarks = tmp_path / "with-remarks.jsonl"
    remarks.write_bytes(b"% Auto-selecting Consumer mode (use -P or -C to override)\n" + dump.read_bytes())
    other = tmp_path / "other.json"
    other.write_text('{"hello": "world"}\n')
    assert sniff(dump) == "kcat"
    assert sniff(gz) == "kcat"
    assert sniff(remarks) == "kcat"
    assert sniff(shop_commands) == "recording"
    assert sniff(other) == "unknown"
    assert sniff(tmp_path / "missing") == "unknown"
    assert isinstance(open_file(dump).read(), KcatReader)
    reader = open_file(shop_commands).read()
    assert isinstance(reader, RecordingReader)
    reader.close()


def test_a_dump_becomes_a_time_ordered_stream_with_refreshes_every_two_seconds(tmp_path):
    observations = list(KcatReader(shop_dump(tmp_path / "dump.jsonl")))
    times = [obs.t for obs in observations]
    assert times == sorted(times)
    first = observations[0]
    assert isinstance(first, StatusObs) and first.detail == KCAT_DETAIL and first.state == "connected"
    listing = next(obs for obs in observations if isinstance(obs, TopicsObs))
    assert {(t.name, t.partitions) for t in listing.topics} == {("warehouse", 3), ("send-email", 1)}
    refreshes = [obs for obs in observations if isinstance(obs, EndOffsetsObs)]
    assert {b.t - a.t for a, b in pairwise(refreshes)} == {2000}
    # Start: each partition before its first record; end: highest offset + 1.
    assert refreshes[0].offsets == {"warehouse": (0, 0, 0), "send-email": (0,)}
    assert refreshes[-1].offsets == {"warehouse": (10, 10, 10), "send-email": (10,)}
    # A refresh carries only records written before it.
    for obs in observations:
        if isinstance(obs, RecordObs):
            assert obs.timestamp is not None and obs.timestamp < obs.t


def test_report_shows_topics_producers_types_and_rates_from_timestamps_and_no_groups(tmp_path):
    snapshot = fold(KcatReader(shop_dump(tmp_path / "dump.jsonl")))
    warehouse, email = snapshot.topic("warehouse"), snapshot.topic("send-email")
    assert warehouse is not None and email is not None
    assert warehouse.producer_names == ("web-shop",)
    assert email.producer_names == ("warehouse",)
    assert warehouse.record_types == ("DispatchProduct",)
    assert (warehouse.kind, email.kind) == ("unread", "unread")
    assert snapshot.groups == ()
    # Rates over the window up to the dump's last refresh (16 s after the first): warehouse got 30
    # records in that time, send-email 10 (and none in its last 6 s), as a live source would have seen.
    assert warehouse.rate == pytest.approx(30 / 16)
    assert email.rate == pytest.approx(10 / 16)
    assert snapshot.status is not None and "consumer groups are not recorded" in snapshot.status.detail


def test_each_writer_and_type_of_a_busy_refresh_is_sampled(tmp_path):
    # 50 records from one writer, then one from another, all within one refresh; 4 samples kept.
    lines = [line("orders", 0, o, T0 + o, "/web-shop", "Order") for o in range(50)]
    lines.append(line("orders", 0, 50, T0 + 60, "/admin-tool", "OrderCorrected"))
    lines += [line("orders", 0, 51 + o, T0 + 70 + o, "/web-shop", "Order") for o in range(20)]
    dump = tmp_path / "busy.jsonl"
    dump.write_bytes(b"\n".join(lines) + b"\n")
    records = [obs for obs in KcatReader(dump) if isinstance(obs, RecordObs)]
    assert len(records) == 4
    sources = {dict(obs.headers)["ce_source"] for obs in records}
    assert sources == {"/web-shop", "/admin-tool"}
    topic = fold(KcatReader(dump)).topic("orders")
    assert topic is not None and set(topic.producer_names) == {"web-shop", "admin-tool"}


def test_raw_bytes_missing_timestamps_header_maps_and_null_values(tmp_path):
    raw = (
        b'{"topic":"bin","partition":0,"offset":7,"tstype":"create","ts":' + str(T0).encode()
        + b',"broker":1,"headers":{"ce_source":["/svc"],"trace":[null]},"key":null,'
        b'"payload":"\xff\xfe\\u0000ok"}\n'
        b'{"topic":"bin","partition":0,"offset":8,"broker":1,"key":"k\\u0000","payload":null}\n'
    )  # fmt: skip
    dump = tmp_path / "raw.jsonl"
    dump.write_bytes(raw)
    records = [obs for obs in KcatReader(dump) if isinstance(obs, RecordObs)]
    first = next(r for r in records if r.offset == 7)
    assert first.value == Blob.from_bytes(b"\xff\xfe\x00ok")
    assert first.size == 5
    assert first.key is None
    assert first.headers == (("ce_source", "/svc"), ("trace", None))
    undated = next(r for r in records if r.offset == 8)
    assert undated.timestamp is None  # kept at its partition's last known time
    assert undated.key == "k\x00" and undated.value is None
    snapshot = fold(KcatReader(dump))
    topic = snapshot.topic("bin")
    assert topic is not None and topic.end_offsets == (9,) and topic.producer_names == ("svc",)


def test_quiet_stretches_are_bounded_and_rates_fall_to_zero_within_them(tmp_path):
    day = 86_400_000
    lines = [line("t", 0, o, T0 + 100 * o, "/a", "A") for o in range(10)]
    lines += [line("t", 0, 10 + o, T0 + day + 100 * o, "/a", "A") for o in range(10)]
    dump = tmp_path / "gap.jsonl"
    dump.write_bytes(b"\n".join(lines) + b"\n")
    observations = list(KcatReader(dump))
    refreshes = [obs for obs in observations if isinstance(obs, EndOffsetsObs)]
    # start, 2 active refreshes, one rate window of quiet ones, one just before the next activity.
    assert len(refreshes) <= 2 + IDLE_REFRESHES + 3
    assert KcatReader(dump).span() == (refreshes[0].t, refreshes[-1].t)


@pytest.mark.parametrize("strict", [False, True])
def test_bad_lines_are_skipped_and_counted_or_stop_a_strict_read(tmp_path, strict):
    good = line("t", 0, 0, T0, "/a", "A")
    dump = tmp_path / "bad.jsonl"
    dump.write_bytes(
        good + b"\n% Reached end of topic t [0] at offset 1\nnot json\n"
        b'{"topic":"t","partition":-1,"offset":3}\n' + line("t", 0, 1, T0 + 10, "/a", "A") + b'\n{"topic":"t"'
    )
    reader = KcatReader(dump, strict=strict)
    if strict:
        with pytest.raises(RecordingError, match=r"bad\.jsonl:3: not valid JSON"):
            list(reader)
        return
    snapshot = fold(reader)
    assert reader.skipped == 3
    summary = reader.summary()
    assert summary is not None and "skipped 3 bad lines" in summary and ":3: not valid JSON" in summary
    assert reader.problems[-1].endswith(":6: incomplete last line (the dump stopped mid-line)")
    topic = snapshot.topic("t")
    assert topic is not None and topic.end_offsets == (2,)


def test_a_file_that_is_not_a_dump_gets_a_sentence(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text('{"topic": 3}\n')
    with pytest.raises(RecordingError, match="not a kcat -J dump"):
        KcatReader(path)


def test_report_and_replay_recognise_a_dump(tmp_path, capsys):
    dump = shop_dump(tmp_path / "dump.jsonl")
    assert main(["report", str(dump), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    topics = {t["name"]: t for t in data["topics"]}
    assert set(topics) == {"warehouse", "send-email"}
    assert topics["warehouse"]["producers"] == ["web-shop"]
    assert topics["send-email"]["producers"] == ["warehouse"]
    assert topics["send-email"]["record_types"] == ["SendEmail"]
    assert data["consumer_groups"] == []
    assert data["source_status"]["detail"] == KCAT_DETAIL
    assert main(["report", str(dump)]) == 0
    text = capsys.readouterr().out
    assert "source: kcat dump: consumer groups are not recorded" in text
    replay = replay_file(dump, speed=float("inf"))
    assert replay.playback().start == T0 and replay.playback().end is not None


async def test_a_replay_of_a_dump_plays_to_its_end_like_a_recording(tmp_path):
    dump = shop_dump(tmp_path / "dump.jsonl")
    replay = replay_file(dump, speed=float("inf"))
    model = FlowModel()
    finished = asyncio.Event()

    class Sink:
        def apply(self, obs):
            model.apply(obs)

        def reset(self):
            model.reset()

        def rebase(self):
            pass

        def publish(self, force=False):
            if replay.playback().finished:
                finished.set()

    task = asyncio.create_task(replay.run(Sink()))
    try:
        await asyncio.wait_for(finished.wait(), 10)
    finally:
        task.cancel()
    playback = replay.playback()
    assert playback.position == playback.end == KcatReader(dump).span()[1]
    assert playback.skipped == 0
    snapshot = model.snapshot()
    assert {t.name for t in snapshot.topics} == {"warehouse", "send-email"}
    assert snapshot.status is not None and snapshot.status.detail == KCAT_DETAIL
