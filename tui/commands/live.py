"""`flowscope live`: attach to a real cluster, strictly read-only, and show its flow in the app.

The connection is checked before the app opens, so an unreachable cluster or wrong credentials end with
exit code 2 and a sentence within seconds, not with an empty screen.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from adapters.kafka.properties import ConfigError
from adapters.settings import DEFAULT_INTERVAL, MAX_INTERVAL, MIN_INTERVAL, PAYLOAD_POLICIES
from tui.commands import model_config
from tui.commands.connection import (
    add_connection_arguments,
    connection_error,
    connection_from_args,
    refresh_interval,
)
from tui.commands.record import (
    add_live_recording_arguments,
    live_view_payloads,
    refuse_existing,
    start_live_recording,
)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "live",
        help="attach to a Kafka cluster (read-only) and watch its event flow",
        description="Attach to a live Kafka cluster and show producers -> topics -> consumer groups, with "
        "command topics flagged. Strictly read-only: flowscope never joins a group, commits, creates "
        "topics or produces. Records are sampled without a consumer group, a few per topic per second.",
    )
    add_connection_arguments(parser)
    parser.add_argument(
        "--interval",
        type=float,
        metavar="SECONDS",
        help=f"refresh interval ({DEFAULT_INTERVAL:g} s; {MIN_INTERVAL:g} to {MAX_INTERVAL:g}; +/- change it live)",
    )
    parser.add_argument(
        "--payloads",
        choices=PAYLOAD_POLICIES,
        help="record values in the sampled records: none, preview (the first KiB; default) or full",
    )
    add_live_recording_arguments(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    # The Kafka client loads only for this command, not for every `flowscope` start.
    from adapters.kafka.headless import check_connection
    from adapters.kafka.source import LiveSource
    from adapters.kafka.wire import ConnectionFailed

    resolved = connection_from_args(args)
    interval = refresh_interval(args, resolved)
    payloads = args.payloads or resolved.payloads or "preview"
    payloads = live_view_payloads(args, payloads, explicit=bool(args.payloads or resolved.payloads))
    if args.record is not None:
        refuse_existing(Path(args.record), args.force)
    try:
        check_connection(resolved.settings)
    except (ConnectionFailed, ConfigError) as error:
        return connection_error(error)
    source = LiveSource(resolved.settings, interval=interval, payloads=payloads)  # type: ignore[arg-type]
    recorder = start_live_recording(args, resolved.settings, interval)

    from tui.app import run_app  # Textual loads only once the cluster has answered

    return run_app(source, config=model_config(), recorder=recorder)
