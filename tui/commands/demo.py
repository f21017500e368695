"""`flowscope demo` (and `flowscope` alone): the bundled shop story, looping, with no cluster needed."""

from __future__ import annotations

import argparse
from typing import Any

from adapters.demo import demo_source
from adapters.replay import parse_speed
from adapters.scenarios import SCENARIOS
from tui.commands import UsageError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="play a bundled scenario (default: shop-commands), looping; what `flowscope` alone does",
        description="Play the seed's shop: shop-commands (a command to the warehouse, which commands the "
        "email and SMS services) or shop-events (one Order fact, three audiences). `large` simulates a "
        "2,000-topic cluster.",
    )
    parser.add_argument("--scenario", choices=tuple(SCENARIOS), default="shop-commands")
    parser.add_argument("--speed", default="1", help="0.25 to 64, or max (1)")
    parser.add_argument("--no-loop", action="store_true", help="stop at the end instead of starting over")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        speed = parse_speed(args.speed)
    except ValueError as error:
        raise UsageError(str(error)) from None
    source = demo_source(args.scenario, speed=speed, loop=not args.no_loop)
    from tui.app import run_app  # Textual loads only for commands that open the app

    return run_app(source)
