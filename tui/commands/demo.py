"""`flowscope demo` (and `flowscope` alone): the bundled shop story, looping, with no cluster needed: the tour of
its three chapters, or one scenario."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from adapters.source import parse_speed
from tui.commands import model_config, parsed

SCENARIO_NAMES = ("shop-commands", "shop-events", "realistic", "large")
"""The scenarios of adapters/scenarios/specs.py; named here so that listing them loads nothing (a test checks)."""

if TYPE_CHECKING:
    from adapters.source import Source


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="play the shop's story in chapters, or one bundled scenario, looping; what `flowscope` alone does",
        description="Without --scenario, the tour: the command design (shop-commands), flowscope's proposal "
        "for it, then the event design (shop-events), in one loop; n / N go to the next / previous chapter, "
        ") / ( to the next / previous caption. --scenario plays one: shop-commands (a command to the "
        "warehouse, which commands the email and SMS services), shop-events (one Order fact, three "
        "audiences), realistic, or large (a 2,000-topic cluster).",
    )
    parser.add_argument("--scenario", choices=SCENARIO_NAMES, help="one scenario instead of the tour")
    parser.add_argument("--speed", help="0.25 to 64, or max (1; the tour 1.5)")
    parser.add_argument("--no-loop", action="store_true", help="a scenario: stop at its end instead of starting over")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    speed = parsed(parse_speed, args.speed) if args.speed is not None else None
    from tui.app import run_app

    def make_source() -> Source:
        # Called on the session's thread once the app is on screen: the data side loads meanwhile.
        if args.scenario is None:
            from adapters.scenarios.tour import Tour

            return Tour() if speed is None else Tour(speed=speed)
        from adapters.scenarios.demo import demo_source

        return demo_source(args.scenario, speed=1.0 if speed is None else speed, loop=not args.no_loop)

    return run_app(make_source, config=model_config())
