"""`flowscope simulate`: drive a scenario into a real Kafka cluster, the one command that writes to one.

Creates the scenario's topics, runs idempotent producers (JSON values with CloudEvents headers, or with
--format avro|protobuf|json-schema values in a schema registry's wire format, registering the schemas
first) and real consumer groups that commit (one of them slow for a while), until --duration passes or
SIGINT / SIGTERM comes; it then ends within seconds, whatever the cluster does. Exit 0 when it stopped as
asked, 2 with a sentence when the cluster (or the registry) cannot be used or no longer answered at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from typing import TYPE_CHECKING, Any

from adapters.kafka.config import ConnectionSettings
from adapters.kafka.properties import ConfigError
from adapters.scenarios.specs import SCENARIOS, ScenarioSpec, scenario
from adapters.schemas.writer import WRITE_FORMATS
from tui.commands import EXIT_OK, UsageError, parse_duration
from tui.commands.connection import add_connection_arguments, connection_from_args, wants_connection

if TYPE_CHECKING:  # the Kafka clients load only when the command runs
    from adapters.scenarios.simulate import SimulateFormat, SimulationStats
    from adapters.schemas.registry import RegistrySettings

FORMATS = ("cloudevents", *WRITE_FORMATS)


def parse_rate(text: str, spec: ScenarioSpec) -> float:
    """The rate multiplier: `2` or `2x` doubles the scenario's rates; `50/s` scales them so that the
    emitters write 50 records per second in total (reactions come on top)."""
    cleaned = text.strip().lower()
    try:
        if cleaned.endswith("/s"):
            wanted = float(cleaned[:-2])
            total = sum(emitter.rate for emitter in spec.emitters)
            multiplier = wanted / total if total > 0 else 0.0
        else:
            multiplier = float(cleaned.removesuffix("x"))
    except ValueError:
        raise UsageError(f"--rate {text!r} is not a rate (examples: 2, 0.5x, 50/s)") from None
    if not multiplier > 0:
        raise UsageError(f"--rate {text!r} must be more than zero")
    return multiplier


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "simulate",
        help="drive a scenario into a real Kafka cluster: real producers and consumer groups (writes!)",
        description="Create the scenario's topics and run it against a real cluster: idempotent producers "
        "per service writing keyed records (by default JSON with CloudEvents headers: ce_specversion, ce_id, "
        "ce_source, ce_type), consumer groups that consume and commit at their capacity, reactions (a service that "
        "reads one topic writes another), and slow spells (a group falls behind, then catches up; spells "
        "repeat every scenario cycle). The only flowscope command that writes to a cluster (and, with "
        "--format avro|protobuf|json-schema, to a schema registry). Ctrl+C stops it cleanly.",
    )
    add_connection_arguments(parser)
    parser.add_argument(
        "--scenario", choices=tuple(SCENARIOS), default="shop-commands", help="what to run (shop-commands)"
    )
    parser.add_argument(
        "--rate",
        default="1",
        metavar="N",
        help="speed: a multiplier of the scenario's rates and group capacities (2 or 2x doubles them), or "
        "N/s for N records per second from the emitters in total; default 1 (the shop: 4 orders/s; "
        "large asks for about 20,000/s at 1, so give it 200/s or so)",
    )
    parser.add_argument("--duration", metavar="D", help="stop after D (30, 30s, 5m, 1h30m); default: until Ctrl+C")
    parser.add_argument(
        "--format",
        dest="value_format",
        choices=FORMATS,
        default="cloudevents",
        help="how records are written: cloudevents (default: JSON values, CloudEvents headers naming the type "
        "and the writer) or avro, protobuf, json-schema (no headers: values in the Confluent wire format, "
        "typed by one schema per topic and record type that simulate registers first under the subject "
        "TOPIC-RecordType; needs --schema-registry URL or schema.registry.url, and WRITES to that registry)",
    )
    parser.add_argument("--seed", type=int, help="seed for record contents and timing (default: random)")
    parser.add_argument("--quiet", action="store_true", help="no progress lines, only the summary")
    parser.set_defaults(run=run)


def client_options(settings: ConnectionSettings) -> dict[str, Any]:
    """aiokafka client arguments for the shared connection settings (SASL, TLS, timeouts)."""
    options: dict[str, Any] = {
        "security_protocol": settings.security_protocol,
        "request_timeout_ms": settings.request_timeout_ms,
    }
    if settings.uses_sasl:
        options["sasl_mechanism"] = settings.sasl_mechanism
        options["sasl_plain_username"] = settings.sasl_username
        options["sasl_plain_password"] = settings.sasl_password.reveal() if settings.sasl_password else None
    context = settings.ssl_context()
    if context is not None:
        options["ssl_context"] = context
    return options


def run(args: argparse.Namespace) -> int:
    from adapters.scenarios.simulate import SimulationError

    spec = scenario(args.scenario)
    rate = parse_rate(args.rate, spec)
    duration = None if args.duration is None else parse_duration(args.duration)
    if not wants_connection(args):
        raise UsageError("give the cluster to write to: --bootstrap HOST:PORT (or --command-config / a --profile)")
    settings = connection_from_args(args).settings
    fmt = args.value_format
    if fmt != "cloudevents" and settings.registry is None:
        raise UsageError(
            f"--format {fmt} registers its schemas in a schema registry: give one with --schema-registry URL "
            "(or schema.registry.url)"
        )
    registry = settings.registry if fmt != "cloudevents" else None
    try:
        options = client_options(settings)
    except ConfigError as error:
        raise UsageError(str(error)) from None
    # aiokafka logs every coordinator hiccup while groups form; the summary says what matters.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    until = "until Ctrl+C" if duration is None else f"for {duration:g} s"
    emitted = sum(emitter.rate for emitter in spec.emitters) * rate
    written = "" if registry is None else f" as {fmt} (schemas registered in {registry.label})"
    print(
        f"flowscope simulate: {spec.name} on {settings.label}{written} at {rate:g}x, {until}: "
        f"{len(spec.topics)} topics, {len(spec.groups)} consumer groups, about {emitted:,.1f} records/s "
        "from the emitters (reactions come on top)",
        file=sys.stderr,
    )
    progress = None if args.quiet else _progress
    try:
        stats = asyncio.run(
            _run(list(settings.bootstrap), spec, rate, duration, args.seed, progress, options, fmt, registry)
        )
    except SimulationError as error:
        raise UsageError(settings.redact(str(error))) from None
    for note in stats.notes:
        print(f"flowscope simulate: note: {note}", file=sys.stderr)
    print(f"flowscope simulate: stopped after {stats.line()}", file=sys.stderr)
    return EXIT_OK


def _progress(stats: SimulationStats) -> None:
    print(f"  {stats.line()}", file=sys.stderr)


async def _run(
    bootstrap: list[str],
    spec: ScenarioSpec,
    rate: float,
    duration: float | None,
    seed: int | None,
    progress: Any,
    options: dict[str, Any],
    fmt: SimulateFormat = "cloudevents",
    registry: RegistrySettings | None = None,
) -> SimulationStats:
    from adapters.scenarios.simulate import simulate

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    handled: list[signal.Signals] = []

    def first_signal() -> None:
        # The first Ctrl+C stops cleanly; a second one falls through to the default (interrupt).
        stop.set()
        for signum in handled:
            loop.remove_signal_handler(signum)

    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, first_signal)
            handled.append(signum)
    try:
        return await simulate(
            bootstrap,
            spec,
            rate,
            duration,
            stop,
            client_options=options,
            seed=seed,
            progress=progress,
            fmt=fmt,
            registry=registry,
        )
    finally:
        for signum in handled:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(signum)
