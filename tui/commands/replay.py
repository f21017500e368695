"""`flowscope replay FILE`: play a recording with its timing, scaled by a speed."""

from __future__ import annotations

import argparse
from typing import Any

from adapters.source import parse_speed
from tui.commands import UsageError, add_speed_argument, model_config, parsed
from tui.view.format import parse_position


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "replay",
        help="replay a recording (.jsonl or .jsonl.gz) with its timing",
        description="Replay a recording: space pauses, + and - change speed, [ and ] step, g and G jump.",
    )
    parser.add_argument("file", metavar="FILE", help="a flowscope recording, or a kcat -C -J dump")
    add_speed_argument(parser)
    parser.add_argument("--loop", action="store_true", help="start over at the end")
    parser.add_argument("--start", metavar="MM:SS", help="start at this position in the recording")
    parser.add_argument("--strict", action="store_true", help="stop at the first bad line")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    speed = parsed(parse_speed, args.speed)
    offset = parsed(parse_position, args.start) if args.start else None
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
