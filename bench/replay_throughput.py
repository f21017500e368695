"""Observations per second through reader + FlowModel for the `large` scenario, against plain json.loads.

Usage: .venv/bin/python bench/replay_throughput.py [--minutes 10] [--repeat 3]
Target: ratio >= 0.5, i.e. the whole fold costs at most twice plain JSON parsing of the same lines.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from adapters.headless import freeze_startup_objects
from adapters.recording import RecordingReader
from adapters.scenarios import large
from adapters.synthetic import SyntheticOptions, write_recording
from flow.model import FlowModel


def plain_json(path: Path) -> int:
    count = 0
    with path.open("rb") as lines:
        next(lines)
        for line in lines:
            json.loads(line)
            count += 1
    return count


def flowscope_fold(path: Path) -> int:
    model = FlowModel()
    for obs in RecordingReader(path):
        model.apply(obs)
    model.snapshot()
    return model.observations


def timed(function, path: Path) -> tuple[float, int]:
    started = time.perf_counter()
    count = function(path)
    return time.perf_counter() - started, count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="virtual minutes of `large` (10)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each, the median is reported (3)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "large.jsonl"
        started = time.perf_counter()
        lines = write_recording(
            large(),
            path,
            SyntheticOptions(duration_s=args.minutes * 60, records_per_tick=50, producers_every=5),
        )
        print(
            f"large scenario, {args.minutes:g} virtual minutes: {lines:,} observations, "
            f"{path.stat().st_size / 1e6:.1f} MB (generated in {time.perf_counter() - started:.1f} s)"
        )
        freeze_startup_objects()  # as the flowscope command does before it reads anything
        baseline, folded = [], []
        for _ in range(args.repeat):  # interleaved, so drift in machine load hits both alike
            baseline.append(timed(plain_json, path))
            folded.append(timed(flowscope_fold, path))
        json_s = statistics.median(seconds for seconds, _ in baseline)
        fold_s = statistics.median(seconds for seconds, _ in folded)
        assert baseline[0][1] == folded[0][1] == lines, "both sides must see every line"
        print(f"json.loads only        : {lines / json_s:>12,.0f} lines/s  ({json_s:.2f} s)")
        print(f"reader + FlowModel fold: {lines / fold_s:>12,.0f} obs/s    ({fold_s:.2f} s)")
        ratio = json_s / fold_s
        verdict = "OK" if ratio >= 0.5 else "MISSED"
        print(f"ratio (fold throughput / json throughput): {ratio:.2f}  target >= 0.5  {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
