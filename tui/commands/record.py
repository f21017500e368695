"""`flowscope record`: write a recording of a live cluster, headless, strictly read-only.

The connection is checked first (exit 2 with a sentence, as for `live`; a signal ends the check at
once); then the live source runs through a session whose tap is the recorder, until --duration has
passed or SIGINT / SIGTERM arrives; the file is then flushed and finished (a valid recording; gzip when
the name ends in .gz). The source runs on its own thread, so a cluster that stops answering never holds
the command past its end; if it is not answering then, the command says the cluster was lost and exits
2 (the file keeps what came before it, and the reconnection attempts). A file that cannot be written
(an unwritable path, a full disk) ends the command with a sentence and exit 2: here the recording is
the point. Progress goes to stderr every few seconds.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any

from adapters.kafka.properties import ConfigError
from adapters.settings import DEFAULT_INTERVAL, MAX_INTERVAL, MIN_INTERVAL, PAYLOAD_POLICIES
from tui.commands import EXIT_ERROR, EXIT_OK, UsageError, interrupted_by_signals, parse_duration
from tui.commands.connection import (
    add_connection_arguments,
    connection_error,
    connection_from_args,
    refresh_interval,
)

PROGRESS_EVERY = 5.0
"""Seconds between progress lines on stderr."""
POLL = 0.2
"""How often the main thread looks at the clock, the signals and the recorder."""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "record",
        help="record a live cluster's event flow to a file, headless (read-only); replay or report it later",
        description="Observe a live Kafka cluster (strictly read-only, as `live`) and write what is seen to "
        "a recording: the observation stream, one JSON line each, gzip when FILE ends in .gz, readable "
        "by you only. Stops after --duration, or on Ctrl+C / SIGTERM, and leaves a valid file. "
        "Replay it with `flowscope replay FILE`, analyse it with `flowscope report FILE`. "
        "Connection credentials never enter the file: its header names the bootstrap servers only.",
    )
    add_connection_arguments(parser)
    parser.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="FILE",
        help="the recording to write (.jsonl, or .jsonl.gz for gzip); an existing file is refused without --force",
    )
    parser.add_argument("--duration", metavar="D", help="stop after D (30, 30s, 5m, 1h30m); default: until Ctrl+C")
    parser.add_argument(
        "--payloads",
        choices=PAYLOAD_POLICIES,
        default="none",
        help="what sampled records keep: none (default: no values, no keys; headers only where they name "
        "producers and record types), preview (values cut to --preview-bytes) or full. A recording is "
        "data leaving the cluster: keep what you may take along",
    )
    parser.add_argument(
        "--preview-bytes",
        type=int,
        default=1024,
        metavar="N",
        help="with --payloads preview: bytes kept of each value (1024)",
    )
    parser.add_argument(
        "--interval",
        type=float,
        metavar="SECONDS",
        help=f"refresh interval ({DEFAULT_INTERVAL:g} s; {MIN_INTERVAL:g} to {MAX_INTERVAL:g})",
    )
    parser.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    parser.add_argument("--quiet", action="store_true", help="no progress lines, only the summary")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    # The Kafka client and the data side load only when the command runs.
    from adapters.files.recorder import format_size
    from adapters.kafka.headless import Liveness, check_connection
    from adapters.kafka.sampler import SamplerOptions
    from adapters.kafka.source import LiveSource
    from adapters.kafka.wire import ConnectionFailed
    from adapters.session import Session

    duration = None if args.duration is None else parse_duration(args.duration)
    if args.preview_bytes < 1:
        raise UsageError("--preview-bytes must be at least 1")
    resolved = connection_from_args(args)
    interval = refresh_interval(args, resolved)
    output = Path(args.output)
    refuse_existing(output, args.force)  # before connecting: no waiting for a cluster to learn that
    settings = resolved.settings
    try:
        with interrupted_by_signals():  # nothing is written yet: a signal ends the check at once
            check_connection(settings)
    except (ConnectionFailed, ConfigError) as error:
        return connection_error(error)

    # From here on a signal stops the recording, and the file is finished whatever the cluster does.
    stop = threading.Event()
    received: list[str] = []

    def on_signal(signum: int, frame: FrameType | None) -> None:
        received.append(signal.Signals(signum).name)
        stop.set()

    previous = {signum: signal.signal(signum, on_signal) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        recorder = open_recording(
            output,
            settings,
            force=args.force,
            payloads=args.payloads,
            interval=interval,
            preview_bytes=args.preview_bytes,
        )
        sampler = SamplerOptions(payloads=args.payloads, preview_bytes=args.preview_bytes)
        source = LiveSource(settings, interval=interval, sampler=sampler)
        # No frames are drawn: the session publishes only when the source forces it (a state change).
        session = Session(source, lambda frame: None, publish_interval=float("inf"))
        session.set_tap(recorder.write)
        liveness = Liveness(source)
        until = "until Ctrl+C" if duration is None else f"for {duration:g} s"
        print(
            f"flowscope record: {settings.label} to {output} every {interval:g} s, {until} (payloads: {args.payloads})",
            file=sys.stderr,
        )
        started = time.monotonic()
        deadline = None if duration is None else started + duration
        next_progress = started + PROGRESS_EVERY
        try:
            session.start()
            while not stop.wait(POLL):
                liveness.look()
                now = time.monotonic()
                if recorder.error is not None or not session.running or (deadline is not None and now >= deadline):
                    break
                if now >= next_progress and not args.quiet:
                    state = source.state or "connecting"
                    written = f"{recorder.observations:,} observations, {format_size(recorder.size)}"
                    print(f"  {now - started:.0f}s: {written}; {state}", file=sys.stderr)
                    next_progress += PROGRESS_EVERY
        finally:
            # Repeated signals during the shutdown are ignored (the handler stays): it is short and bounded,
            # as the source runs on its own thread (a cluster that does not answer holds only that thread).
            lost = liveness.lost()  # before stopping the source: its state is the cluster's, not the stop's
            session.stop()
            recorder.close()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)

    why = f"stopped by {received[0]}" if received else "done"
    if recorder.error is not None:
        print(f"flowscope record: {recorder.error}", file=sys.stderr)
        return EXIT_ERROR
    if session.error is not None:
        print(f"flowscope record: the live source stopped ({settings.redact(session.error)})", file=sys.stderr)
        print(f"flowscope record: {recorder.summary()}", file=sys.stderr)
        return EXIT_ERROR
    if lost is not None:
        print(f"flowscope record: {lost}; recorded {recorder.summary()}", file=sys.stderr)
        return EXIT_ERROR
    print(f"flowscope record: {why}: {recorder.summary()}", file=sys.stderr)
    return EXIT_OK


def refuse_existing(output: Path, force: bool) -> None:
    """UsageError when ``output`` cannot be the new recording: a directory, or a file without --force."""
    if output.is_dir():
        raise UsageError(f"cannot record to {output}: it is a directory")
    if output.exists() and not force:
        raise UsageError(f"{output} already exists: choose another name, or give --force to overwrite it")


def open_recording(path: Path, settings: Any, *, force: bool, **options: Any) -> Any:
    """The recorder for ``path`` (adapters.files.recorder.live_recorder with ``options``); UsageError with a
    sentence if it cannot start."""
    from adapters.files.recorder import RecorderError, live_recorder

    try:
        return live_recorder(path, settings, overwrite=force, **options)
    except RecorderError as error:
        advice = "; give --force to overwrite it" if error.exists else ""
        raise UsageError(f"{error}{advice}") from None


# -- `flowscope live --record FILE`: the same recorder, started with the view ------------------------------

_PAYLOAD_RANK = {"none": 0, "preview": 1, "full": 2}


def add_live_recording_arguments(parser: argparse.ArgumentParser) -> None:
    """The recording options of `flowscope live`."""
    group = parser.add_argument_group(
        "recording", "Record what the view observes from its start, as `flowscope record` does, until you quit."
    )
    group.add_argument(
        "--record", metavar="FILE", help="also write a recording to FILE (.jsonl, or .jsonl.gz for gzip)"
    )
    group.add_argument(
        "--record-payloads",
        choices=PAYLOAD_POLICIES,
        help="what the recording keeps of sampled records: none (default: no values, no keys), preview or "
        "full; never more than the view samples (--payloads is raised to it when not given)",
    )
    group.add_argument("--force", action="store_true", help="with --record: overwrite FILE if it exists")


def live_view_payloads(args: argparse.Namespace, payloads: str, explicit: bool) -> str:
    """The view's payloads, raised to what --record-payloads keeps unless they were chosen explicitly
    (then a recording that asks for more than the view samples is a usage error)."""
    wanted = args.record_payloads or "none"
    if args.record is None:
        if args.record_payloads or args.force:
            raise UsageError("--record-payloads and --force go with --record FILE")
        return payloads
    if _PAYLOAD_RANK[wanted] <= _PAYLOAD_RANK[payloads]:
        return payloads
    if explicit:
        raise UsageError(
            f"--record-payloads {wanted} keeps more than the view samples (payloads {payloads}): "
            f"give --payloads {wanted} as well, or record less"
        )
    return wanted


def start_live_recording(args: argparse.Namespace, settings: Any, interval: float) -> Any:
    """The recorder for `live --record FILE` (None without it); UsageError with a sentence if it cannot start."""
    if args.record is None:
        return None
    return open_recording(
        Path(args.record), settings, force=args.force, payloads=args.record_payloads or "none", interval=interval
    )
