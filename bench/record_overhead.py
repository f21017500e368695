"""CPU and memory of `flowscope live` with and without recording, on a (scaled) `large` simulation, same run.

Usage: .venv/bin/python bench/record_overhead.py [--bootstrap HOST:PORT] [--topics 300] [--groups 60]
       [--services 60] [--rate 300/s] [--seconds 120] [--interval 2] [--pairs 1] [--gzip] [--keep]

Without --bootstrap it starts a broker of its own (scripts/local-kafka, state .cache/kafka-rec-bench) and
stops it at the end; --keep leaves it running. A child process drives `large` with --topics/--groups/
--services (the full 2,000 topics, 500 groups and about 1,000 consumers are too much for a small machine)
at --rate (records per second from the emitters, or a multiplier). Then `flowscope live` runs in a
pseudo-terminal for --seconds, without and with `--record`, --pairs times (ABBA order), while this script
samples the process's CPU time and RSS from /proc once a second (the first --warmup seconds are left out
of the CPU rate: start-up is the same in both runs). On a small machine the broker and the simulation
share the CPUs, so the A/B ratio is noisy by a few percent; the script also prints what the recorder
alone costs for the same observations, measured in its own process.
Targets: recording adds <= 10% CPU, and memory stays bounded: RSS does not grow with the recording's
length (first against last sample after the warm-up, with and without recording).
A script that prints figures, not a timed test.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATE = ROOT / ".cache" / "kafka-rec-bench"
FLOWSCOPE = [sys.executable, "-m", "tui.cli"]
TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def local_kafka(command: str) -> dict[str, str]:
    env = {**os.environ, "FLOWSCOPE_KAFKA_STATE": str(STATE)}
    done = subprocess.run(
        [str(ROOT / "scripts" / "local-kafka"), command], capture_output=True, text=True, env=env, check=True
    )
    return dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)


# -- the simulation (a child process) ------------------------------------------------------------------------


def drive(bootstrap: str, topics: int, groups: int, services: int, rate_text: str) -> int:
    """Run the scaled `large` scenario until SIGINT/SIGTERM; prints one line when clients are up."""
    import logging

    from adapters.scenarios.simulate import SimulationStats, simulate
    from adapters.scenarios.specs import large
    from tui.commands.simulate import parse_rate

    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)  # rebalancing chatter while groups form
    spec = large(topics=topics, groups=groups, services=services)
    rate = parse_rate(rate_text, spec)

    async def run() -> SimulationStats:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)

        def progress(stats: SimulationStats) -> None:
            print(f"simulate: {stats.line()[:160]}", file=sys.stderr, flush=True)

        return await simulate(bootstrap, spec, rate, None, stop, seed=1, progress=progress, progress_every=30)

    stats = asyncio.run(run())
    produced = sum(stats.produced.values())
    print(f"simulate: produced {produced:,} records in {stats.elapsed_s:.0f} s", file=sys.stderr, flush=True)
    return 0


# -- sampling a process ---------------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads), from /proc/PID/stat."""
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text[text.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_mb(pid: int) -> float:
    pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    return pages * PAGE / 1e6


@dataclass
class Run:
    label: str
    samples: list[tuple[float, float, float]] = field(default_factory=list)
    """(seconds since start, CPU seconds, RSS MB)"""
    exit_code: int | None = None
    tail: str = ""
    file_size: int = 0
    observations: int = 0

    def steady(self, warmup: float) -> list[tuple[float, float, float]]:
        return [sample for sample in self.samples if sample[0] >= warmup]

    def cpu_per_minute(self, warmup: float) -> float:
        steady = self.steady(warmup)
        (t0, c0, _), (t1, c1, _) = steady[0], steady[-1]
        return (c1 - c0) / (t1 - t0) * 60

    def peak_rss(self) -> float:
        return max(rss for _, _, rss in self.samples)


def live_in_pty(bootstrap: str, extra: list[str], seconds: float, label: str) -> Run:
    """`flowscope live` in a pseudo-terminal for ``seconds``, sampled once a second, then `q`."""
    pid, fd = pty.fork()
    if pid == 0:
        os.environ["TERM"] = "xterm-256color"
        os.chdir(ROOT)
        os.execv(sys.executable, [*FLOWSCOPE, "live", "--bootstrap", bootstrap, *extra])
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 45, 160, 0, 0))
    output = bytearray()

    def drain() -> None:  # the app blocks if nobody reads its screen
        while True:
            ready, _, _ = select.select([fd], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    return
                if not chunk:
                    return
                output.extend(chunk[-65536:])
                del output[:-200_000]

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    run = Run(label)
    started = time.monotonic()
    while (now := time.monotonic()) - started < seconds:
        try:
            run.samples.append((now - started, cpu_seconds(pid), rss_mb(pid)))
        except (FileNotFoundError, ProcessLookupError):
            break
        time.sleep(max(1.0 - (time.monotonic() - now), 0))
    with contextlib.suppress(OSError):
        os.write(fd, b"q")
    deadline = time.monotonic() + 30
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            run.exit_code = os.waitstatus_to_exitcode(status)
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            run.exit_code = -9
            break
        time.sleep(0.1)
    reader.join(2)
    with contextlib.suppress(OSError):
        os.close(fd)
    run.tail = bytes(output[-400:]).decode("utf-8", "replace")
    return run


def recorder_alone(path: Path, again: Path) -> float:
    """CPU seconds a Recorder spends writing the observations of ``path`` once more (no Kafka, no UI).

    The file's sampled records were already stripped by the payload policy, so this leaves out the one
    copy per sampled record that policy costs live (a few microseconds each).
    """
    from adapters.files.recorder import Recorder
    from adapters.files.recording import RecordingReader

    observations = list(RecordingReader(path))
    started = time.process_time()
    recorder = Recorder(again, source={"kind": "bench"}, payloads="full")
    for obs in observations:
        recorder.write(obs)
    recorder.close()
    return time.process_time() - started


# -- the benchmark --------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", help="a cluster to use (default: start one in .cache/kafka-rec-bench)")
    parser.add_argument("--topics", type=int, default=300)
    parser.add_argument("--groups", type=int, default=60)
    parser.add_argument("--services", type=int, default=60)
    parser.add_argument("--rate", default="300/s", help="records/s from the emitters (N/s) or a multiplier")
    parser.add_argument("--seconds", type=float, default=120.0, help="length of each live run")
    parser.add_argument("--warmup", type=float, default=30.0, help="seconds left out of the CPU rate")
    parser.add_argument("--interval", type=float, default=2.0, help="the live refresh interval")
    parser.add_argument("--pairs", type=int, default=1, help="runs without and with recording, alternating")
    parser.add_argument("--gzip", action="store_true", help="record to .jsonl.gz instead of .jsonl")
    parser.add_argument("--settle", type=float, default=30.0, help="seconds the simulation runs before measuring")
    parser.add_argument("--keep", action="store_true", help="leave the broker this script started running")
    parser.add_argument("--drive", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.drive:
        return drive(args.bootstrap, args.topics, args.groups, args.services, args.rate)

    from adapters.files.recording import RecordingReader
    from adapters.scenarios.specs import large
    from tui.commands.simulate import parse_rate

    spec = large(topics=args.topics, groups=args.groups, services=args.services)
    multiplier = parse_rate(args.rate, spec)
    emitted = sum(emitter.rate for emitter in spec.emitters) * multiplier
    members = sum(group.members for group in spec.groups)
    started_broker = args.bootstrap is None
    bootstrap = args.bootstrap or local_kafka("up")["bootstrap"]
    print(
        f"large scaled to {args.topics} topics x 4 partitions, {args.groups} groups ({members} consumers), "
        f"{args.services} services; {emitted:,.0f} records/s from the emitters ({multiplier:.3g}x); "
        f"live every {args.interval:g} s for {args.seconds:g} s per run; cluster {bootstrap}; "
        f"{os.cpu_count()} CPUs",
        flush=True,
    )
    simulation = subprocess.Popen(
        [sys.executable, __file__, "--drive", "--bootstrap", bootstrap, "--topics", str(args.topics),
         "--groups", str(args.groups), "--services", str(args.services), "--rate", args.rate],
        cwd=ROOT,
    )  # fmt: skip
    runs: list[Run] = []
    recorder_cpu: list[float] = []
    try:
        time.sleep(args.settle)
        if simulation.poll() is not None:
            print("the simulation stopped early", file=sys.stderr)
            return 1
        with tempfile.TemporaryDirectory(prefix="flowscope-bench-") as folder:
            for pair in range(args.pairs):
                path = Path(folder) / f"bench-{pair}.jsonl{'.gz' if args.gzip else ''}"
                extra = ["--interval", str(args.interval), "--record", str(path)]
                # ABBA order: a cluster whose load drifts during the run favours neither side.
                for recording in (False, True) if pair % 2 == 0 else (True, False):
                    if not recording:
                        runs.append(live_in_pty(bootstrap, extra[:2], args.seconds, "without"))
                        continue
                    recorded = live_in_pty(bootstrap, extra, args.seconds, "with --record")
                    recorded.file_size = path.stat().st_size if path.exists() else 0
                    if path.exists():
                        recorded.observations = sum(1 for _ in RecordingReader(path))
                        recorder_cpu.append(recorder_alone(path, Path(folder) / f"again-{pair}{path.suffix}"))
                    runs.append(recorded)
    finally:
        simulation.send_signal(signal.SIGINT)
        try:
            simulation.wait(120)
        except subprocess.TimeoutExpired:
            simulation.kill()
        if started_broker and not args.keep:
            local_kafka("down")

    print()
    print(f"{'run':<14} {'CPU s/min':>10} {'peak RSS MB':>12} {'RSS first':>10} {'RSS last':>9} {'exit':>5}  recording")
    for run in runs:
        steady = run.steady(args.warmup)
        if len(steady) < 2 or run.exit_code != 0:
            print(f"{run.label:<14} failed (exit {run.exit_code}): {run.tail!r}")
            return 1
        recording = ""
        if run.file_size:
            minutes = args.seconds / 60
            recording = (
                f"{run.observations:,} observations, {run.file_size / 1e6:.1f} MB "
                f"({run.file_size / 1e6 / minutes:.1f} MB/min)"
            )
        print(
            f"{run.label:<14} {run.cpu_per_minute(args.warmup):>10.2f} {run.peak_rss():>12.1f} "
            f"{steady[0][2]:>10.1f} {steady[-1][2]:>9.1f} {run.exit_code:>5}  {recording}"
        )
    plain = [run for run in runs if run.label == "without"]
    recorded_runs = [run for run in runs if run.label != "without"]
    cpu_without = sum(run.cpu_per_minute(args.warmup) for run in plain) / len(plain)
    cpu_with = sum(run.cpu_per_minute(args.warmup) for run in recorded_runs) / len(recorded_runs)
    ratio = cpu_with / cpu_without
    growth = max(run.steady(args.warmup)[-1][2] - run.steady(args.warmup)[0][2] for run in recorded_runs)
    growth_plain = max(run.steady(args.warmup)[-1][2] - run.steady(args.warmup)[0][2] for run in plain)
    pairs = [
        with_.cpu_per_minute(args.warmup) / without.cpu_per_minute(args.warmup)
        for without, with_ in zip(plain, recorded_runs, strict=True)
    ]
    print()
    print(
        f"CPU with recording / without: {ratio:.3f} (+{(ratio - 1) * 100:.1f}%; target <= +10%): "
        f"{'ok' if ratio <= 1.10 else 'MISSED'}; pair by pair: {', '.join(f'{r:.3f}' for r in pairs)}"
    )
    alone = sum(recorder_cpu) / len(recorder_cpu) / (args.seconds / 60)
    print(
        f"the recorder alone (encode, write{', compress' if args.gzip else ''} the same observations again, "
        f"in this process): {alone:.2f} CPU s/min = {alone / cpu_without * 100:.1f}% of live without recording"
    )
    print(
        f"RSS growth from first to last sample after warm-up: {growth:+.1f} MB with recording, "
        f"{growth_plain:+.1f} MB without (bounded: the recorder keeps nothing but a write buffer)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
