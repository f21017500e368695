"""`flowscope report SOURCE`: fold a whole recording headless and print its topics, kinds and findings.

A file source is a flowscope recording or a kcat ``-C -J`` dump (told apart by its first line). Output
formats: text, json, and the exports mermaid, dot and asyncapi; ``--proposal`` draws the decoupling
proposals (flow.proposal) before and after in mermaid or dot. ``--fail-on command`` makes it a CI
gate: exit 1 when command topics exist, or with ``--baseline`` only when new ones appear.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from adapters.kafka.properties import ConfigError
from flow.export import EXPORT_FORMATS, PROPOSAL_FORMATS, proposal_renderer, renderer
from flow.gate import FAIL_ON, BaselineError, GateResult, baseline_commands, evaluate, gate_text
from flow.observations import load_json
from flow.proposal import propose
from flow.report import report_json, report_text
from flow.snapshot import FlowSnapshot
from tui.commands import EXIT_FINDINGS, EXIT_OK, UsageError, interrupted_by_signals, model_config, parse_duration
from tui.commands.connection import add_connection_arguments, connection_from_args, wants_connection

FORMATS = ("text", "json", *EXPORT_FORMATS)
LIVE_DURATION = 5.0
"""Seconds a live cluster is observed for a report: a few refreshes, enough for rates."""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "report",
        help="analyse a recording headless: topics, their kinds with reasons, findings",
        description="Fold a whole recording and print each topic's kind (command, event, unread, "
        "internal) with reasons, and findings such as command chains.",
    )
    parser.add_argument(
        "source",
        metavar="SOURCE",
        nargs="?",
        help="a recording (.jsonl or .jsonl.gz) or a `kcat -C -J` dump, gzip or not (`-`: standard input); "
        "leave it out and give --bootstrap "
        "(or a profile) to observe a live cluster instead",
    )
    add_connection_arguments(parser)
    parser.add_argument(
        "--duration",
        metavar="D",
        help=f"with a live cluster: observe it for D (30, 30s, 5m; default {LIVE_DURATION:g} s), then report; "
        "a cluster that no longer answers by then ends it with a sentence (exit 2)",
    )
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="text",
        help="output format (text): json is the data of the text report; mermaid and dot draw the flow; "
        "asyncapi writes an AsyncAPI 3.0 document (JSON)",
    )
    parser.add_argument(
        "--proposal",
        action="store_true",
        help="with --format mermaid or dot: draw today's flow beside the proposed one, where each command chain "
        "or fan-out becomes one fact its writer records and every former command audience subscribes to "
        "(removed topics and links dashed red, added ones bold green); the json report always lists proposals",
    )
    parser.add_argument(
        "--fail-on",
        choices=FAIL_ON,
        help="CI gate: exit 1 when command topics exist (with --baseline: only new ones); the verdict "
        "with reasons ends the text report (stderr for other formats)",
    )
    parser.add_argument(
        "--baseline",
        metavar="REPORT.json",
        help="a previous `report --format json`: its command topics are accepted by --fail-on",
    )
    parser.add_argument(
        "--strict", action="store_true", help="stop at the first bad line (exit 2) instead of skipping it"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    args.duration = LIVE_DURATION if args.duration is None else parse_duration(args.duration)
    if args.proposal and args.format not in PROPOSAL_FORMATS:
        raise UsageError(
            f"--proposal draws before and after, so it needs --format {' or '.join(PROPOSAL_FORMATS)} "
            "(the json report lists the proposals anyway)"
        )
    if args.baseline and not args.fail_on:
        raise UsageError("--baseline needs --fail-on (for example: --fail-on command --baseline report.json)")
    baseline = _read_baseline(args.baseline) if args.baseline else None
    from adapters.runtime import collector_paused

    if args.source is None:
        return _report(args, baseline)
    # A file report folds, writes and exits. Once the fold is done, the next collection would walk the
    # snapshot just made and free nothing: a fold makes no cyclic garbage. A live report keeps the
    # collector: it runs a network client for a while.
    with collector_paused():
        return _report(args, baseline)


def _report(args: argparse.Namespace, baseline: frozenset[str] | None) -> int:
    from adapters.files.recording import RecordingError

    try:
        snapshot, reader = _fold_source(args)
    except RecordingError as error:
        raise UsageError(str(error)) from None
    gate: GateResult | None = None
    if args.fail_on:
        gate = evaluate(snapshot, args.fail_on, baseline, args.baseline)
    if args.format == "text":
        sys.stdout.write(report_text(snapshot, args.source, gate))
    elif args.format == "json":
        sys.stdout.write(report_json(snapshot, args.source, gate))
    elif args.proposal:
        sys.stdout.write(proposal_renderer(args.format)(snapshot, propose(snapshot)))
    else:
        sys.stdout.write(renderer(args.format)(snapshot, args.source))
        if gate is not None:
            sys.stderr.write(gate_text(gate))
    summary = reader.summary() if reader is not None else None
    if summary:
        print(f"flowscope: {summary}", file=sys.stderr)
    return EXIT_FINDINGS if gate is not None and gate.failed else EXIT_OK


def _fold_source(args: argparse.Namespace) -> tuple[FlowSnapshot, Any]:
    """The snapshot to report on: a whole file folded, or a live cluster observed for ``--duration``.

    A live cluster is named by the connection options (or FLOWSCOPE_BOOTSTRAP / a profile); its report
    names the bootstrap address where a file report names the file. The second value is the file reader
    (None for a live cluster), which counts skipped lines.
    """
    if args.source is not None:
        if wants_connection(args, environ={}):  # explicit options, not a FLOWSCOPE_BOOTSTRAP left in the shell
            raise UsageError("give either a recording or connection options (--bootstrap ...), not both")
        from adapters.headless import fold_file

        # Only the JSON report lists the changes, and finding them takes a snapshot every few seconds.
        changes = args.format == "json"
        snapshot, reader = fold_file(args.source, strict=args.strict, config=model_config(), changes=changes)
        args.source = str(reader.path)  # standard input (`-`) is named as its reader's messages name it
        return snapshot, reader
    if not wants_connection(args):
        raise UsageError("give a recording to report on, or --bootstrap HOST:PORT (or a --profile) for a live cluster")
    from adapters.kafka.headless import observe  # the Kafka client loads only for a live report
    from adapters.kafka.wire import ConnectionFailed

    settings = connection_from_args(args).settings
    try:
        with interrupted_by_signals():  # a report cut short is no report: SIGINT / SIGTERM end it at once
            snapshot = observe(settings, duration=args.duration, config=model_config())
    except (ConnectionFailed, ConfigError) as error:
        raise UsageError(str(error)) from None
    args.source = settings.label
    return snapshot, None


def _read_baseline(path: str) -> frozenset[str]:
    """The command topics a baseline report accepts; a sentence (exit 2) when it cannot be used."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"baseline {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"baseline {path}: cannot be read ({error})") from None
    try:
        return baseline_commands(load_json(text))
    except json.JSONDecodeError as error:
        raise UsageError(f"baseline {path}: not JSON ({error.msg} at line {error.lineno})") from None
    except BaselineError as error:
        raise UsageError(f"baseline {path}: {error}") from None
