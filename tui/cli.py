"""The `flowscope` command line: parses arguments and hands each command to its module.

Only the module of the command given is imported (all of them for `flowscope --help`), and command
modules import little at the top: Textual loads only for the commands that open the app, and the data
side (pydantic, readers, the model, the Kafka client) only when a command runs, so the demo paints at once.
Exit codes: 0 ok, 1 findings with --fail-on, 2 usage or connection errors (a sentence, no traceback).
With no command, flowscope plays the bundled demo.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from tui.commands import EXIT_ERROR, UsageError

COMMANDS = ("demo", "replay", "live", "record", "report", "simulate", "serve")
"""Each is the module tui/commands/NAME.py, with register(subparsers) and the run(args) it sets."""


class _Parser(argparse.ArgumentParser):
    # One sentence, as for every other usage error, not a usage block that buries it.
    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"{self.prog}: {message} (see: {self.prog} --help)", file=sys.stderr)
        sys.exit(EXIT_ERROR)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser for every command, or for ``only`` that one (the others' modules stay unloaded)."""
    parser = _Parser(
        prog="flowscope",
        description="See how events flow through a Kafka cluster: producers -> topics -> consumer groups, "
        "with command topics (an audience of one) flagged. With no command, plays the bundled demo.",
    )
    parser.set_defaults(run=None)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMANDS if only is None else (only,):
        importlib.import_module(f"tui.commands.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv) or ["demo"]
    parser = build_parser(arguments[0] if arguments[0] in COMMANDS else None)
    args = parser.parse_args(arguments)
    run = args.run
    if run is None:
        parser.print_help()
        return EXIT_ERROR
    try:
        code: int = run(args)
        return code
    except UsageError as error:
        print(f"flowscope: {error}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
