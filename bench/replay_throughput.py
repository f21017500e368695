"""Observations per second through reader + FlowModel for the `large` scenario, against plain json.loads,
and the memory the model needs after a day of it against after an hour.

Usage: .venv/bin/python bench/replay_throughput.py [--minutes 10] [--repeat 7] [--hours 24] [--interval 60]
Targets: throughput ratio >= 0.5 (the whole fold costs at most twice plain JSON parsing of the same lines);
peak RSS after folding 24 h within 1.2x of the peak after 1 h. Each timed run is a fresh process, as a
`flowscope report` is; each round runs json and fold back to back, and the verdict is the median of the
rounds' ratios (this machine's speed drifts for seconds at a time, so the fastest run of one side may
come from a quiet stretch the other never had; the fastest of each is printed too). The memory run
folds the simulation directly (no file), refreshing every --interval seconds so a day takes minutes.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from adapters.headless import fold_file
from adapters.runtime import collector_paused
from adapters.scenarios.specs import large
from adapters.scenarios.synthetic import SyntheticOptions, write_recording
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
    """What a file `flowscope report` does before it writes anything: read, validate, fold, one snapshot,
    with the collector paused until the snapshot is dropped, as the command pauses it."""
    with collector_paused():
        snapshot, _ = fold_file(path)
        observations = snapshot.observations
        del snapshot
    return observations


def timed(side: str, path: Path) -> tuple[float, int]:
    """One side over the whole file in a fresh process: (seconds, lines), start-up not counted."""
    run = subprocess.run(
        [sys.executable, __file__, "--time", side, str(path)], capture_output=True, text=True, check=True
    )
    result = json.loads(run.stdout)
    return result["seconds"], result["lines"]


def time_side(side: str, path: Path) -> int:
    function = plain_json if side == "json" else flowscope_fold
    started = time.perf_counter()
    lines = function(path)
    print(json.dumps({"seconds": time.perf_counter() - started, "lines": lines}))
    return 0


def peak_rss_mb() -> float:
    """This process's peak resident memory in MB.

    On Linux, from VmHWM: getrusage's ru_maxrss survives fork and exec, so a probe started by a big
    parent would report the parent's peak (both figures the same, a ratio of 1.00 whatever the model).
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def memory_probe(hours: float, interval_s: int) -> int:
    """Fold `hours` of `large` and print peak RSS after the first hour and at the end (a fresh process)."""
    from adapters.scenarios.synthetic import synthetic

    model = FlowModel()
    options = SyntheticOptions(interval_ms=interval_s * 1000, duration_s=hours * 3600, records_per_tick=50)
    hour_mark = options.start_ms + 3600 * 1000
    after_hour = None
    for obs in synthetic(large(), options):
        if after_hour is None and obs.t >= hour_mark:
            after_hour = peak_rss_mb()
        model.apply(obs)
    model.snapshot()
    print(json.dumps({"after_hour": after_hour, "at_end": peak_rss_mb(), "footprint": model.footprint()}))
    return 0


def memory_figure(hours: float, interval_s: int) -> None:
    started = time.perf_counter()
    probe = subprocess.run(
        [sys.executable, __file__, "--memory-probe", "--hours", str(hours), "--interval", str(interval_s)],
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(probe.stdout)
    ratio = result["at_end"] / result["after_hour"]
    verdict = "OK" if ratio <= 1.2 else "MISSED"
    print(
        f"peak RSS folding `large` every {interval_s}s: {result['after_hour']:.0f} MB after 1 h, "
        f"{result['at_end']:.0f} MB after {hours:g} h ({time.perf_counter() - started:.0f} s)"
    )
    print(f"ratio ({hours:g} h / 1 h): {ratio:.2f}  target <= 1.2  {verdict}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="virtual minutes of `large` (10)")
    parser.add_argument("--repeat", type=int, default=7, help="rounds of one run of each (7)")
    parser.add_argument("--hours", type=float, default=24.0, help="virtual hours for the memory figure (24)")
    parser.add_argument("--interval", type=int, default=60, help="refresh seconds in the memory run (60)")
    parser.add_argument("--memory-probe", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--time", nargs=2, metavar=("SIDE", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_probe:
        return memory_probe(args.hours, args.interval)
    if args.time:
        return time_side(args.time[0], Path(args.time[1]))
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
        baseline, folded = [], []
        for round_ in range(args.repeat):  # interleaved, so drift in machine speed hits both alike
            sides = ("json", "fold") if round_ % 2 == 0 else ("fold", "json")
            for side in sides:
                (baseline if side == "json" else folded).append(timed(side, path))
        assert all(count == lines for _, count in baseline + folded), "both sides must see every line"
        json_s = min(seconds for seconds, _ in baseline)
        fold_s = min(seconds for seconds, _ in folded)
        by_round = sorted(j / f for (j, _), (f, _) in zip(baseline, folded, strict=True))
        ratio = statistics.median(by_round)
        verdict = "OK" if ratio >= 0.5 else "MISSED"
        print(f"json.loads only        : {lines / json_s:>12,.0f} lines/s  (fastest {json_s:.2f} s)")
        print(f"reader + FlowModel fold: {lines / fold_s:>12,.0f} obs/s    (fastest {fold_s:.2f} s)")
        print(
            f"ratio, median of {args.repeat} rounds: {ratio:.2f}  target >= 0.5  {verdict}   "
            f"(rounds {by_round[0]:.2f}-{by_round[-1]:.2f}; fastest against fastest {json_s / fold_s:.2f})"
        )
    memory_figure(args.hours, args.interval)
    return 0


if __name__ == "__main__":
    sys.exit(main())
