"""Real `kcat -C -J` output of the shop topics, written by `simulate` to the real broker, as a source.

kcat is Debian's package (scripts/ci-packages). The dump of three topics, one after another, is not in
time order, as real dumps of several topics are not; the report must still find the topics, their
producers and record types, and end offsets equal to what Kafka's own get-offsets prints.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from adapters.files.kcat import KCAT_DETAIL, KcatReader
from adapters.files.open import sniff
from adapters.headless import fold
from adapters.scenarios.simulate import simulate
from adapters.scenarios.specs import shop_commands
from tui.cli import main

pytestmark = pytest.mark.kafka

ROOT = Path(__file__).resolve().parent.parent
SHOP_TOPICS = ("warehouse", "send-email", "send-text")


@pytest.fixture(scope="module")
def dump(kafka, tmp_path_factory) -> Path:
    kcat = shutil.which("kcat")
    if kcat is None:
        if os.environ.get("CI") == "true":
            pytest.fail("kcat is needed in CI (Debian package kcat, see scripts/ci-packages)")
        pytest.skip("kcat is not installed (apt-get install kcat)")
    asyncio.run(simulate(kafka.bootstrap, shop_commands(), rate=3, duration=5, seed=2))
    path = tmp_path_factory.mktemp("kcat") / "shop.kcat.jsonl"
    with path.open("wb") as out:
        for topic in SHOP_TOPICS:
            subprocess.run(
                [kcat, "-b", kafka.bootstrap, "-C", "-J", "-e", "-q", "-t", topic],
                stdout=out, check=True, timeout=120,
            )  # fmt: skip
    return path


def kafka_end_offsets(bootstrap: str, topic: str) -> tuple[int, ...]:
    done = subprocess.run(
        [str(ROOT / "scripts" / "kafka-tool"), "get-offsets", "--bootstrap-server", bootstrap, "--topic", topic],
        capture_output=True, text=True, timeout=180, check=True,
    )  # fmt: skip
    offsets = dict(line.rsplit(":", 2)[1:] for line in done.stdout.split())
    return tuple(int(offsets[str(p)]) for p in range(len(offsets)))


def test_the_dump_is_kcat_json_with_cloudevents_headers_and_keys(dump):
    first = json.loads(dump.read_text().splitlines()[0])
    assert {"topic", "partition", "offset", "tstype", "ts", "broker", "headers", "key", "payload"} <= set(first)
    headers = dict(zip(first["headers"][0::2], first["headers"][1::2], strict=True))
    assert headers["ce_specversion"] == "1.0" and headers["ce_source"] == "/web-shop"
    assert headers["ce_type"] == "DispatchProduct" and headers["content-type"] == "application/json"
    assert headers["ce_id"] and first["key"].startswith("o-")
    assert sniff(dump) == "kcat"


def test_report_finds_topics_producers_and_types_of_a_real_dump(dump, capsys):
    assert main(["report", str(dump), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    topics = {topic["name"]: topic for topic in data["topics"]}
    assert set(topics) == set(SHOP_TOPICS)
    assert topics["warehouse"]["producers"] == ["web-shop"]
    assert topics["send-email"]["producers"] == ["warehouse"]
    assert topics["send-text"]["producers"] == ["warehouse"]
    assert topics["warehouse"]["record_types"] == ["DispatchProduct"]
    assert topics["send-email"]["record_types"] == ["SendEmail"]
    assert all(topic["kind"] == "unread" for topic in topics.values())
    assert all(topic["messages_per_second"] for topic in topics.values())
    assert data["consumer_groups"] == [] and data["source_status"]["detail"] == KCAT_DETAIL


def test_end_offsets_match_kafka_and_gzip_reads_the_same(kafka, dump, tmp_path):
    snapshot = fold(KcatReader(dump))
    for topic in SHOP_TOPICS:
        view = snapshot.topic(topic)
        assert view is not None
        assert view.end_offsets == kafka_end_offsets(kafka.bootstrap, topic)
    packed = tmp_path / "shop.kcat.jsonl.gz"
    packed.write_bytes(gzip.compress(dump.read_bytes()))
    again = fold(KcatReader(packed))
    assert [(t.name, t.end_offsets, t.producer_names) for t in again.topics] == [
        (t.name, t.end_offsets, t.producer_names) for t in snapshot.topics
    ]
