"""`flowscope demo` (and `flowscope` alone): the bundled shop story, looping, with no cluster needed."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from adapters.source import parse_speed
from tui.commands import add_speed_argument, model_config, parsed

SCENARIO_NAMES = ("shop-commands", "shop-events", "realistic", "large")
"""The scenarios of adapters/scenarios/specs.py; named here so that listing them loads nothing (a test checks)."""

if TYPE_CHECKING:
    from adapters.source import Source


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="play a bundled scenario (default: shop-commands), looping; what `flowscope` alone does",
        description="Play the seed's shop: shop-commands (a command to the warehouse, which commands the "
        "email and SMS services) or shop-events (one Order fact, three audiences). `large` simulates a "
        "2,000-topic cluster.",
    )
    parser.add_argument("--scenario", choices=SCENARIO_NAMES, default="shop-commands")
    add_speed_argument(parser)
    parser.add_argument("--no-loop", action="store_true", help="stop at the end instead of starting over")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    speed = parsed(parse_speed, args.speed)
    from tui.app import run_app

    def make_source() -> Source:
        # Called on the session's thread once the app is on screen: the data side loads meanwhile.
        from adapters.scenarios.demo import demo_source

        return demo_source(args.scenario, speed=speed, loop=not args.no_loop)

    return run_app(make_source, config=model_config())
