"""The bundled recordings are what the make-samples script produces: reproducible, and they replay cleanly."""

from __future__ import annotations

from adapters.files.recording import RecordingReader
from adapters.scenarios.hostile import write_hostile
from adapters.scenarios.specs import scenario
from adapters.scenarios.synthetic import SyntheticOptions, write_recording
from tests.conftest import SAMPLES


def test_the_bundled_recordings_are_reproducible(tmp_path):
    for name in ("shop-commands", "shop-events"):
        fresh = tmp_path / f"{name}.jsonl"
        write_recording(scenario(name), fresh, SyntheticOptions(seed=7))
        assert fresh.read_bytes() == (SAMPLES / f"{name}.jsonl").read_bytes(), (
            f"sample_data/{name}.jsonl is stale: run scripts/make-samples"
        )
    write_hostile(tmp_path / "hostile.jsonl")
    assert (tmp_path / "hostile.jsonl").read_bytes() == (SAMPLES / "hostile.jsonl").read_bytes()


def test_the_bundled_recordings_read_strictly_and_span_a_few_minutes():
    for name in ("shop-commands", "shop-events"):
        reader = RecordingReader(SAMPLES / f"{name}.jsonl", strict=True)
        times = [obs.t for obs in reader]
        assert 120_000 <= times[-1] - times[0] <= 600_000
        assert reader.header.source["scenario"] == name
