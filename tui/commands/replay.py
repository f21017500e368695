"""`flowscope replay FILE`: play a recording with its timing, scaled by a speed."""

from __future__ import annotations

import argparse
from typing import Any

from adapters.source import parse_speed
from tui.commands import UsageError, model_config
from tui.view.format import parse_position


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "replay",
        help="replay a recording (.jsonl or .jsonl.gz) with its timing",
        description="Replay a recording: space pauses, + and - change speed, [ and ] step, g and G jump.",
    )
    parser.add_argument("file", metavar="FILE", help="a flowscope recording, or a kcat -C -J dump")
    parser.add_argument("--speed", default="1", help="0.25 to 64, or max (1)")
    parser.add_argument("--loop", action="store_true", help="start over at the end")
    parser.add_argument("--start", metavar="MM:SS", help="start at this position in the recording")
    parser.add_argument("--strict", action="store_true", help="stop at the first bad line")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        speed = parse_speed(args.speed)
        offset = parse_position(args.start) if args.start else None
    except ValueError as error:
        raise UsageError(str(error)) from None
    from adapters.files.recording import RecordingError
    from adapters.files.replay import replay_file

    try:  # a file that cannot be read is refused here, with a sentence, before the app opens
        source = replay_file(args.file, speed=speed, loop=args.loop, strict=args.strict)
    except RecordingError as error:
        raise UsageError(str(error)) from None
    if offset is not None:
        start = source.playback().start or 0
        source.seek(start + offset)
    from tui.app import run_app  # Textual loads only for commands that open the app

    return run_app(source, config=model_config())
