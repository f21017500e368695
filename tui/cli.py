"""The `flowscope` command line: parses arguments, runs reports headless and the Textual app otherwise.

Textual is imported only by the commands that open the app, so `flowscope report` starts fast.
Exit codes: 0 ok, 1 findings with --fail-on, 2 usage or connection errors (a sentence, no traceback).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from adapters.headless import fold_recording, freeze_startup_objects
from adapters.recording import RecordingError
from flow.report import report_json, report_text

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class UsageError(Exception):
    """A problem the user can fix; printed as one sentence, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"flowscope: {message}", file=sys.stderr)
        sys.exit(EXIT_ERROR)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="flowscope",
        description="See how events flow through a Kafka cluster: producers -> topics -> consumer groups, "
        "with command topics (an audience of one) flagged. With no command, plays the bundled demo.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    report = commands.add_parser(
        "report",
        help="analyse a recording headless and print the topics, their kinds and the findings",
        description="Fold a whole recording and print each topic's kind (command, event, unread, "
        "internal) with reasons, and findings such as command chains.",
    )
    report.add_argument("source", metavar="SOURCE", help="a recording (.jsonl or .jsonl.gz)")
    report.add_argument("--format", choices=("text", "json"), default="text", help="output format (text)")
    report.add_argument(
        "--strict", action="store_true", help="stop at the first bad line (exit 2) instead of skipping it"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    freeze_startup_objects()
    try:
        if args.command == "report":
            return _report(args)
        parser.print_help()
        return EXIT_OK
    except (UsageError, RecordingError) as error:
        print(f"flowscope: {error}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130


def _report(args: argparse.Namespace) -> int:
    snapshot, reader = fold_recording(args.source, strict=args.strict)
    render = report_json if args.format == "json" else report_text
    sys.stdout.write(render(snapshot, args.source))
    summary = reader.summary()
    if summary:
        print(f"flowscope: {summary}", file=sys.stderr)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
