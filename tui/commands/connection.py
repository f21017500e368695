"""Connection options shared by every command that talks to a cluster (live, report, record, simulate).

``add_connection_arguments(parser)`` registers them and prints their precedence in ``--help``;
``connection_from_args(args)`` turns them into typed settings (adapters.kafka.config), raising UsageError
with a sentence when they cannot work. No Textual here: headless commands import this module.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING

from adapters.kafka.config import ENV_BOOTSTRAP, ENV_COMMAND_CONFIG, ResolvedConnection, resolve_connection
from adapters.settings import DEFAULT_INTERVAL, ENV_CONFIG, ENV_PROFILE, MAX_INTERVAL, MIN_INTERVAL, SettingsError
from tui.commands import EXIT_ERROR, UsageError

if TYPE_CHECKING:  # the Kafka client loads only when a command talks to a cluster
    from adapters.kafka.wire import ConnectionFailed

PRECEDENCE = (
    "Precedence, highest first: command line (--bootstrap, -X, --command-config) > environment "
    f"({ENV_BOOTSTRAP}, {ENV_COMMAND_CONFIG}, FLOWSCOPE_SECURITY_PROTOCOL, FLOWSCOPE_SASL_MECHANISM, "
    "FLOWSCOPE_SASL_USERNAME, FLOWSCOPE_SASL_PASSWORD) > profile (--profile or "
    f"{ENV_PROFILE}, from --config, ${ENV_CONFIG} or ~/.config/flowscope/config.toml) > defaults. "
    "Within one level, a command-config file is read first and explicit keys override it. "
    "Passwords are never shown; prefer FLOWSCOPE_SASL_PASSWORD or a command-config file to -X on a "
    "shared machine."
)


def add_connection_arguments(parser: argparse.ArgumentParser) -> argparse._ArgumentGroup:
    """The connection options, in their own help section that states the precedence."""
    group = parser.add_argument_group("connection", PRECEDENCE)
    group.add_argument(
        "--bootstrap",
        "-b",
        metavar="HOST:PORT[,...]",
        help=f"bootstrap servers (bootstrap.servers; env {ENV_BOOTSTRAP})",
    )
    group.add_argument(
        "--command-config",
        metavar="FILE",
        help="Java client properties file, as for Kafka's own tools: bootstrap.servers, security.protocol, "
        "sasl.mechanism, sasl.jaas.config (PLAIN, SCRAM-SHA-256/512), ssl.truststore.* and ssl.keystore.* "
        f"as PEM (env {ENV_COMMAND_CONFIG})",
    )
    group.add_argument(
        "-X",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="set one client property, e.g. -X security.protocol=SASL_SSL (repeatable; librdkafka/kcat "
        "names such as sasl.username and ssl.ca.location work too)",
    )
    group.add_argument(
        "--schema-registry",
        metavar="URL",
        help="decode Avro, Protobuf and JSON Schema records through this Confluent-compatible schema registry, "
        "read-only (schema.registry.url; env FLOWSCOPE_SCHEMA_REGISTRY; basic.auth.user.info and "
        "schema.registry.ssl.* as for Confluent's serialisers)",
    )
    group.add_argument(
        "--profile", metavar="NAME", help=f"a [profiles.NAME] table of the config file (env {ENV_PROFILE})"
    )
    group.add_argument(
        "--aws-region",
        metavar="REGION",
        help="AWS MSK IAM (sasl.mechanism=AWS_MSK_IAM): the cluster's region (aws.region; env AWS_REGION)",
    )
    group.add_argument(
        "--config",
        metavar="FILE",
        help=f"the TOML config file with the profiles (env {ENV_CONFIG}; default ~/.config/flowscope/config.toml)",
    )
    return group


def wants_connection(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> bool:
    """Whether the command line or the environment names a cluster at all (report: live or file?)."""
    env = os.environ if environ is None else environ
    given = (args.bootstrap, args.command_config, args.overrides, args.profile)
    named_in_env = (env.get(ENV_BOOTSTRAP), env.get(ENV_COMMAND_CONFIG), env.get(ENV_PROFILE))
    return any(given) or any(named_in_env)


def connection_from_args(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> ResolvedConnection:
    """Typed settings from the connection options; UsageError (exit 2) with a sentence if they cannot work."""
    try:
        resolved = resolve_connection(
            bootstrap=args.bootstrap,
            command_config=args.command_config,
            overrides=[*(args.overrides or ()), *([f"aws.region={args.aws_region}"] if args.aws_region else [])],
            profile=args.profile,
            config_file=args.config,
            environ=environ,
            schema_registry=getattr(args, "schema_registry", None),
        )
    except SettingsError as error:
        raise UsageError(str(error)) from None
    if resolved.settings.ignored:
        print(
            "flowscope: ignoring client properties flowscope does not use: " + ", ".join(resolved.settings.ignored),
            file=sys.stderr,
        )
    return resolved


def connection_error(error: ConnectionFailed | SettingsError) -> int:
    """Print a connection problem as one sentence and return the exit code for it."""
    print(f"flowscope: {error}", file=sys.stderr)
    return EXIT_ERROR


def refresh_interval(args: argparse.Namespace, resolved: ResolvedConnection) -> float:
    """--interval, else the profile's, else the default; UsageError, naming where the value came from,
    outside the allowed range (NaN included)."""
    interval = args.interval if args.interval is not None else resolved.interval or DEFAULT_INTERVAL
    if not MIN_INTERVAL <= interval <= MAX_INTERVAL:
        where = "--interval"
        if args.interval is None and resolved.profile is not None:
            where = f"interval of profile {resolved.profile.name!r} in {resolved.profile.path}"
        raise UsageError(f"{where} must be between {MIN_INTERVAL:g} and {MAX_INTERVAL:g} seconds (found {interval:g})")
    return float(interval)
