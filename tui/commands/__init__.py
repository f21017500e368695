"""One module per `flowscope` command: each registers its arguments and runs its work.

A command module provides ``register(subparsers)`` (which sets ``run`` as the parser default) and
raises :class:`UsageError` for problems the user can fix; the CLI turns those into exit code 2.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import re
import signal
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from flow.config import ModelConfig

T = TypeVar("T")

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class UsageError(Exception):
    """A problem the user can fix; printed as one sentence, exit code 2."""


def parsed(parse: Callable[[str], T], text: str) -> T:
    """``parse(text)``; a ValueError becomes a UsageError with the same sentence."""
    try:
        return parse(text)
    except ValueError as error:
        raise UsageError(str(error)) from None


_DURATION = re.compile(r"(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s?)?")
"""Digits only, so ``nan``, ``inf`` and ``1e9`` are no durations (``float()`` would take them)."""


def parse_duration(text: str) -> float:
    """``--duration`` of `simulate`, `record` and `report`: `90`, `90s`, `5m`, `1h`, `1m30s` -> seconds.

    A UsageError with one sentence for anything else: text that is not a duration, zero, or a number
    too large to be finite (400 nines). The commands promise to end by the duration: it must be a time.
    """
    match = _DURATION.fullmatch(text.strip().lower())
    if match is None or not any(match.groups()):
        raise UsageError(f"--duration {text!r} is not a duration (examples: 30, 30s, 5m, 1h30m)")
    hours, minutes, seconds = (float(group) if group else 0.0 for group in match.groups())
    total = hours * 3600 + minutes * 60 + seconds
    if not math.isfinite(total):
        raise UsageError(f"--duration {text!r} is not a duration (examples: 30, 30s, 5m, 1h30m)")
    if total <= 0:
        raise UsageError(f"--duration {text!r} must be more than zero")
    return total


@contextlib.contextmanager
def interrupted_by_signals() -> Iterator[None]:
    """Within the block, SIGINT and SIGTERM raise KeyboardInterrupt (the CLI exits 130, no traceback).

    For a command that waits on a cluster and has nothing to save yet: it ends at once when asked to,
    also when a shell started it in the background with SIGINT ignored. Main thread only.
    """
    signums = (signal.SIGINT, signal.SIGTERM)
    previous = {signum: signal.signal(signum, signal.default_int_handler) for signum in signums}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def add_speed_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--speed", default="1", help="0.25 to 64, or max (1)")


def model_config() -> ModelConfig:
    """How to fold, from the config file (the alias map); a broken file is a usage error."""
    from adapters.settings import SettingsError
    from adapters.settings import model_config as from_file

    try:
        return from_file()
    except SettingsError as error:
        raise UsageError(str(error)) from None
