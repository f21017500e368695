"""`flowscope report SOURCE`: fold a whole recording headless and print its topics, kinds and findings."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from adapters.headless import fold_recording
from flow.report import report_json, report_text
from tui.commands import EXIT_OK


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "report",
        help="analyse a recording headless: topics, their kinds with reasons, findings",
        description="Fold a whole recording and print each topic's kind (command, event, unread, "
        "internal) with reasons, and findings such as command chains.",
    )
    parser.add_argument("source", metavar="SOURCE", help="a recording (.jsonl or .jsonl.gz)")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format (text)")
    parser.add_argument(
        "--strict", action="store_true", help="stop at the first bad line (exit 2) instead of skipping it"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    snapshot, reader = fold_recording(args.source, strict=args.strict)
    render = report_json if args.format == "json" else report_text
    sys.stdout.write(render(snapshot, args.source))
    summary = reader.summary()
    if summary:
        print(f"flowscope: {summary}", file=sys.stderr)
    return EXIT_OK
